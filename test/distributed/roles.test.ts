// MissionLink as separate role processes (two api, settlement, notifier,
// sweeper) on PostgreSQL databases and a NATS JetStream of the test's own,
// driven over HTTP through both api processes while faults are injected:
// kill -9 of the settlement worker inside a batch and of an api process
// mid-request, a crash-point kill of settlement between two steps, NATS
// killed and frozen, the same event published twice, the mail server down.
// Afterwards the books, pledges, settlements, mails and points must be exact.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support/api.ts';
import { httpClient, SseClient, type Answer, type Caller } from '../support/http-client.ts';
import { skipWithoutNats, TestNats } from '../support/nats.ts';
import { createOwnDatabases, type OwnDatabases } from '../support/own-postgres.ts';
import { cleanUpAll, REPO_ROOT, runCommand, sleep, tempDataDir } from '../support/process.ts';
import { roleProcesses, type RoleProcess } from '../support/roles.ts';
import { SmtpSink } from '../support/smtp-sink.ts';

const CH_A = 'roles_main'; // long accept window; a failed mission keeps 20 %
const CH_B = 'roles_quick'; // 3 s accept window: its proposals expire
const KEEP_BPS = 2000;
const VIEWERS = 24;
const BIG_PLEDGES = 300;
const BLOCKER_PLEDGES = 5;
const BATCH = 50; // SETTLEMENT_BATCH_SIZE: the big mission settles in 6 batches
const MAX_UNSETTLED = 30; // missions in flight before the traffic lanes wait
const KINDS = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED_ACTIVE', 'EXPIRED_PROPOSAL'] as const;
type Kind = (typeof KINDS)[number];

interface Fault {
  fault: string;
  atSeconds: number;
  detail?: Record<string, unknown>;
}

describe.skipIf(skipWithoutNats('separate role processes'))('MissionLink as separate role processes', () => {
  const started = Date.now();
  const elapsed = () => Math.round((Date.now() - started) / 100) / 10;
  let nats: TestNats;
  let smtp: SmtpSink;
  let db: OwnDatabases;
  let admin: pg.Pool;
  let nc: NatsConnection | undefined;
  let api1: RoleProcess, api2: RoleProcess, settlement: RoleProcess, notifier: RoleProcess, sweeper: RoleProcess;
  let all: RoleProcess[];
  const sse: SseClient[] = [];
  let supervising = true;

  const figures = {
    postgres: '',
    requests: 0,
    answers: {} as Record<string, number>,
    noAnswer: 0,
    retriedOnOtherApi: 0,
    idempotentReplays: 0,
    users: 0,
    pledges201: 0,
    pledges201ViaApi1: 0,
    bets201: 0,
    faults: [] as Fault[],
    missions: {} as Record<string, number>,
    missionsSettled: 0,
    notifications: 0,
    mails: 0,
    mailResends: 0,
    sseEventsOnApi2: 0,
    slowestMetricsScrapeDuringNatsFaultMs: 0,
    pointsIssued: 0,
    settlementLagSeconds: { p50: 0, max: 0 },
    bigMissionSettleSeconds: 0,
    seconds: 0,
  };
  const fault = (name: string, detail?: Record<string, unknown>) => figures.faults.push({ fault: name, atSeconds: elapsed(), ...(detail ? { detail } : {}) });
  /** Answers that no fault excuses (a 5xx, an unexpected 4xx). */
  const unexpected: string[] = [];

  // ---- traffic helpers: alternate between the api processes, fail over when one does not answer
  let turn = 0;
  const nextApi = () => (turn++ % 2 === 0 ? api1.url : api2.url);
  const otherApi = (url: string) => (url === api1.url ? api2.url : api1.url);
  const client = httpClient(() => nextApi());
  const users = new Map<string, Caller>();
  const pledged = new Map<string, { missionId: string; via: string; key: string; who: Caller; amount: number }>();
  const missionKinds = new Map<string, Kind | 'BIG' | 'STREAM' | 'FAULT'>();

  async function send(method: string, urlPath: string, who: Caller | null, body?: unknown, o: { key?: string; at?: string; failover?: boolean } = {}): Promise<Answer & { via: string }> {
    let at = o.at ?? nextApi();
    for (let attempt = 0; ; attempt++) {
      figures.requests++;
      try {
        const r = await client.call(method, urlPath, who, body, o.key ? { 'idempotency-key': o.key } : {}, at);
        figures.answers[r.status] = (figures.answers[r.status] ?? 0) + 1;
        if (r.headers.get('idempotent-replayed') === 'true') figures.idempotentReplays++;
        // The first attempt may still be committing on a process that is going down.
        if (r.status === 409 && r.body?.code === 'REQUEST_IN_PROGRESS' && attempt < 50) {
          await sleep(200);
          continue;
        }
        if (r.status >= 500) unexpected.push(`${method} ${urlPath} via ${at}: ${r.status} ${JSON.stringify(r.body)}`);
        return { ...r, via: at };
      } catch (err) {
        figures.noAnswer++;
        if (o.failover === false || attempt >= 60) throw err;
        figures.retriedOnOtherApi++;
        await sleep(250);
        at = otherApi(at);
      }
    }
  }

  async function pledge(who: Caller, missionId: string, amount: number, o: { at?: string; key?: string; failover?: boolean } = {}) {
    const key = o.key ?? randomUUID();
    const r = await send('POST', `/api/v1/missions/${missionId}/pledges`, who, { amount }, { key, at: o.at, failover: o.failover });
    if (r.status === 201) {
      expect(r.body.pledge).toMatchObject({ amount, status: 'HELD' });
      if (!pledged.has(r.body.pledge.id)) pledged.set(r.body.pledge.id, { missionId, via: r.via, key, who, amount });
    } else if (!(r.status === 409 && r.body?.code === 'MISSION_NOT_OPEN')) {
      unexpected.push(`pledge ${missionId}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    return r;
  }

  async function propose(who: Caller, channel: string, amount: number, durationSeconds: number, kind: Kind | 'BIG' | 'STREAM' | 'FAULT'): Promise<string> {
    const r = await send('POST', `/api/v1/channels/${channel}/missions`, who, { title: `${kind} mission ${missionKinds.size + 1}`, amount, durationSeconds }, { key: randomUUID() });
    if (r.status !== 201) throw new Error(`propose: ${r.status} ${JSON.stringify(r.body)}`);
    missionKinds.set(r.body.mission.id, kind);
    return r.body.mission.id;
  }

  /** An owner action; a retried one may find its first attempt already applied. */
  async function act(owner: Caller, missionId: string, action: 'accept' | 'reject' | 'cancel' | 'decision', outcome?: 'SUCCEEDED' | 'FAILED') {
    const urlPath = `/api/v1/missions/${missionId}/${action}`;
    const r = await send('POST', urlPath, owner, action === 'decision' ? { outcome } : undefined);
    if (r.status !== 200 && r.status !== 409) unexpected.push(`${action} ${missionId}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  }

  async function bet(who: Caller, missionId: string, side: 'SUCCEEDED' | 'FAILED', points: number) {
    const r = await send('POST', `/api/v1/missions/${missionId}/prediction/bets`, who, { side, points }, { key: randomUUID() });
    if (r.status === 201) figures.bets201++;
    else if (!(r.status === 409 && r.body?.code === 'PREDICTION_LOCKED')) unexpected.push(`bet ${missionId}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  }

  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await admin.query(sql, params)).rows as T[];
  const one = async <T = number>(sql: string, params: unknown[] = []) => Object.values((await admin.query(sql, params)).rows[0] ?? {})[0] as T;

  /** Restarts a role process whenever it dies, like a process supervisor would. */
  function supervise(p: RoleProcess) {
    void (async () => {
      while (supervising) {
        const exit = await p.exited();
        if (!supervising) return;
        fault(`${p.name} exited (${exit.signal ?? exit.code}); restarted by the supervisor`);
        await p.start({ wait: false });
      }
    })();
  }

  let streamer: Caller, quickStreamer: Caller, blocker: Caller;
  /** A mission settled while the mail server was down. */
  let mailWaited = '';
  let viewers: Caller[] = [];

  beforeAll(async () => {
    nats = await TestNats.start();
    smtp = await SmtpSink.start();
    db = await createOwnDatabases({ prefix: 'ml_roles', fallbackAdminUrl: inject('pgSuperUrl') });
    figures.postgres = db.source;
    admin = new pg.Pool({ connectionString: db.adminUrls.funding, max: 4 });
    const dataDir = await tempDataDir();
    const common = { DATABASE_URL_IDENTITY: db.urls.identity, DATABASE_URL_FUNDING: db.urls.funding, NATS_URL: nats.url, MIN_WINDOW_SECONDS: '1', SETTLEMENT_BATCH_SIZE: String(BATCH) };
    all = await roleProcesses(
      [
        { name: 'api-1', roles: 'api' },
        { name: 'api-2', roles: 'api' },
        { name: 'settlement', roles: 'settlement' },
        { name: 'notifier', roles: 'notifier', env: { DATABASE_URL_IDENTITY: undefined, SMTP_URL: smtp.url } },
        { name: 'sweeper', roles: 'sweeper' },
      ],
      dataDir,
      common,
    );
    [api1, api2, settlement, notifier, sweeper] = all as [RoleProcess, RoleProcess, RoleProcess, RoleProcess, RoleProcess];
    // The notifier has no identity database: it asks api-2's internal API.
    notifier.spec.env!.IDENTITY_URL = api2.url;
    // All at once on an empty DATA_DIR and empty databases: migrations and keys race.
    await Promise.all(all.map((p) => p.start()));
  }, 180_000);

  afterAll(async () => {
    supervising = false;
    for (const s of sse) s.close();
    await nc?.close().catch(() => undefined);
    await cleanUpAll();
    await nats?.stop();
    await smtp?.stop();
    await admin?.end().catch(() => undefined);
    await db?.drop();
    figures.seconds = elapsed();
    const text = JSON.stringify(figures);
    console.log(`distributed roles figures: ${text}`);
    const dir = path.join(REPO_ROOT, 'test-artifacts');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'distributed-roles.json'), `${JSON.stringify(figures, null, 2)}\n`);
  }, 60_000);

  it('gives each module its own database and role', async () => {
    expect(db.names.identity).not.toBe(db.names.funding);
    // The funding role may not even connect to the identity database.
    const u = new URL(db.urls.funding);
    u.pathname = `/${db.names.identity}`;
    const c = new pg.Client({ connectionString: u.toString() });
    await expect(c.connect()).rejects.toThrow(/permission denied|not permitted|does not exist|authentication/i);
    await c.end().catch(() => undefined);
    for (const p of all) expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
    // Workers serve health and metrics only.
    for (const p of [settlement, notifier, sweeper]) expect((await fetch(`${p.url}/api/v1/me`)).status, p.name).toBe(404);
    expect(await (await fetch(`${notifier.url}/metrics`)).text()).toContain('missionlink_bus_consumer_lag');
  });

  it('takes traffic through both api processes while faults are injected', async () => {
    // ---- users and channels, through both processes (tokens of one verify on the other)
    streamer = await client.signUp('Streamer', api1.url);
    quickStreamer = await client.signUp('Quick', api2.url);
    blocker = await client.signUp('Blocker', api1.url);
    const signUps: Promise<Caller>[] = [];
    for (let i = 0; i < VIEWERS; i++) signUps.push(client.signUp(`Viewer ${i}`, i % 2 ? api1.url : api2.url));
    viewers = await Promise.all(signUps);
    for (const u of [streamer, quickStreamer, blocker, ...viewers]) users.set(u.id, u);
    figures.users = users.size;
    await client.channel(streamer, CH_A, { acceptWindowSeconds: 600, failureKeepBps: KEEP_BPS }, api2.url);
    await client.channel(quickStreamer, CH_B, { acceptWindowSeconds: 3 }, api1.url);
    await Promise.all([blocker, ...viewers].map((v, i) => client.charge(v, 300_000, i % 2 ? api1.url : api2.url)));

    // Live events of both channels, from api-2.
    for (const ch of [CH_A, CH_B]) sse.push(SseClient.open(`${api2.url}/api/v1/channels/${ch}/events`));
    await Promise.all(sse.map((s) => s.ready()));

    // ---- a mission with a few hundred pledges, settled in batches of BATCH;
    // the settlement worker is killed inside its last batch
    const big = await propose(viewers[0]!, CH_A, 1000, 600, 'BIG');
    expect((await act(streamer, big, 'accept')).status).toBe(200);
    await Promise.all(viewers.slice(1, 9).map((v, i) => bet(v, big, i % 2 ? 'FAILED' : 'SUCCEEDED', 50 + i * 10)));
    const bigBackers = viewers.slice(1);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < BIG_PLEDGES - 1 - BLOCKER_PLEDGES) {
          const n = next++;
          await pledge(bigBackers[n % bigBackers.length]!, big, 1000 + (n % 3) * 500);
        }
      }),
    );
    // The blocker's pledges come last, so they fall into the last batch (ids grow with time).
    for (let i = 0; i < BLOCKER_PLEDGES; i++) expect((await pledge(blocker, big, 1000)).status).toBe(201);
    expect(await one(`SELECT count(*)::int FROM pledges WHERE mission_id = $1`, [big])).toBe(BIG_PLEDGES);
    const resolved = () => one(`SELECT count(*)::int FROM transfers t JOIN pledges p ON t.pending_id = p.hold_transfer_id WHERE p.mission_id = $1`, [big]);
    const held = () => one(`SELECT count(*)::int FROM pledges WHERE mission_id = $1 AND status = 'HELD'`, [big]);

    // Hold the blocker's wallet row: a settlement batch locks every account it
    // touches, so the batch holding the blocker's pledges stops half-way.
    const lock = new pg.Client({ connectionString: db.adminUrls.funding });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query(`SELECT id FROM accounts WHERE ledger = 'KRW' AND code = 'user_wallet' AND owner = $1 FOR UPDATE`, [blocker.id]);
      const lockPid = await lock.query('SELECT pg_backend_pid() AS pid').then((r) => r.rows[0].pid as number);
      const decided = await act(streamer, big, 'decision', 'SUCCEEDED');
      expect(decided.status).toBe(200);
      const blocked = await eventually(async () => (await q<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [lockPid]))[0], 60_000, 100);
      // A mission this large settles in two streams of batches: the other
      // stream may still be inside an earlier batch, and that batch may wait
      // for a wallet the blocked batch has locked already (backers pledge
      // in many batches). Kill once the count of resolved pledges stands
      // still: whole batches only, never the blocked one.
      const before = Math.floor((BIG_PLEDGES - BLOCKER_PLEDGES) / BATCH) * BATCH;
      let seen = -1;
      await eventually(async () => {
        const now = await resolved();
        const still = now === seen;
        seen = now;
        return still && now > 0;
      }, 30_000, 1_000);
      await settlement.kill9();
      const committed = await resolved();
      fault('settlement kill -9 inside a settlement batch', { missionId: big, pledges: BIG_PLEDGES, batchSize: BATCH, settledBeforeTheKill: committed });
      // Only whole batches committed; the blocked one (and any waiting behind it) did not.
      expect(committed % BATCH).toBe(0);
      expect(committed).toBeLessThanOrEqual(before);
      expect(await held()).toBe(BIG_PLEDGES - committed);
      await lock.query('ROLLBACK');
      // The orphaned backend finds its client gone and rolls the batch back.
      await eventually(async () => (await q('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [blocked.pid])).length === 0, 30_000, 100);
      expect(await resolved()).toBe(committed);
      expect(await held()).toBe(BIG_PLEDGES - committed);
      expect(await one(`SELECT settled_at FROM missions WHERE id = $1`, [big])).toBeNull();
    } finally {
      await lock.end();
    }
    const bigDecidedAt = Date.now();
    // Back, with a crash point armed: it kills itself (SIGKILL) after the next
    // committed batch, between moving the money and marking the mission
    // settled; the supervisor then restarts it clean.
    await settlement.start({ env: { MISSIONLINK_CRASH_AT: 'settlement.afterBatch:1' } });
    fault('settlement armed with crash point settlement.afterBatch:1');
    supervise(settlement);

    // ---- mixed traffic in three lanes plus a steady pledge stream, until the faults are done
    const stream = await propose(viewers[1]!, CH_A, 1000, 600, 'STREAM');
    await act(streamer, stream, 'accept');
    let trafficOn = true;
    const laneErrors: unknown[] = [];
    const lanes = Array.from({ length: 3 }, async (_, lane) => {
      for (let i = lane; trafficOn; i += 3) {
        // Back-pressure: a fast machine must not bury the settlement worker in
        // missions (the waits below would grow with it); the pledge stream goes on.
        while (trafficOn && (await one(`SELECT count(*)::int FROM missions WHERE settled_at IS NULL`)) > MAX_UNSETTLED) await sleep(500);
        if (!trafficOn) break;
        await missionScript(i);
        await sleep(200);
      }
    }).map((p) => p.catch((err: unknown) => void laneErrors.push(err)));
    const streamLane = (async () => {
      for (let i = 0; trafficOn; i++) {
        await pledge(viewers[i % VIEWERS]!, stream, 1000);
        await sleep(100);
      }
    })().catch((err: unknown) => void laneErrors.push(err));

    async function missionScript(i: number) {
      const kind = KINDS[i % KINDS.length]!;
      const proposer = viewers[i % VIEWERS]!;
      const backers = [1, 2, 3, 4].map((k) => viewers[(i + k * 5) % VIEWERS]!);
      const quick = kind === 'EXPIRED_PROPOSAL';
      const owner = quick ? quickStreamer : streamer;
      const id = await propose(proposer, quick ? CH_B : CH_A, 1000 + (i % 4) * 500, kind === 'EXPIRED_ACTIVE' ? 3 : 120, kind);
      await pledge(backers[0]!, id, 1500);
      if (quick) {
        await pledge(backers[1]!, id, 1000);
        return; // never accepted: the sweeper expires it after 3 s
      }
      if (kind === 'REJECTED') {
        await pledge(backers[1]!, id, 2000);
        await act(owner, id, 'reject');
        return;
      }
      await act(owner, id, 'accept');
      await Promise.all([bet(backers[1]!, id, 'SUCCEEDED', 20 + (i % 7) * 5), bet(backers[2]!, id, 'FAILED', 30), bet(backers[3]!, id, 'SUCCEEDED', 10)]);
      for (const b of backers.slice(1)) await pledge(b, id, 1000 + (i % 3) * 1000);
      if (kind === 'EXPIRED_ACTIVE') return; // no decision: the sweeper expires it at its deadline
      if (kind === 'CANCELLED') await act(owner, id, 'cancel');
      else await act(owner, id, 'decision', kind);
    }

    /** Every process answers /metrics within a Prometheus scrape timeout (10 s; here 8 s). */
    async function scrapeAll(label: string) {
      for (const p of all) {
        const t = Date.now();
        const res = await fetch(`${p.url}/metrics`, { signal: AbortSignal.timeout(8000) }).catch((err: Error) => {
          throw new Error(`${p.name} /metrics while ${label}: ${err.message}`);
        });
        expect(res.status, `${p.name} /metrics while ${label}`).toBe(200);
        await res.text();
        figures.slowestMetricsScrapeDuringNatsFaultMs = Math.max(figures.slowestMetricsScrapeDuringNatsFaultMs, Date.now() - t);
      }
    }

    /** One full mission life (propose, accept, pledge, bet, decide) that must succeed right now. */
    async function mustWork(label: string) {
      const id = await propose(viewers[2]!, CH_A, 1000, 120, 'FAULT');
      expect((await act(streamer, id, 'accept')).status).toBe(200);
      expect((await pledge(viewers[3]!, id, 2000)).status).toBe(201);
      expect((await bet(viewers[4]!, id, 'FAILED', 25)).status).toBe(201);
      expect((await act(streamer, id, 'decision', 'FAILED')).status, label).toBe(200);
      return id;
    }

    try {
      await sleep(2000);

      // -- kill -9 of api-1 while requests are in flight on it
      const burstKeys: { key: string; who: Caller }[] = [];
      let burstOn = true;
      let inFlightLost = 0;
      let answered = 0;
      const burst = Array.from({ length: 10 }, async (_, w) => {
        for (let i = 0; burstOn; i++) {
          const who = viewers[(w * 3 + i) % VIEWERS]!;
          const key = randomUUID();
          try {
            await pledge(who, stream, 1000, { at: api1.url, key, failover: false });
            answered++;
          } catch {
            inFlightLost++;
            burstKeys.push({ key, who });
            return;
          }
        }
      });
      await eventually(async () => answered >= 15, 30_000, 5);
      await api1.kill9();
      burstOn = false;
      await Promise.all(burst);
      fault('api-1 kill -9 mid-request', { requestsWithoutAnswer: inFlightLost });
      expect(inFlightLost).toBeGreaterThan(0);
      // The client retries what got no answer on api-2, with the same Idempotency-Key.
      for (const { key, who } of burstKeys) expect((await pledge(who, stream, 1000, { at: api2.url, key })).status).toBe(201);
      await api1.start();
      fault('api-1 restarted');
      // A retry that reaches the other process replays the first answer, never a second pledge.
      for (const [id, p] of [...pledged.entries()].filter(([, p]) => p.missionId === stream).slice(0, 6)) {
        const again = await send('POST', `/api/v1/missions/${stream}/pledges`, p.who, { amount: p.amount }, { key: p.key, at: otherApi(p.via) });
        expect(again.status).toBe(201);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.body.pledge.id).toBe(id);
      }

      // -- NATS killed: the API keeps taking pledges and decisions (the outbox holds the events)
      await nats.down();
      fault('NATS kill -9');
      await eventually(async () => (await fetch(`${api2.url}/readyz`)).status === 503, 20_000, 100);
      // Metrics stay available (an operator needs them most now).
      await scrapeAll('NATS down');
      const duringOutage = await mustWork('decision while NATS is down');
      await sleep(4000);
      expect(await one(`SELECT count(*)::int FROM outbox WHERE published_at IS NULL`)).toBeGreaterThan(0);
      await nats.up();
      fault('NATS restarted', { missionDecidedMeanwhile: duringOutage });
      await Promise.all(all.map((p) => eventually(async () => (await fetch(`${p.url}/readyz`).catch(() => undefined))?.status === 200, 60_000, 200)));

      // -- NATS frozen (SIGSTOP) and thawed
      nats.freeze();
      fault('NATS frozen (SIGSTOP)');
      await mustWork('decision while NATS is frozen');
      await scrapeAll('NATS frozen');
      await sleep(3000);
      nats.thaw();
      fault('NATS thawed (SIGCONT)');

      // -- the mail server goes away; mails wait and are retried
      await smtp.down();
      fault('SMTP server down');
      const mailLess = await mustWork('decision while the mail server is down');
      const waited = await eventually(
        async () => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE mission_id = $1 AND status = 'pending' AND attempts > 0`, [mailLess]))[0]!.n > 0,
        90_000,
        200,
      );
      expect(waited).toBe(true);
      await sleep(2000);
      await smtp.up();
      fault('SMTP server back', { missionWhoseMailWaited: mailLess });
      mailWaited = mailLess;
    } finally {
      trafficOn = false;
      await Promise.all([...lanes, streamLane]);
    }
    expect(laneErrors).toEqual([]);

    // ---- end everything that is still open, so that every mission settles
    await act(streamer, stream, 'decision', 'SUCCEEDED');
    await eventually(async () => {
      const open = await q<{ id: string; state: string; channel: string }>(`SELECT id, state, channel FROM missions WHERE state IN ('PROPOSED', 'ACTIVE') AND channel = $1 AND coalesce(deadline, accept_deadline) > now() + interval '5 seconds'`, [CH_A]);
      for (const m of open) await act(streamer, m.id, m.state === 'PROPOSED' ? 'reject' : 'decision', 'SUCCEEDED');
      return (await one(`SELECT count(*)::int FROM missions WHERE state IN ('PROPOSED', 'ACTIVE')`)) === 0;
    }, 60_000, 500);

    await eventually(async () => (await one(`SELECT count(*)::int FROM missions WHERE settled_at IS NULL`)) === 0, 150_000, 500);
    figures.bigMissionSettleSeconds = Math.round(((await one<Date>(`SELECT settled_at FROM missions WHERE id = $1`, [big])).getTime() - bigDecidedAt) / 100) / 10;
    expect(settlement.starts).toBeGreaterThanOrEqual(3); // first start, after the kill, after the crash point
  }, 300_000);

  it('drops the same event published twice (server de-duplication) and re-published under a new id (inbox)', async () => {
    nc = await connect({ servers: nats.url });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const latest = async (topic: string) =>
      (await q<{ id: string; topic: string; key: string; payload: unknown; created_at: Date }>(`SELECT id, topic, key, payload, created_at FROM outbox WHERE topic = $1 ORDER BY created_at DESC LIMIT 1`, [topic]))[0]!;
    const effects = async () => ({
      notifications: await one(`SELECT count(*)::int FROM notifications`),
      live: await one(`SELECT count(*)::int FROM live_events`),
      jobs: await one(`SELECT count(*)::int FROM settlement_jobs`),
      settled: await one(`SELECT count(*)::int FROM outbox WHERE topic = 'mission.settled'`),
      mails: smtp.mails.length,
    });
    const idle = () =>
      eventually(async () => {
        for await (const ci of jsm.consumers.list('MISSIONLINK')) if (ci.num_pending + ci.num_ack_pending > 0) return false;
        return (await one(`SELECT count(*)::int FROM outbox WHERE published_at IS NULL`)) === 0;
      }, 90_000, 250);
    await eventually(async () => (await one(`SELECT count(*)::int FROM notifications WHERE status <> 'sent'`)) === 0, 120_000, 500);
    await idle();
    await sleep(1000);
    const before = await effects();
    for (const topic of ['mission.settled', 'mission.decided', 'pledge.held']) {
      const row = await latest(topic);
      const data = JSON.stringify({ id: row.id, topic: row.topic, key: row.key, payload: row.payload, createdAt: row.created_at.toISOString() });
      const same = await js.publish(`ml.events.${topic}`, data, { msgID: row.id });
      expect(same.duplicate, `${topic} with its own message id`).toBe(true);
      const renamed = await js.publish(`ml.events.${topic}`, data, { msgID: `${row.id}:again` });
      expect(renamed.duplicate).toBe(false);
    }
    fault('same events published twice to NATS (3 with their own message id, 3 under a new one)');
    // Every consumer has acknowledged the re-published copies.
    await idle();
    await sleep(2000);
    expect(await effects()).toEqual(before);
    const dlq = await jsm.streams.info('MISSIONLINK_DLQ');
    expect(dlq.state.messages).toBe(0);
    // The processes' own view: no lag, no dead letters.
    for (const [p, consumer] of [[settlement, 'settlement'], [notifier, 'notifier'], [api1, 'live'], [api2, 'live']] as const) {
      const text = await (await fetch(`${p.url}/metrics`)).text();
      expect(text, p.name).toMatch(new RegExp(`^missionlink_bus_consumer_lag\\{consumer="${consumer}"\\} 0$`, 'm'));
      expect(text, p.name).not.toMatch(/^missionlink_bus_dead_letters_total\{[^}]*\} [1-9]/m);
    }
  }, 200_000);

  it('keeps the books balanced (ledger verify exits 0)', async () => {
    const dataDir = await tempDataDir();
    const run = await runCommand({ dataDir, args: ['ledger', 'verify'], env: { DATABASE_URL_FUNDING: db.urls.funding, LOG_LEVEL: 'warn' } }, 90_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // The report is the pretty-printed JSON document at the end of stdout.
    expect(JSON.parse(run.stdout.slice(run.stdout.lastIndexOf('\n{\n') + 1)).ok).toBe(true);
  }, 120_000);

  it('captured or refunded every pledge that got a 201 exactly once', async () => {
    const rows = await q<{ id: string; amount: string; status: string; captured: string; refunded: string; state: string; keep: number; resolutions: number; flags: number | null; resolved_amount: string | null }>(
      `SELECT p.id, p.amount, p.status, p.captured_amount AS captured, p.refunded_amount AS refunded, m.state, m.failure_keep_bps AS keep,
              (SELECT count(*)::int FROM transfers t WHERE t.pending_id = p.hold_transfer_id) AS resolutions,
              (SELECT t.flags FROM transfers t WHERE t.pending_id = p.hold_transfer_id) AS flags,
              (SELECT t.amount FROM transfers t WHERE t.pending_id = p.hold_transfer_id) AS resolved_amount
         FROM pledges p JOIN missions m ON m.id = p.mission_id`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of pledged.keys()) expect(byId.has(id), `pledge ${id} answered 201 but is not stored`).toBe(true);
    // Retries carried the same Idempotency-Key: no pledge exists twice, none without its 201.
    const missions = await one(`SELECT count(*)::int FROM missions`);
    expect(missions).toBe(missionKinds.size);
    expect(rows.length).toBe(pledged.size + missions);
    const wrong: string[] = [];
    for (const r of rows) {
      const amount = Number(r.amount);
      const capture = r.state === 'SUCCEEDED' ? amount : r.state === 'FAILED' ? Math.floor((amount * r.keep) / 10_000) : 0;
      const status = capture === amount ? 'CAPTURED' : capture === 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
      const ok =
        r.resolutions === 1 && r.status === status && Number(r.captured) === capture && Number(r.refunded) === amount - capture &&
        (capture === 0 ? r.flags === 4 && Number(r.resolved_amount) === amount : r.flags === 2 && Number(r.resolved_amount) === capture);
      if (!ok) wrong.push(JSON.stringify(r));
    }
    expect(wrong).toEqual([]);
    figures.pledges201 = pledged.size;
    figures.pledges201ViaApi1 = [...pledged.values()].filter((p) => p.via === api1.url).length;
    // Nothing is held any more, for anyone.
    for (const u of users.values()) expect((await client.wallet(u)).held).toBe(0);
    expect(unexpected).toEqual([]);
  });

  it('settled every ended mission exactly once', async () => {
    const rows = await q<{ id: string; state: string; settled_at: Date | null; settled_events: number; jobs: number }>(
      `SELECT m.id, m.state, m.settled_at,
              (SELECT count(*)::int FROM outbox o WHERE o.topic = 'mission.settled' AND o.key = m.id::text) AS settled_events,
              (SELECT count(*)::int FROM settlement_jobs j WHERE j.mission_id = m.id AND j.done_at IS NOT NULL) AS jobs
         FROM missions m`,
    );
    for (const r of rows) {
      expect(r.settled_at, r.id).not.toBeNull();
      expect(r.settled_events, r.id).toBe(1);
      expect(r.jobs, r.id).toBe(1);
      figures.missions[r.state] = (figures.missions[r.state] ?? 0) + 1;
    }
    for (const state of ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED']) expect(figures.missions[state], state).toBeGreaterThan(0);
    figures.missionsSettled = rows.length;
    const lags = (await q<{ s: number }>(`SELECT extract(epoch FROM settled_at - decided_at)::float8 AS s FROM missions ORDER BY 1`)).map((r) => r.s);
    figures.settlementLagSeconds = { p50: Math.round(lags[Math.floor(lags.length / 2)]! * 100) / 100, max: Math.round(lags[lags.length - 1]! * 100) / 100 };
  });

  it('sent every backer exactly one result per mission, by mail with a stable Message-ID', async () => {
    const missing = await q(
      `SELECT b.mission_id, b.backer_id FROM (SELECT DISTINCT mission_id, backer_id FROM pledges) b
         LEFT JOIN notifications n ON n.mission_id = b.mission_id AND n.user_id = b.backer_id
        WHERE n.id IS NULL`,
    );
    expect(missing).toEqual([]);
    const dup = await q(`SELECT mission_id, user_id FROM notifications GROUP BY 1, 2 HAVING count(*) > 1`);
    expect(dup).toEqual([]);
    const notes = await q<{ id: string; user_id: string; outcome: string; status: string; state: string }>(
      `SELECT n.id, n.user_id, n.outcome, n.status, m.state FROM notifications n JOIN missions m ON m.id = n.mission_id`,
    );
    const byMessageId = new Map<string, typeof smtp.mails>();
    for (const m of smtp.mails) byMessageId.set(m.messageId, [...(byMessageId.get(m.messageId) ?? []), m]);
    for (const n of notes) {
      expect(n.status).toBe('sent');
      expect(n.outcome).toBe(n.state);
      const copies = byMessageId.get(`<${n.id}@missionlink.local>`) ?? [];
      expect(copies.length, `mail of notification ${n.id}`).toBeGreaterThanOrEqual(1);
      const email = users.get(n.user_id)!.email;
      for (const c of copies) {
        expect(c.envelopeTo).toEqual([email]);
        expect(c.subject).toBe(copies[0]!.subject);
      }
    }
    // The mails of the mission settled during the mail outage failed first, then went out.
    const retried = await q<{ attempts: number; status: string }>(`SELECT attempts, status FROM notifications WHERE mission_id = $1`, [mailWaited]);
    expect(retried.length).toBeGreaterThan(0);
    for (const n of retried) expect(n).toMatchObject({ status: 'sent', attempts: expect.any(Number) });
    expect(Math.max(...retried.map((n) => n.attempts))).toBeGreaterThan(1);
    // No mail that is not one of these notifications.
    expect(byMessageId.size).toBe(notes.length);
    figures.notifications = notes.length;
    figures.mails = smtp.mails.length;
    figures.mailResends = smtp.mails.length - byMessageId.size;
  });

  it('conserved prediction points (wallets + open pools = issued)', async () => {
    const row = (await q<{ issued: string; wallets: string; pools: string; open_pools: string }>(
      `SELECT (SELECT coalesce(sum(debits_posted - credits_posted), 0) FROM accounts WHERE ledger = 'POINTS' AND code = 'points_issuer') AS issued,
              (SELECT coalesce(sum(credits_posted - debits_posted), 0) FROM accounts WHERE ledger = 'POINTS' AND code = 'user_wallet') AS wallets,
              (SELECT coalesce(sum(credits_posted - debits_posted), 0) FROM accounts WHERE ledger = 'POINTS' AND code = 'prediction_pool') AS pools,
              (SELECT coalesce(sum(a.credits_posted - a.debits_posted), 0) FROM accounts a JOIN predictions p ON a.owner LIKE p.mission_id::text || ':%'
                WHERE a.ledger = 'POINTS' AND a.code = 'prediction_pool' AND p.state = 'OPEN') AS open_pools`,
    ))[0]!;
    expect(Number(row.issued)).toBeGreaterThan(0);
    expect(Number(row.wallets) + Number(row.open_pools)).toBe(Number(row.issued));
    expect(Number(row.pools)).toBe(Number(row.open_pools));
    // Every mission ended, so every prediction was paid out or refunded.
    expect(await one(`SELECT count(*)::int FROM predictions WHERE state = 'OPEN'`)).toBe(0);
    expect(figures.bets201).toBeGreaterThan(0);
    figures.pointsIssued = Number(row.issued);
  });

  it('delivered pledges made through api-1 to a live-event client of api-2', async () => {
    const viaApi1 = [...pledged.entries()].filter(([, p]) => p.via === api1.url).map(([id]) => id);
    expect(viaApi1.length).toBeGreaterThan(50);
    await eventually(async () => {
      const seen = new Set(sse.flatMap((s) => s.events.filter((e) => e.event === 'pledge').map((e) => e.data.pledgeId as string)));
      return viaApi1.every((id) => seen.has(id));
    }, 90_000, 250);
    for (const s of sse) {
      const ids = s.events.map((e) => e.id as number);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
    }
    figures.sseEventsOnApi2 = sse.reduce((n, s) => n + s.events.length, 0);
  }, 120_000);
});
