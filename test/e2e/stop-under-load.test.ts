// A busy server stopped the way people and supervisors stop it: `npm start`
// in its own process group, and a signal to the whole group (Ctrl-C in a
// terminal, `kill -- -PGID`, systemd, container runtimes) while registrations,
// logins, charges, pledges, decisions and SSE clients are in flight. Each stop
// must be clean (both log lines, exit 0, no PostgreSQL or watchdog left), and
// an immediate restart on the same DATA_DIR must keep every balance, token and
// idempotency key. Also: a signal that arrives while the server is starting.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  api,
  cleanUpAll,
  killServer,
  leftovers,
  runCommand,
  sleep,
  spawnServer,
  tempDataDir,
  waitFor,
  type ServerProcess,
} from '../support/process.ts';

afterAll(async () => {
  await cleanUpAll();
}, 30_000);

const PASSWORD = 'stop me under load';
let counter = 0;

interface Account {
  email: string;
  accessToken: string;
  refreshToken: string;
}

async function signUp(base: string, name: string): Promise<Account> {
  const email = `${name}.${process.pid}.${++counter}.${Date.now()}@example.com`;
  const reg = await api(base, 'POST', '/api/v1/auth/register', { email, password: PASSWORD, displayName: name });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  const login = await api(base, 'POST', '/api/v1/auth/login', { email, password: PASSWORD });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  return { email, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken };
}

/** A POST with an Idempotency-Key, answered by status, body and the replay header. */
async function keyedPost(base: string, urlPath: string, body: unknown, token: string, key: string) {
  const res = await fetch(`${base}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, replayed: res.headers.get('idempotent-replayed') };
}

async function wallet(base: string, token: string): Promise<{ available: number; held: number }> {
  const w = await api(base, 'GET', '/api/v1/wallet', undefined, token);
  if (w.status !== 200) throw new Error(`wallet: ${w.status} ${JSON.stringify(w.body)}`);
  return { available: w.body.available, held: w.body.held };
}

/** Money a user moved under load: what the server confirmed, and what was sent at all. */
interface Tally {
  account: Account;
  /** A confirmed keyed request, to replay after the restart. */
  confirmed?: { path: string; body: unknown; key: string; answer: unknown };
  acked: number;
  sent: number;
}

/**
 * Mixed traffic against one server until stopped: sign-ups (argon2: CPU-bound
 * work on the server's loop), charges, pledges, propose/accept/decide cycles
 * and open SSE clients on the channel's event stream. Errors once the server
 * goes away are expected and only counted.
 */
class Traffic {
  private running = true;
  private loops: Promise<void>[] = [];
  private streams: http.ClientRequest[] = [];
  inFlight = 0;
  ok = 0;
  sseBytes = 0;

  constructor(
    private readonly base: string,
    private readonly world: World,
  ) {}

  start(): void {
    const { base, world } = this;
    for (let i = 0; i < 6; i++) this.openStream();
    for (let i = 0; i < 2; i++) this.loop(async () => void (await signUp(base, 'rush')));
    for (const t of world.chargers) {
      this.loop(async () => {
        const key = randomUUID();
        const body = { amount: 1_000 };
        t.sent += body.amount;
        const r = await keyedPost(base, '/api/v1/wallet/charges', body, t.account.accessToken, key);
        if (r.status !== 201) throw new Error(`charge ${r.status}`);
        t.acked += body.amount;
        t.confirmed = { path: '/api/v1/wallet/charges', body, key, answer: r.body };
      });
    }
    for (const t of world.pledgers) {
      this.loop(async () => {
        const key = randomUUID();
        const urlPath = `/api/v1/missions/${world.openMission}/pledges`;
        const body = { amount: 1_000 };
        t.sent += body.amount;
        const r = await keyedPost(base, urlPath, body, t.account.accessToken, key);
        if (r.status !== 201) throw new Error(`pledge ${r.status}`);
        t.acked += body.amount;
        t.confirmed = { path: urlPath, body, key, answer: r.body };
      });
    }
    this.loop(async () => {
      const proposed = await keyedPost(
        base,
        `/api/v1/channels/${world.handle}/missions`,
        { title: 'Speedrun under load', amount: 1_000, durationSeconds: 600 },
        world.proposer.accessToken,
        randomUUID(),
      );
      if (proposed.status !== 201) throw new Error(`propose ${proposed.status}`);
      const id = proposed.body.mission.id as string;
      const token = world.streamer.accessToken;
      if ((await api(base, 'POST', `/api/v1/missions/${id}/accept`, undefined, token)).status !== 200) throw new Error('accept');
      const outcome = Math.random() < 0.5 ? 'SUCCEEDED' : 'FAILED';
      if ((await api(base, 'POST', `/api/v1/missions/${id}/decision`, { outcome }, token)).status !== 200) throw new Error('decide');
    });
  }

  private loop(step: () => Promise<void>): void {
    this.loops.push(
      (async () => {
        while (this.running) {
          this.inFlight++;
          try {
            await step();
            this.ok++;
          } catch {
            await sleep(20);
          } finally {
            this.inFlight--;
          }
        }
      })(),
    );
  }

  private openStream(): void {
    const req = http.get(`${this.base}/api/v1/channels/${this.world.handle}/events`, (res) => {
      res.on('data', (chunk: Buffer) => (this.sseBytes += chunk.length));
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    this.streams.push(req);
  }

  /** Stops issuing requests and waits for the ones in flight to settle. */
  async stop(): Promise<void> {
    this.running = false;
    for (const s of this.streams) s.destroy();
    await Promise.all(this.loops);
  }
}

/** What the test set up once and checks after every restart. */
interface World {
  handle: string;
  streamer: Account;
  proposer: Account;
  /** Touched only before the load: its figures must come back exactly. */
  quiet: { account: Account; wallet: { available: number; held: number }; key: string; answer: unknown };
  openMission: string;
  chargers: Tally[];
  pledgers: Tally[];
}

async function setUp(base: string): Promise<World> {
  const streamer = await signUp(base, 'streamer');
  const handle = `load_${Date.now().toString(36)}`;
  const ch = await api(base, 'POST', '/api/v1/channels', { handle, displayName: 'Load' }, streamer.accessToken);
  expect(ch.status, JSON.stringify(ch.body)).toBe(201);
  const proposer = await signUp(base, 'proposer');
  expect((await keyedPost(base, '/api/v1/wallet/charges', { amount: 1_000_000 }, proposer.accessToken, randomUUID())).status).toBe(201);

  const quietAccount = await signUp(base, 'quiet');
  const key = randomUUID();
  const charge = await keyedPost(base, '/api/v1/wallet/charges', { amount: 70_000 }, quietAccount.accessToken, key);
  expect(charge.status).toBe(201);
  const proposed = await keyedPost(
    base,
    `/api/v1/channels/${handle}/missions`,
    { title: 'Stays open', amount: 5_000, durationSeconds: 600 },
    quietAccount.accessToken,
    randomUUID(),
  );
  expect(proposed.status, JSON.stringify(proposed.body)).toBe(201);
  const quietWallet = await wallet(base, quietAccount.accessToken);
  expect(quietWallet).toEqual({ available: 65_000, held: 5_000 });

  const chargers = await Promise.all([1, 2, 3].map(async (i) => ({ account: await signUp(base, `charger${i}`), acked: 0, sent: 0 })));
  const pledgers = await Promise.all(
    [1, 2, 3].map(async (i) => {
      const account = await signUp(base, `pledger${i}`);
      expect((await keyedPost(base, '/api/v1/wallet/charges', { amount: 500_000 }, account.accessToken, randomUUID())).status).toBe(201);
      return { account, acked: 0, sent: 0 };
    }),
  );
  return {
    handle,
    streamer,
    proposer,
    quiet: { account: quietAccount, wallet: quietWallet, key, answer: charge.body },
    openMission: proposed.body.mission.id,
    chargers,
    pledgers,
  };
}

/**
 * After a restart: balances, tokens and idempotency keys as they were. A
 * request in flight at the stop may have committed without its answer
 * arriving, so a loaded user's money lies between what was confirmed and
 * what was sent.
 */
async function expectKept(base: string, world: World, pledgedBefore: Map<Tally, number>): Promise<void> {
  const { quiet } = world;
  expect(await wallet(base, quiet.account.accessToken)).toEqual(quiet.wallet);
  const me = await api(base, 'GET', '/api/v1/me', undefined, quiet.account.accessToken);
  expect(me.status, 'an access token issued before the stop still works').toBe(200);
  expect(me.body.email).toBe(quiet.account.email);
  const refreshed = await api(base, 'POST', '/api/v1/auth/refresh', { refreshToken: quiet.account.refreshToken });
  expect(refreshed.status, `refresh: ${JSON.stringify(refreshed.body)}`).toBe(200);
  quiet.account.refreshToken = refreshed.body.refreshToken;
  const replay = await keyedPost(base, '/api/v1/wallet/charges', { amount: 70_000 }, quiet.account.accessToken, quiet.key);
  expect(replay).toEqual({ status: 201, body: quiet.answer, replayed: 'true' });

  for (const t of world.chargers) {
    const w = await wallet(base, t.account.accessToken);
    expect(w.available).toBeGreaterThanOrEqual(t.acked);
    expect(w.available).toBeLessThanOrEqual(t.sent);
  }
  for (const t of world.pledgers) {
    const w = await wallet(base, t.account.accessToken);
    expect(w.available + w.held, 'pledges only move money from available to held').toBe(500_000);
    const before = pledgedBefore.get(t) ?? 0;
    expect(w.held - before).toBeGreaterThanOrEqual(t.acked);
    expect(w.held - before).toBeLessThanOrEqual(t.sent);
  }
  for (const t of [...world.chargers, ...world.pledgers]) {
    if (!t.confirmed) continue;
    const again = await keyedPost(base, t.confirmed.path, t.confirmed.body, t.account.accessToken, t.confirmed.key);
    expect(again, `replay of ${t.confirmed.path}`).toEqual({ status: 201, body: t.confirmed.answer, replayed: 'true' });
  }
}

/** Nothing (npm, server, watchdog, postmaster, backend) runs for `dataDir` within `ms`. */
async function expectNothingLeft(dataDir: string, ms: number): Promise<void> {
  const clean = await waitFor(async () => (await leftovers(dataDir)).length === 0, Math.max(ms, 0));
  expect(clean, `left running: ${JSON.stringify(await leftovers(dataDir))}`).toBe(true);
}

const msgs = (srv: ServerProcess) => srv.logLines().map((l) => l.msg);

describe('stopping a busy `npm start` through its process group', () => {
  it('stops cleanly on SIGTERM, SIGINT and SIGHUP under load (and is restarted after a SIGKILL); a restart at once keeps balances, tokens and idempotency keys', async () => {
    const dataDir = await tempDataDir();
    const start = () => spawnServer({ dataDir, npm: ['start'], detached: true });
    let srv = await start();
    try {
      await srv.waitReady();
      const world = await setUp(srv.url);

      // SIGKILL last: what systemd sends when a stop overruns, or the OOM
      // killer. The watchdog is then still stopping PostgreSQL when the next
      // start comes, which must wait for it rather than fail.
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL'] as const) {
        // Counted afresh per round; what earlier rounds moved is the new base.
        const pledgedBefore = new Map<Tally, number>();
        for (const t of world.chargers) {
          const w = await wallet(srv.url, t.account.accessToken);
          t.acked = w.available;
          t.sent = w.available;
        }
        for (const t of world.pledgers) {
          pledgedBefore.set(t, (await wallet(srv.url, t.account.accessToken)).held);
          t.acked = 0;
          t.sent = 0;
        }

        const traffic = new Traffic(srv.url, world);
        traffic.start();
        await sleep(2_500);
        expect(traffic.ok, 'the traffic got answers before the stop').toBeGreaterThan(10);
        expect(traffic.inFlight, 'requests in flight when the signal arrives').toBeGreaterThan(0);
        expect(traffic.sseBytes, 'SSE clients are connected').toBeGreaterThan(0);

        const stopped = srv.signalGroup(signal, 10_000);
        if (signal !== 'SIGKILL') {
          // npm forwards SIGTERM and SIGINT to the server, which so gets them
          // twice: at once from the group, and whenever npm gets its turn —
          // late on a busy machine, in the middle of the server's stop. Made
          // certain here (and it is what a second Ctrl-C does).
          await sleep(100);
          try {
            process.kill(-srv.pid, signal);
          } catch {
            // the whole group has exited already
          }
        }
        const stop = await stopped;
        const output = () => `${signal}\n--- stdout ---\n${srv.stdout().slice(-3000)}\n--- stderr ---\n${srv.stderr().slice(-2000)}`;
        expect(stop.timedOut, output()).toBe(false);
        if (signal !== 'SIGKILL') {
          // npm waits for the server on the signals it forwards (SIGTERM,
          // SIGINT), so by its exit everything has stopped; a SIGHUP ends npm
          // itself at once, while the server is still stopping.
          await expectNothingLeft(dataDir, signal === 'SIGHUP' ? 10_000 - stop.ms : 1_000);
          if (signal !== 'SIGHUP') expect(stop, output()).toMatchObject({ code: 0 });
          expect(msgs(srv), output()).toEqual(expect.arrayContaining(['stopping', 'stopped']));
          expect(srv.logLines().find((l) => l.msg === 'stopping')?.reason).toBe(signal);
          // A request in flight at the stop is answered, or refused with a
          // 503 if it arrives after: never cut off half-way into an error
          // (once: a charge's sandbox callback found the HTTP server closed,
          // and pledges found the pools ended under them).
          const errors = srv.logLines().filter((l) => Number(l.level) >= 50);
          expect(errors.map((l) => `${l.msg}: ${JSON.stringify(l.err ?? '').slice(0, 300)}`), output()).toEqual([]);
          // Nor does the stop break its own database connections under it:
          // the pools end before PostgreSQL stops (once: idle clients logged
          // "terminating connection due to administrator command").
          // Expected warnings: a 503 for a request that arrived during the
          // stop, and on SIGHUP the loss of npm, which exits at once.
          const expected = (l: Record<string, unknown>) =>
            (l.msg === 'request' && l.status === 503) || (signal === 'SIGHUP' && l.msg === 'parent process exited');
          const warnings = srv.logLines().filter((l) => Number(l.level) === 40 && !expected(l));
          expect(warnings.map((l) => `${l.msg}: ${JSON.stringify(l.err ?? '').slice(0, 300)}`), output()).toEqual([]);
        }
        await traffic.stop();

        // At once, on the same DATA_DIR.
        srv = await start();
        await srv.waitReady();
        await expectKept(srv.url, world, pledgedBefore);
      }
      const last = await srv.signalGroup('SIGTERM', 10_000);
      expect(last).toMatchObject({ timedOut: false, code: 0 });
      await expectNothingLeft(dataDir, 1_000);

      const verify = await runCommand({ dataDir, args: ['ledger', 'verify'] });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    } finally {
      if (!srv.exitInfo()) await killServer(srv);
    }
  }, 120_000);

  it('stops cleanly when the signal arrives while the server is still starting', async () => {
    const dataDir = await tempDataDir();
    /** Starts `npm start` (debug logs) and signals its group the moment `when` holds. */
    async function interrupt(signal: NodeJS.Signals, when: (srv: ServerProcess) => boolean, what: string): Promise<void> {
      const srv = await spawnServer({ dataDir, npm: ['start'], detached: true, env: { LOG_LEVEL: 'debug' } });
      try {
        const caught = await waitFor(() => when(srv) || srv.exitInfo() !== undefined, 30_000, 5);
        expect(caught && !srv.exitInfo(), `${what}: ${srv.stdout()}${srv.stderr()}`).toBe(true);
        const stop = await srv.signalGroup(signal, 10_000);
        const output = `${what}, ${signal}\n${srv.stdout().slice(-3000)}\n${srv.stderr().slice(-2000)}`;
        expect(stop, output).toMatchObject({ timedOut: false, code: 0 });
        expect(msgs(srv), output).not.toContain('MissionLink is ready');
        expect(msgs(srv), output).toEqual(expect.arrayContaining(['stopping', 'stopped']));
        await expectNothingLeft(dataDir, 1_000);
      } finally {
        if (!srv.exitInfo()) await killServer(srv);
      }
    }
    // During initdb on the empty DATA_DIR (initdb, in our process group, is
    // signalled too and cleans up after itself)…
    await interrupt('SIGTERM', () => existsSync(path.join(dataDir, 'pg')), 'initdb');
    // … and once PostgreSQL accepts connections, while roles and databases
    // are provisioned and migrations run.
    await interrupt('SIGINT', (srv) => srv.stdout().includes('database system is ready to accept connections'), 'migrations');

    const srv = await spawnServer({ dataDir, npm: ['start'], detached: true });
    await srv.waitReady();
    expect((await signUp(srv.url, 'after')).accessToken).toBeTruthy();
    const last = await srv.signalGroup('SIGTERM', 10_000);
    expect(last).toMatchObject({ timedOut: false, code: 0 });
    await expectNothingLeft(dataDir, 1_000);
  }, 90_000);
});
