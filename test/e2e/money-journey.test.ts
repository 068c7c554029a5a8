// The money journey over real HTTP against `npm start` (embedded PostgreSQL,
// real process and socket) with a real SMTP listener: charge → propose →
// pledge → accept → decide → settlement → one result mail per backer; then a
// FAILED and a REJECTED mission the same way. Finally the server stops on
// SIGTERM and `missionlink ledger verify` proves the books on its DATA_DIR.
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailHeader, plainText } from '../support/mail.ts';
import {
  api,
  cleanUpAll,
  freePort,
  leftovers,
  postgresProcesses,
  runCommand,
  spawnServer,
  tempDataDir,
  waitFor,
  type ServerProcess,
} from '../support/process.ts';

// ---- a real SMTP listener that keeps every message's raw RFC 822 text ----------
interface Received {
  envelopeTo: string[];
  raw: string;
}

async function startSmtp(): Promise<{ port: number; mails: Received[]; stop(): Promise<void> }> {
  const port = await freePort();
  const mails: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        done();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { port, mails, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface Mail {
  to: string;
  subject: string;
  messageId: string;
  text: string;
  envelopeTo: string[];
}

function readMail(m: Received): Mail {
  return {
    to: mailHeader(m.raw, 'To'),
    subject: mailHeader(m.raw, 'Subject'),
    messageId: mailHeader(m.raw, 'Message-ID'),
    text: plainText(m.raw),
    envelopeTo: m.envelopeTo,
  };
}

const krw = (n: number) => `${n.toLocaleString('en-US')} KRW`;

// ---- the journey -------------------------------------------------------------------
describe('money journey through `npm start` with a real SMTP server', () => {
  let srv: ServerProcess;
  let dataDir: string;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let base: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    dataDir = await tempDataDir();
    srv = await spawnServer({
      dataDir,
      npm: ['start'],
      env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, LOG_LEVEL: 'info' },
    });
    await srv.waitReady(60_000);
    base = srv.url;
  }, 90_000);

  afterAll(async () => {
    await cleanUpAll();
    await smtp?.stop();
  }, 30_000);

  interface User {
    token: string;
    id: string;
    email: string;
  }
  async function signUp(name: string): Promise<User> {
    const email = `${name.toLowerCase()}.${process.pid}.${Date.now()}@example.kr`;
    const password = 'a long password';
    const reg = await api(base, 'POST', '/api/v1/auth/register', {
      email,
      password,
      displayName: name,
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const login = await api(base, 'POST', '/api/v1/auth/login', { email, password });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    return { token: login.body.accessToken, id: reg.body.user.id, email };
  }
  const call = (who: User | null, method: string, path: string, body?: unknown) =>
    api(base, method, path, body, who?.token);
  const wallet = async (who: User) => (await call(who, 'GET', '/api/v1/wallet')).body;
  const earnings = async (who: User) => (await call(who, 'GET', '/api/v1/streamer/earnings')).body;

  async function settledMission(id: string) {
    let last: unknown;
    const mission = await waitFor(
      async () => {
        const res = await call(null, 'GET', `/api/v1/missions/${id}`);
        last = res.body;
        return res.status === 200 && res.body.mission.settledAt ? res.body.mission : undefined;
      },
      15_000,
      50,
    );
    if (!mission)
      throw new Error(
        `mission ${id} was not settled in time: ${JSON.stringify(last)}\n${srv.stdout().slice(-3000)}`,
      );
    return mission;
  }

  /** Waits for the mails of one mission (by its title), then makes sure no extra ones follow. */
  async function mailsFor(title: string, expected: number): Promise<Mail[]> {
    const mine = () => smtp.mails.map(readMail).filter((m) => m.subject.includes(title));
    await waitFor(() => mine().length >= expected, 20_000, 50);
    await new Promise((r) => setTimeout(r, 1_500)); // a duplicate would arrive by now
    return mine();
  }

  let streamer: User;
  let v1: User;
  let v2: User;
  const handle = `journey_${process.pid % 100_000}`;
  const FEE_BPS = 500;
  const KEEP_BPS = 2_000;

  it('succeeds: holds, captures, pays 95 % to the streamer, mails each backer once', async () => {
    [streamer, v1, v2] = await Promise.all([
      signUp('Streamer'),
      signUp('Viewer1'),
      signUp('Viewer2'),
    ]);
    const ch = await call(streamer, 'POST', '/api/v1/channels', {
      handle,
      displayName: 'Journey',
      settings: { failureKeepBps: KEEP_BPS },
    });
    expect(ch.status, JSON.stringify(ch.body)).toBe(201);
    for (const v of [v1, v2]) {
      const c = await call(v, 'POST', '/api/v1/wallet/charges', { amount: 100_000 });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      expect(c.body.charge).toMatchObject({ amount: 100_000, status: 'succeeded' });
      expect(await wallet(v)).toEqual({
        available: 100_000,
        held: 0,
        currency: 'KRW',
        points: 1_000,
        owed: 0,
      });
    }

    const title = 'Beat the boss blindfolded';
    const p = await call(v1, 'POST', `/api/v1/channels/${handle}/missions`, {
      title,
      amount: 10_000,
      durationSeconds: 600,
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const id = p.body.mission.id;
    expect(await wallet(v1)).toMatchObject({ available: 90_000, held: 10_000 });
    const pl = await call(v2, 'POST', `/api/v1/missions/${id}/pledges`, { amount: 5_000 });
    expect(pl.status, JSON.stringify(pl.body)).toBe(201);
    expect(await wallet(v2)).toMatchObject({ available: 95_000, held: 5_000 });
    expect((await call(streamer, 'POST', `/api/v1/missions/${id}/accept`)).body.mission.state).toBe(
      'ACTIVE',
    );
    expect(await earnings(streamer)).toEqual({ settled: 0, pending: 15_000, withdrawable: 0, withdrawn: 0, inFlight: 0, currency: 'KRW' });
    const d = await call(streamer, 'POST', `/api/v1/missions/${id}/decision`, {
      outcome: 'SUCCEEDED',
    });
    expect(d.status, JSON.stringify(d.body)).toBe(200);

    const done = await settledMission(id);
    expect(done).toMatchObject({ state: 'SUCCEEDED', pledgedAmount: 15_000, backerCount: 2 });
    expect(await wallet(v1)).toEqual({
      available: 90_000,
      held: 0,
      currency: 'KRW',
      points: 1_000,
      owed: 0,
    });
    expect(await wallet(v2)).toEqual({
      available: 95_000,
      held: 0,
      currency: 'KRW',
      points: 1_000,
      owed: 0,
    });
    const fee = Math.floor((15_000 * FEE_BPS) / 10_000);
    expect(fee).toBe(750);
    expect(await earnings(streamer)).toEqual({
      settled: 15_000 - fee,
      pending: 0,
      withdrawable: 15_000 - fee,
      withdrawn: 0,
      inFlight: 0,
      currency: 'KRW',
    });

    const mails = await mailsFor(title, 2);
    expect(mails).toHaveLength(2);
    for (const [who, pledged] of [
      [v1, 10_000],
      [v2, 5_000],
    ] as const) {
      const mine = mails.filter((m) => m.to.includes(who.email));
      expect(mine, `mails to ${who.email}`).toHaveLength(1);
      const mail = mine[0]!;
      expect(mail.envelopeTo).toEqual([who.email]);
      expect(mail.subject).toContain(title);
      expect(mail.subject).toContain('SUCCEEDED');
      expect(mail.messageId).toMatch(/^<.+@.+>$/);
      expect(mail.text).toContain(`You pledged: ${krw(pledged)}`);
      expect(mail.text).toContain(`Captured for the streamer: ${krw(pledged)}`);
      expect(mail.text).toContain(`Refunded to your wallet: ${krw(0)}`);
    }
  }, 60_000);

  it('fails: refunds all but the channel’s keep share, pays the kept part minus the fee, mails each backer once', async () => {
    const title = 'Finish the marathon in one sitting';
    const before = {
      v1: await wallet(v1),
      v2: await wallet(v2),
      earned: (await earnings(streamer)).settled,
    };
    const p = await call(v1, 'POST', `/api/v1/channels/${handle}/missions`, {
      title,
      amount: 8_000,
      durationSeconds: 600,
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const id = p.body.mission.id;
    expect(p.body.mission.failureKeepBps).toBe(KEEP_BPS);
    expect(
      (await call(v2, 'POST', `/api/v1/missions/${id}/pledges`, { amount: 4_001 })).status,
    ).toBe(201);
    expect((await call(streamer, 'POST', `/api/v1/missions/${id}/accept`)).status).toBe(200);
    expect(
      (await call(streamer, 'POST', `/api/v1/missions/${id}/decision`, { outcome: 'FAILED' }))
        .status,
    ).toBe(200);
    const again = await call(streamer, 'POST', `/api/v1/missions/${id}/decision`, {
      outcome: 'SUCCEEDED',
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('MISSION_ALREADY_DECIDED');

    await settledMission(id);
    const keep = (a: number) => Math.floor((a * KEEP_BPS) / 10_000);
    expect(keep(8_000)).toBe(1_600);
    expect(keep(4_001)).toBe(800);
    expect(await wallet(v1)).toMatchObject({
      available: before.v1.available - keep(8_000),
      held: 0,
    });
    expect(await wallet(v2)).toMatchObject({
      available: before.v2.available - keep(4_001),
      held: 0,
    });
    const kept = keep(8_000) + keep(4_001);
    const fee = Math.floor((kept * FEE_BPS) / 10_000);
    expect(await earnings(streamer)).toEqual({
      settled: before.earned + kept - fee,
      pending: 0,
      withdrawable: before.earned + kept - fee,
      withdrawn: 0,
      inFlight: 0,
      currency: 'KRW',
    });

    const mails = await mailsFor(title, 2);
    expect(mails).toHaveLength(2);
    for (const [who, pledged] of [
      [v1, 8_000],
      [v2, 4_001],
    ] as const) {
      const mine = mails.filter((m) => m.to.includes(who.email));
      expect(mine, `mails to ${who.email}`).toHaveLength(1);
      expect(mine[0]!.subject).toContain('FAILED');
      expect(mine[0]!.text).toContain(`You pledged: ${krw(pledged)}`);
      expect(mine[0]!.text).toContain(`Captured for the streamer: ${krw(keep(pledged))}`);
      expect(mine[0]!.text).toContain(`Refunded to your wallet: ${krw(pledged - keep(pledged))}`);
    }
  }, 60_000);

  it('rejected: refunds everything, pays nothing, mails each backer once', async () => {
    const title = 'Sing the anthem backwards';
    const before = { v1: await wallet(v1), v2: await wallet(v2), earned: await earnings(streamer) };
    const p = await call(v2, 'POST', `/api/v1/channels/${handle}/missions`, {
      title,
      amount: 3_000,
      durationSeconds: 600,
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const id = p.body.mission.id;
    expect(
      (await call(v1, 'POST', `/api/v1/missions/${id}/pledges`, { amount: 2_000 })).status,
    ).toBe(201);
    expect(await wallet(v1)).toMatchObject({ available: before.v1.available - 2_000, held: 2_000 });
    const r = await call(streamer, 'POST', `/api/v1/missions/${id}/reject`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.mission.state).toBe('REJECTED');

    await settledMission(id);
    expect(await wallet(v1)).toEqual(before.v1);
    expect(await wallet(v2)).toEqual(before.v2);
    expect(await earnings(streamer)).toEqual(before.earned);

    const mails = await mailsFor(title, 2);
    expect(mails).toHaveLength(2);
    for (const [who, pledged] of [
      [v1, 2_000],
      [v2, 3_000],
    ] as const) {
      const mine = mails.filter((m) => m.to.includes(who.email));
      expect(mine, `mails to ${who.email}`).toHaveLength(1);
      expect(mine[0]!.subject).toContain('REJECTED');
      expect(mine[0]!.text).toContain(`You pledged: ${krw(pledged)}`);
      expect(mine[0]!.text).toContain(`Refunded to your wallet: ${krw(pledged)}`);
    }
    // Six result mails in all, every Message-ID distinct.
    expect(smtp.mails).toHaveLength(6);
    expect(new Set(smtp.mails.map((m) => readMail(m).messageId)).size).toBe(6);
  }, 60_000);

  it('stops on SIGTERM, and `missionlink ledger verify` proves the books on its DATA_DIR', async () => {
    const sent = Date.now();
    const stop = await srv.signal('SIGTERM', 10_000);
    expect(stop, srv.stderr().slice(-2000)).toMatchObject({ timedOut: false });
    // npm itself may die of the signal at once; the server behind it stops cleanly
    // (PostgreSQL included) within 10 s, and says so.
    expect(stop.code === 0 || stop.signal === 'SIGTERM', JSON.stringify(stop)).toBe(true);
    const gone = await waitFor(
      async () =>
        (await leftovers(dataDir)).length === 0 && (await postgresProcesses(dataDir)).length === 0,
      10_000,
    );
    expect(gone, JSON.stringify(await leftovers(dataDir))).toBe(true);
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(srv.stdout()).toContain('"msg":"stopped"');

    const verify = await runCommand(
      { dataDir, args: ['ledger', 'verify'], env: { LOG_LEVEL: 'warn' } },
      60_000,
    );
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
    const report = JSON.parse(verify.stdout.slice(verify.stdout.indexOf('{\n')));
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.transfers).toBeGreaterThan(0);

    // And what the payment provider (the sandbox's own books) reports agrees with ours.
    const reconcile = await runCommand(
      { dataDir, args: ['reconcile', '--from', '2020-01-01', '--to=2100-01-01'], env: { LOG_LEVEL: 'warn' } },
      60_000,
    );
    expect(reconcile.code, `${reconcile.stdout}\n${reconcile.stderr}`).toBe(0);
  }, 120_000);
});
