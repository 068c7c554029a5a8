// kill -9 in the middle of the money flow. Each scenario runs the real
// `missionlink start` (embedded PostgreSQL, real SMTP server in this process)
// with one crash point armed (MISSIONLINK_CRASH_AT, see src/platform/faults.ts):
// the process SIGKILLs itself there (relay.beforePublish and .afterPublish
// around a decision's event, settlement.afterBatch in a 301-pledge settlement,
// notifier.afterSend after the SMTP server accepted a mail). It is then restarted on the same DATA_DIR
// without the crash point, and every effect must have happened exactly once:
// balances and earnings, one settlement per mission, one notification row and
// at least one mail per backer (a resend carries the same Message-ID), and
// `missionlink ledger verify` passes. The scenarios run side by side, each on
// its own DATA_DIR and SMTP server. Recovery waits for the dead process's
// leases to lapse (relay 10 s, settlement job and mail claims 15 s).
import { afterAll, describe, expect, it } from 'vitest';
import { captureOf, feeSplit } from '../../src/settlement/worker.ts';
import type { Caller } from '../support/http-client.ts';
import { crashed, decodeHeader, ledgerVerify, Stage, until } from '../support/money-process.ts';
import { cleanUpAll } from '../support/process.ts';

const FEE_BPS = 500;
const BATCH = 25;
afterAll(async () => {
  await cleanUpAll();
  await Promise.all(Stage.sinks.map((s) => s.stop()));
}, 30_000);

/** A stage with this file's settlement settings. */
const newStage = () => Stage.create({ SETTLEMENT_BATCH_SIZE: String(BATCH), PLATFORM_FEE_BPS: String(FEE_BPS) });

interface Pledged {
  backer: Caller;
  amount: number;
}

/** Users, a channel and a proposed mission with its pledges; returns what each pledge was. */
async function setUp(stage: Stage, handle: string, nBackers: number, nPledges: number, settings: Record<string, number> = {}) {
  const { api } = stage;
  const [streamer, ...backers] = await Promise.all([`${handle} streamer`, ...Array.from({ length: nBackers }, (_, i) => `${handle} backer ${i}`)].map((n) => api.signUp(n)));
  await api.channel(streamer!, handle, settings);
  const charged = 1_000_000;
  await Promise.all(backers.map((b) => api.charge(b, charged)));
  const title = `Crash test ${handle}`;
  const proposal = await api.propose(backers[0]!, handle, 10_000, 600, title);
  expect(proposal.status, JSON.stringify(proposal.body)).toBe(201);
  const id = proposal.body.mission.id as string;
  const pledged: Pledged[] = [{ backer: backers[0]!, amount: 10_000 }];
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < nPledges) {
        const i = next++;
        const p = { backer: backers[i % backers.length]!, amount: 1_000 + ((i * 37) % 1_000) };
        const r = await api.call('POST', `/api/v1/missions/${id}/pledges`, p.backer, { amount: p.amount });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        pledged.push(p);
      }
    }),
  );
  const acc = await api.call('POST', `/api/v1/missions/${id}/accept`, streamer);
  expect(acc.status, JSON.stringify(acc.body)).toBe(200);
  return { streamer: streamer!, backers, charged, id, title, pledged };
}

type World = Awaited<ReturnType<typeof setUp>>;

/**
 * After the restart: the mission settles, every mail goes out, and every
 * effect happened exactly once.
 */
async function expectExactlyOnce(stage: Stage, w: World, outcome: 'SUCCEEDED' | 'FAILED', keepBps: number) {
  const { api } = stage;
  const mission = await until('the mission is settled', async () => {
    const m = await api.mission(w.id);
    return m.settledAt ? m : undefined;
  });
  expect(mission.state).toBe(outcome);
  const backers = new Set(w.pledged.map((p) => p.backer));
  await until('every result mail is sent', async () => {
    const [r] = await stage.query(`SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, count(*)::int AS n FROM notifications WHERE mission_id = $1`, [w.id]);
    return r!.n === backers.size && r!.sent === r!.n;
  });

  // Money: each pledge captured/refunded once by the outcome's rule.
  const captured = new Map<Caller, number>();
  let total = 0;
  for (const p of w.pledged) {
    const c = captureOf(outcome, p.amount, keepBps);
    captured.set(p.backer, (captured.get(p.backer) ?? 0) + c);
    total += c;
  }
  for (const b of backers) expect(await api.wallet(b), b.displayName).toMatchObject({ available: w.charged - captured.get(b)!, held: 0 });
  const split = feeSplit(total, FEE_BPS);
  expect((await api.call('GET', '/api/v1/streamer/earnings', w.streamer)).body).toEqual({ settled: split.streamer, pending: 0, withdrawable: split.streamer, withdrawn: 0, inFlight: 0, currency: 'KRW' });

  const [once] = await stage.query(
    `SELECT (SELECT count(*) FROM pledges WHERE mission_id = $1)::int AS pledges,
            (SELECT count(*) FROM pledges p WHERE mission_id = $1 AND status <> 'HELD'
               AND (SELECT count(*) FROM transfers r WHERE r.pending_id = p.hold_transfer_id) = 1)::int AS resolved_once,
            (SELECT count(*) FROM outbox WHERE key = $1::text AND topic = 'mission.settled')::int AS settled_events,
            (SELECT count(*) FROM settlement_jobs WHERE mission_id = $1 AND done_at IS NOT NULL)::int AS jobs_done,
            (SELECT coalesce(sum(amount), 0) FROM transfers WHERE mission_id = $1 AND code IN ('streamer_payout', 'platform_fee'))::bigint AS paid_out`,
    [w.id],
  );
  expect(once).toEqual({ pledges: w.pledged.length, resolved_once: w.pledged.length, settled_events: 1, jobs_done: 1, paid_out: total });

  // Mail: one notification row per backer; every backer got the mail, and all
  // copies of one notification carry its one Message-ID.
  const rows = await stage.query<{ user_id: string; id: string; status: string }>('SELECT user_id, id, status FROM notifications WHERE mission_id = $1', [w.id]);
  expect(rows).toHaveLength(backers.size);
  const ids = new Set<string>();
  for (const b of backers) {
    const mine = stage.smtp.mails.filter((m) => m.envelopeTo.includes(b.email));
    expect(mine.length, `mails to ${b.email}`).toBeGreaterThanOrEqual(1);
    const messageIds = new Set(mine.map((m) => m.messageId));
    expect(messageIds.size, `Message-IDs of the mails to ${b.email}`).toBe(1);
    const row = rows.find((r) => r.user_id === b.id)!;
    expect([...messageIds][0]).toBe(`<${row.id}@missionlink.local>`);
    for (const m of mine) {
      const subject = decodeHeader(m.subject);
      expect(subject).toContain(w.title);
      expect(subject).toContain(outcome);
    }
    ids.add([...messageIds][0]!);
  }
  expect(ids.size).toBe(backers.size);
}

/** Stops the server cleanly; `missionlink ledger verify` must then prove the books. */
async function stopAndVerify(stage: Stage) {
  await stage.stop();
  const verify = await ledgerVerify(stage.dataDir);
  expect(verify.report.problems).toEqual([]);
  expect(verify.report.ok).toBe(true);
  expect(verify.code, verify.output).toBe(0);
}

describe('crash (kill -9) between two steps of the money flow', { timeout: 150_000 }, () => {
  for (const [point, what] of [
    ['relay.beforePublish', 'a decision committed but not yet published is published and settled once after the restart'],
    ['relay.afterPublish', 'a decision published but not marked so is published again, and consumed once'],
  ] as const) {
    it.concurrent(`${point}: ${what}`, async () => {
      const stage = await newStage();
      await stage.start();
      const handle = point === 'relay.beforePublish' ? 'crash_relay' : 'crash_relay2';
      const w = await setUp(stage, handle, 3, 6);
      // Everything so far is on the bus before the armed restart, so the
      // decision's event is the first one the relay takes.
      await until('the outbox is drained', async () => (await stage.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL'))[0]!.n === 0);
      await stage.stop();

      const srv = await stage.start(point);
      // The process may die before it answers: the decision commits first.
      await stage.api.call('POST', `/api/v1/missions/${w.id}/decision`, w.streamer, { outcome: 'SUCCEEDED' }).catch(() => undefined);
      await crashed(srv, point);

      await stage.start();
      // The event was taken by the relay before the crash and is published
      // after it, once the dead relay's lease ran out (for afterPublish: a
      // second time, and the consumers' inboxes drop the copy). Only then are
      // the effects counted.
      const event = await until('the decision event is published after the restart', async () => {
        const [e] = await stage.query<{ id: string; attempts: number; published: boolean }>(
          `SELECT id, attempts, (published_at IS NOT NULL) AS published FROM outbox WHERE key = $1 AND topic = 'mission.decided'`,
          [w.id],
        );
        return e?.published ? e : undefined;
      });
      expect(event.attempts).toBeGreaterThanOrEqual(2);
      await expectExactlyOnce(stage, w, 'SUCCEEDED', 0);
      const inbox = await stage.query<{ consumer: string; n: number }>('SELECT consumer, count(*)::int AS n FROM inbox WHERE event_id = $1 GROUP BY consumer', [event.id]);
      expect(inbox.find((r) => r.consumer === 'settlement')?.n).toBe(1);
      await stopAndVerify(stage);
    });
  }

  it.concurrent('settlement.afterBatch: a settlement cut off between batches resumes where it stopped', async () => {
    const stage = await newStage();
    const keep = 2_000;
    const srv = await stage.start(`settlement.afterBatch:4`);
    const w = await setUp(stage, 'crash_batch', 6, 300, { failureKeepBps: keep });
    const dec = await stage.api.call('POST', `/api/v1/missions/${w.id}/decision`, w.streamer, { outcome: 'FAILED' });
    expect(dec.status).toBe(200);
    await crashed(srv, 'settlement.afterBatch:4');

    await stage.start();
    // Four batches had committed; the rest was still held.
    const [progress] = await stage.query(`SELECT count(*) FILTER (WHERE status <> 'HELD')::int AS done, count(*)::int AS n FROM pledges WHERE mission_id = $1`, [w.id]);
    expect(progress!.n).toBe(301);
    expect(progress!.done).toBeGreaterThanOrEqual(4 * BATCH);
    await expectExactlyOnce(stage, w, 'FAILED', keep);
    await stopAndVerify(stage);
  });

  it.concurrent('notifier.afterSend: a mail accepted but not recorded is resent with the same Message-ID', async () => {
    const stage = await newStage();
    const srv = await stage.start('notifier.afterSend');
    const w = await setUp(stage, 'crash_mail', 5, 10);
    const dec = await stage.api.call('POST', `/api/v1/missions/${w.id}/decision`, w.streamer, { outcome: 'SUCCEEDED' });
    expect(dec.status).toBe(200);
    await crashed(srv, 'notifier.afterSend');
    const beforeRestart = stage.smtp.mails.length;
    expect(beforeRestart).toBeGreaterThanOrEqual(1);

    await stage.start();
    await expectExactlyOnce(stage, w, 'SUCCEEDED', 0);
    // The mail the crash cut off was sent again: a second copy, same Message-ID.
    const byId = new Map<string, number>();
    for (const m of stage.smtp.mails) byId.set(m.messageId, (byId.get(m.messageId) ?? 0) + 1);
    expect([...byId.values()].some((n) => n >= 2), JSON.stringify([...byId])).toBe(true);
    await stopAndVerify(stage);
  });
});
