import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { balancesOf, ensureAccount, ensureAccounts, ledgerErrorOf, transferCall, transfersCall } from '../ledger/index.ts';
import { Batcher } from '../platform/batcher.ts';
import { isDeadlock, isUniqueViolation, tx, type Client, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { completeKey, createdOnce, keyLock, replayOf, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import { decodeCursor, encodeCursor } from '../platform/ids.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { ChannelService } from './channels.ts';

/**
 * A mission's escrow is split over this many ledger accounts (and its totals
 * over as many rows); each pledge picks one at random, so concurrent pledges
 * to one popular mission rarely wait on the same row lock.
 */
export const ESCROW_SLOTS = 8;

export const MISSION_STATES = ['PROPOSED', 'ACTIVE', 'SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED'] as const;
export type MissionState = (typeof MISSION_STATES)[number];
export const TERMINAL: ReadonlySet<MissionState> = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED']);

export interface Mission {
  id: string;
  channel: string;
  title: string;
  description: string | null;
  state: MissionState;
  pledgedAmount: number;
  backerCount: number;
  durationSeconds: number;
  failureKeepBps: number;
  createdAt: string;
  acceptDeadline: string;
  acceptedAt: string | null;
  deadline: string | null;
  decidedAt: string | null;
  settledAt: string | null;
  createdBy: string;
}

export interface Pledge {
  id: string;
  missionId: string;
  amount: number;
  status: 'HELD' | 'CAPTURED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
  backerName: string;
  createdAt: string;
}

export interface MissionRow {
  id: string;
  channel: string;
  channel_owner_id: string;
  title: string;
  description: string | null;
  state: MissionState;
  duration_seconds: number;
  failure_keep_bps: number;
  min_amount: number;
  max_amount: number;
  created_by: string;
  created_at: Date;
  accept_deadline: Date;
  accepted_at: Date | null;
  deadline: Date | null;
  decided_at: Date | null;
  settled_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toMission(r: MissionRow & { pledged_amount: number | string | null; backer_count: number | string | null }): Mission {
  return {
    id: r.id,
    channel: r.channel,
    title: r.title,
    description: r.description,
    state: r.state,
    pledgedAmount: Number(r.pledged_amount ?? 0),
    backerCount: Number(r.backer_count ?? 0),
    durationSeconds: r.duration_seconds,
    failureKeepBps: r.failure_keep_bps,
    createdAt: r.created_at.toISOString(),
    acceptDeadline: r.accept_deadline.toISOString(),
    acceptedAt: iso(r.accepted_at),
    deadline: iso(r.deadline),
    decidedAt: iso(r.decided_at),
    settledAt: iso(r.settled_at),
    createdBy: r.created_by,
  };
}

const MISSION_WITH_TOTALS = `
  SELECT m.*, m.created_at::text AS at_text, t.pledged_amount, t.backer_count
    FROM missions m
    LEFT JOIN LATERAL (
      SELECT sum(amount)::bigint AS pledged_amount, sum(backers)::bigint AS backer_count
        FROM mission_totals WHERE mission_id = m.id) t ON true`;

/** Pledged total and backer count of a mission, summed over its slots (see missionTotalsOf). */
export interface MissionTotals {
  pledgedAmount: number;
  backerCount: number;
}

/** Totals of several missions in one query (the live writer's batches). */
export async function missionTotalsOf(c: Queryable, missionIds: string[]): Promise<Map<string, MissionTotals>> {
  const totals = new Map<string, MissionTotals>();
  if (missionIds.length === 0) return totals;
  const { rows } = await c.query<{ mission_id: string; amount: number; backers: number }>({
    name: 'mission-totals-of',
    text: `SELECT mission_id, sum(amount)::bigint AS amount, sum(backers)::bigint AS backers
             FROM mission_totals WHERE mission_id = ANY($1::uuid[]) GROUP BY mission_id`,
    values: [missionIds],
  });
  for (const r of rows) totals.set(r.mission_id, { pledgedAmount: Number(r.amount), backerCount: Number(r.backers) });
  return totals;
}

/** Hooks other modules attach to mission transitions, run inside the same transaction. */
export interface MissionHooks {
  onAccepted?: (c: Queryable, mission: MissionRow & { accepted_at: Date; deadline: Date }) => Promise<void>;
}

export interface MissionDeps {
  pool: Pool;
  channels: ChannelService;
  displayNameOf: (userId: string) => Promise<string>;
  /** Called after a commit that enqueued events. */
  eventsCommitted: () => void;
  hooks?: MissionHooks;
  metrics?: Metrics;
}

export type Decision = 'SUCCEEDED' | 'FAILED';

/** A pledge waiting for its batch. */
interface HoldRequest {
  missionId: string;
  userId: string;
  backerName: string;
  amount: number;
  at: Date;
  /** Stored with the pledge, in the same statement, when the request has one. */
  key?: IdempotencyKey;
}

type PledgeOutcome = Outcome<{ pledge: Pledge }>;

/** Pledges per batch, at most, and batches in flight at once (see Batcher). */
const PLEDGE_BATCH = 64;
const PLEDGE_BATCH_SLOTS = 2;

/** Advisory-lock class of missions (the two-key space, apart from single-key locks elsewhere). */
const MISSION_LOCK_CLASS = 72_202;

/**
 * Queues on a mission in arrival order: pledges share it, transitions hold it
 * alone. Row locks alone are not fair: new FOR SHARE lockers overtake a
 * waiting FOR UPDATE, so a stream of pledges could hold a decision back for as
 * long as it lasts; PostgreSQL's lock manager makes a new shared request wait
 * behind a waiting exclusive one.
 */
export async function lockMission(c: Queryable, missionId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await c.query(`SELECT ${fn}($1, hashtext($2))`, [MISSION_LOCK_CLASS, missionId]);
}

/**
 * Missions and pledges: the state machine of API.md. Every transition locks
 * the mission row; pledges take a share lock on it, so a decision waits for
 * pledges in flight (they are settled with it) and later pledges see the new
 * state (and are refused without holding anything).
 */
export class MissionService {
  /** Pledges, with or without an Idempotency-Key, held in batches (holdAll). */
  private readonly holds = new Batcher<HoldRequest, PledgeOutcome>({ maxBatch: PLEDGE_BATCH, slots: PLEDGE_BATCH_SLOTS, run: (items) => this.holdAll(items) });

  constructor(private readonly deps: MissionDeps) {}

  private get pool() {
    return this.deps.pool;
  }

  /**
   * A viewer proposes a mission to a channel; `amount` is held from their
   * wallet at once as the first pledge.
   */
  async propose(
    userId: string,
    handle: string,
    input: { title: string; description?: string; amount: number; durationSeconds: number },
    key: IdempotencyKey | undefined,
    now: Date,
  ): Promise<Outcome<{ mission: Mission }>> {
    const channel = await this.deps.channels.row(handle);
    if (channel.owner_id === userId) throw new AppError('FORBIDDEN', 'Streamers cannot propose missions to their own channel');
    checkAmount(input.amount, channel.mission_min_amount, channel.mission_max_amount);
    const backerName = await this.deps.displayNameOf(userId);
    const out = await tx(this.pool, async (c) => {
      const replay = await replayOf<{ mission: Mission }>(c, key);
      if (replay) return replay;
      const id = uuidv7();
      const acceptDeadline = new Date(now.getTime() + channel.accept_window_seconds * 1000);
      await c.query(
        `INSERT INTO missions (id, channel, channel_owner_id, title, description, state, duration_seconds, failure_keep_bps,
                               min_amount, max_amount, created_by, created_at, accept_deadline)
         VALUES ($1, $2, $3, $4, $5, 'PROPOSED', $6, $7, $8, $9, $10, $11, $12)`,
        [id, handle, channel.owner_id, input.title, input.description ?? null, input.durationSeconds, channel.failure_keep_bps,
          channel.mission_min_amount, channel.mission_max_amount, userId, now, acceptDeadline],
      );
      const slots = [...Array(ESCROW_SLOTS).keys()];
      await ensureAccounts(c, 'KRW', 'mission_escrow', slots.map((s) => `${id}:${s}`));
      await c.query('INSERT INTO mission_totals (mission_id, slot) SELECT $1, s FROM unnest($2::int[]) AS s', [id, slots]);
      await enqueueEvent(c, 'mission.proposed', id, { missionId: id, channel: handle, state: 'PROPOSED' });
      await this.hold(c, id, userId, backerName, input.amount, now);
      const mission = await this.load(c, id);
      const body = { mission };
      if (key) await completeKey(c, key, 201, body, id);
      return { outcome: { status: 201, body, replayed: false } };
    });
    if ('outcome' in out) {
      this.deps.eventsCommitted();
      this.deps.metrics?.pledges.inc({ kind: 'proposal' });
      this.deps.metrics?.pledgedKrw.inc({ kind: 'proposal' }, input.amount);
      return out.outcome;
    }
    return out as Outcome<{ mission: Mission }>;
  }

  /** Backs an open mission. Refused at or after the deadline, whatever the sweeper did. */
  async pledge(userId: string, missionId: string, amount: number, key: IdempotencyKey | undefined, arrivedAt: Date): Promise<Outcome<{ pledge: Pledge }>> {
    const backerName = await this.deps.displayNameOf(userId);
    // Every pledge joins the next batch (holdAll); its key, if any, is
    // stored in the same statement.
    const outcome = await this.holds.submit({ missionId, userId, backerName, amount, at: arrivedAt, key });
    if (outcome.replayed) return outcome;
    this.deps.eventsCommitted();
    this.deps.metrics?.pledges.inc({ kind: 'pledge' });
    this.deps.metrics?.pledgedKrw.inc({ kind: 'pledge' }, amount);
    return outcome;
  }

  /**
   * Holds a batch of pledges: all of them in one statement when every one is
   * accepted and every key is new (holdMany), else each alone (holdOne),
   * which gives each its own answer: a refusal, or the stored answer of a
   * key already used. Nothing of a refused batch was written, so trying
   * again one by one is safe.
   */
  private async holdAll(items: HoldRequest[]): Promise<PromiseSettledResult<PledgeOutcome>[]> {
    if (items.length > 1) {
      const held = await this.holdMany(items);
      if (held) {
        this.deps.metrics?.pledgeBatches.observe({ written: 'together' }, items.length);
        return held.map((pledge) => ({ status: 'fulfilled', value: { status: 201, body: { pledge }, replayed: false } }));
      }
    }
    this.deps.metrics?.pledgeBatches.observe({ written: 'one_by_one' }, items.length);
    return Promise.allSettled(items.map((r) => this.holdOne(r)));
  }

  /** One pledge in its own transaction with its key (claimed first: a replay gets the stored answer). */
  private holdOne(r: HoldRequest): Promise<PledgeOutcome> {
    return createdOnce(this.pool, r.key, async (q) => {
      const pledge = await this.hold(q, r.missionId, r.userId, r.backerName, r.amount, r.at);
      return { body: { pledge }, resourceId: pledge.id };
    });
  }

  /**
   * What hold does, for many pledges in one statement and one commit, all or
   * nothing: null when any of them would be refused, and then nothing was
   * written. Locks in the order every writer takes them: the missions'
   * advisory locks and then their rows, both by id, then every account in
   * (rank, id) order inside ledger_create_transfers; the slots' totals and
   * the backers after that, each already guarded by its escrow or wallet lock.
   * A pledge's Idempotency-Key is stored complete, with its answer, in the
   * same statement, as createdOnce would store it after the pledge: a key
   * that exists already, or whose lock another writer holds, is a refusal
   * like any other.
   */
  private async holdMany(items: HoldRequest[]): Promise<Pledge[] | null> {
    const rows = items.map((r) => ({ ...r, slot: randomInt(ESCROW_SLOTS), pledgeId: uuidv7(), holdId: uuidv7(), eventId: uuidv7() }));
    const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
    const pledges: Pledge[] = rows.map((r) => ({ id: r.pledgeId, missionId: r.missionId, amount: r.amount, status: 'HELD', backerName: r.backerName, createdAt: r.at.toISOString() }));
    let held: number | null;
    try {
      const { rows: out } = await this.pool.query<{ held: number | null }>({
        name: 'pledge-hold-many',
        text: `WITH i AS (
                 SELECT i.*, row_number() OVER (PARTITION BY i.mission_id, i.backer_id ORDER BY i.n) = 1 AS first_of_backer
                   FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::timestamptz[], $6::int[], $7::uuid[], $8::uuid[], $9::uuid[], $10::text[], $11::text[],
                               $13::text[], $14::text[], $15::jsonb[])
                        WITH ORDINALITY AS i(mission_id, backer_id, backer_name, amount, at, slot, pledge_id, hold_id, event_id, wallet_owner, escrow_owner,
                                             idem_key, idem_hash, response, n)),
               -- The keys' locks come first and are only tried: one taken by a
               -- writer of the same key makes the batch give up before it locks
               -- anything else (see keyLock).
               keys AS (
                 SELECT coalesce(bool_and(pg_try_advisory_xact_lock(${keyLock('i.backer_id', 'i.idem_key')})), true) AS free
                   FROM i WHERE i.idem_key IS NOT NULL),
               lock AS (
                 SELECT pg_advisory_xact_lock_shared(${MISSION_LOCK_CLASS}, hashtext(s.id::text)) FROM (SELECT DISTINCT mission_id AS id FROM i ORDER BY 1) s
                  WHERE (SELECT free FROM keys)),
               m AS (
                 SELECT m.* FROM missions m
                  WHERE m.id = ANY($1::uuid[]) AND (SELECT count(*) FROM lock) > 0
                  ORDER BY m.id FOR SHARE OF m),
               ok AS (
                 SELECT i.*, m.channel FROM i JOIN m ON m.id = i.mission_id
                  WHERE m.channel_owner_id <> i.backer_id AND i.amount BETWEEN m.min_amount AND m.max_amount
                    AND ((m.state = 'PROPOSED' AND i.at < m.accept_deadline) OR (m.state = 'ACTIVE' AND i.at < m.deadline))),
               t AS (
                 SELECT ok.*, w.id AS wallet_id, e.id AS escrow_id FROM ok
                   -- One index lookup per pledge (LIMIT 1 keeps each a lookup, never a scan of every wallet).
                   CROSS JOIN LATERAL (SELECT a.id FROM accounts a WHERE a.ledger = 'KRW' AND a.code = 'user_wallet' AND a.owner = ok.wallet_owner LIMIT 1) w
                   CROSS JOIN LATERAL (SELECT a.id FROM accounts a WHERE a.ledger = 'KRW' AND a.code = 'mission_escrow' AND a.owner = ok.escrow_owner LIMIT 1) e),
               held AS (
                 SELECT ${transfersCall({ ids: 'array_agg(t.hold_id)', debits: 'array_agg(t.wallet_id)', credits: 'array_agg(t.escrow_id)', amounts: 'array_agg(t.amount)', missionIds: 'array_agg(t.mission_id)', ledger: 'KRW', code: 'pledge_hold', pending: true, debitCode: 'user_wallet', creditCode: 'mission_escrow' })} AS n
                   FROM t HAVING count(*) = $12),
               p AS (
                 INSERT INTO pledges (id, mission_id, backer_id, backer_name, amount, hold_transfer_id, wallet_account_id, escrow_account_id, status, created_at)
                 SELECT t.pledge_id, t.mission_id, t.backer_id, t.backer_name, t.amount, t.hold_id, t.wallet_id, t.escrow_id, 'HELD', t.at FROM t, held),
               b AS (
                 INSERT INTO mission_backers (mission_id, backer_id) SELECT t.mission_id, t.backer_id FROM t, held WHERE t.first_of_backer
                 ON CONFLICT DO NOTHING RETURNING mission_id, backer_id),
               totals AS (
                 UPDATE mission_totals mt SET amount = mt.amount + s.amount, pledges = mt.pledges + s.pledges, backers = mt.backers + s.backers
                   FROM (SELECT t.mission_id, t.slot, sum(t.amount) AS amount, count(*) AS pledges,
                                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM b WHERE b.mission_id = t.mission_id AND b.backer_id = t.backer_id) AND t.first_of_backer) AS backers
                           FROM t, held GROUP BY t.mission_id, t.slot) s
                  WHERE mt.mission_id = s.mission_id AND mt.slot = s.slot),
               o AS (
                 INSERT INTO outbox (id, topic, key, payload)
                 SELECT t.event_id, 'pledge.held', t.mission_id::text,
                        jsonb_build_object('missionId', t.mission_id, 'channel', t.channel, 'pledgeId', t.pledge_id, 'amount', t.amount, 'backerName', t.backer_name)
                   FROM t, held),
               -- A key already taken (or twice in the batch) fails the statement:
               -- no ON CONFLICT, so every key of a written batch is new.
               k AS (
                 INSERT INTO idempotency_keys (user_id, key, request_hash, resource_id, status_code, response)
                 SELECT t.backer_id, t.idem_key, t.idem_hash, t.pledge_id, 201, t.response
                   FROM t, held WHERE t.idem_key IS NOT NULL)
               SELECT (SELECT n FROM held) AS held`,
        values: [
          col('missionId'),
          col('userId'),
          col('backerName'),
          col('amount'),
          rows.map((r) => r.at.toISOString()),
          col('slot'),
          col('pledgeId'),
          col('holdId'),
          col('eventId'),
          col('userId'),
          rows.map((r) => `${r.missionId}:${r.slot}`),
          rows.length,
          rows.map((r) => r.key?.key ?? null),
          rows.map((r) => r.key?.hash ?? null),
          rows.map((r, n) => (r.key ? JSON.stringify({ pledge: pledges[n] }) : null)),
        ],
      });
      held = out[0]!.held;
    } catch (err) {
      // A refused hold or a key already used failed the whole statement: the
      // pledges are tried one by one, which tells each its answer. So does a
      // deadlock, which no writer should make, but trying again is safe.
      if (ledgerErrorOf(err) || isUniqueViolation(err, 'idempotency_keys_pkey') || isDeadlock(err)) return null;
      throw err;
    }
    if (held === null) return null;
    assert.equal(held, rows.length, 'a batch is held whole or not at all');
    return pledges;
  }

  /**
   * Holds `amount` from the backer's wallet in one of the mission's escrow
   * slots, in one statement (one round trip): the mission's shared lock and
   * row (FOR SHARE: pledges don't block each other, but a decision, FOR
   * UPDATE, waits for them and they wait for it; queued fairly, see
   * lockMission), the checks, the hold (ledger_create_transfer, whose refusal
   * fails the statement), then the pledge, its backer, the slot's totals and
   * the outbox row as enqueueEvent writes it. When a check fails nothing is
   * written and the mission row comes back to explain why.
   */
  private async hold(c: Queryable, missionId: string, userId: string, backerName: string, amount: number, at: Date): Promise<Pledge> {
    const slot = randomInt(ESCROW_SLOTS);
    const pledgeId = uuidv7();
    const holdId = uuidv7();
    let rows: (MissionRow & { held: number; has_wallet: boolean })[];
    try {
      ({ rows } = await c.query({
        name: 'pledge-hold',
        text: `WITH m AS (
                 SELECT m.* FROM (SELECT pg_advisory_xact_lock_shared(${MISSION_LOCK_CLASS}, hashtext($2))) AS lock, missions m
                  WHERE m.id = $1 FOR SHARE OF m),
               ok AS (
                 SELECT m.id, m.channel FROM m
                  WHERE m.channel_owner_id <> $3 AND $5 BETWEEN m.min_amount AND m.max_amount
                    AND ((m.state = 'PROPOSED' AND $9 < m.accept_deadline) OR (m.state = 'ACTIVE' AND $9 < m.deadline))),
               w AS (SELECT id FROM accounts WHERE ledger = 'KRW' AND code = 'user_wallet' AND owner = $12),
               e AS (SELECT id FROM accounts WHERE ledger = 'KRW' AND code = 'mission_escrow' AND owner = $11),
               t AS (
                 SELECT ok.id AS mission_id, ok.channel, w.id AS wallet_id, e.id AS escrow_id,
                        ${transferCall({ id: '$6', debit: 'w.id', credit: 'e.id', amount: '$5', ledger: 'KRW', code: 'pledge_hold', pending: true, missionId: 'ok.id', debitCode: 'user_wallet', creditCode: 'mission_escrow' })} AS result
                   FROM ok, w, e),
               p AS (
                 INSERT INTO pledges (id, mission_id, backer_id, backer_name, amount, hold_transfer_id, wallet_account_id, escrow_account_id, status, created_at)
                 SELECT $7, t.mission_id, $3, $4, $5, $6, t.wallet_id, t.escrow_id, 'HELD', $9 FROM t),
               b AS (INSERT INTO mission_backers (mission_id, backer_id) SELECT t.mission_id, $3 FROM t ON CONFLICT DO NOTHING RETURNING 1),
               totals AS (
                 UPDATE mission_totals SET amount = amount + $5, pledges = pledges + 1, backers = backers + (SELECT count(*) FROM b)
                  WHERE mission_id = (SELECT t.mission_id FROM t) AND slot = $10),
               o AS (
                 INSERT INTO outbox (id, topic, key, payload)
                 SELECT $8, 'pledge.held', t.mission_id::text,
                        jsonb_build_object('missionId', t.mission_id, 'channel', t.channel, 'pledgeId', $7::uuid, 'amount', $5::bigint, 'backerName', $4::text)
                   FROM t)
               SELECT m.*, (SELECT count(*) FROM t)::int AS held, EXISTS (SELECT 1 FROM w) AS has_wallet FROM m`,
        values: [missionId, missionId, userId, backerName, amount, holdId, pledgeId, uuidv7(), at, slot, `${missionId}:${slot}`, userId],
      }));
    } catch (err) {
      if (ledgerErrorOf(err)?.reason === 'exceeds_credits') {
        throw new AppError('INSUFFICIENT_FUNDS', `Not enough available cash for ${amount} KRW; charge your wallet first`);
      }
      throw err;
    }
    const m = rows[0];
    if (!m) throw new AppError('NOT_FOUND', 'No such mission');
    if (!m.held) {
      if (m.channel_owner_id === userId) throw new AppError('FORBIDDEN', 'Streamers cannot back missions of their own channel');
      checkAmount(amount, m.min_amount, m.max_amount);
      const open = (m.state === 'PROPOSED' && at < m.accept_deadline) || (m.state === 'ACTIVE' && m.deadline !== null && at < m.deadline);
      if (!open) throw new AppError('MISSION_NOT_OPEN', `The mission is ${m.state === 'ACTIVE' || m.state === 'PROPOSED' ? 'past its deadline' : m.state}; it takes no pledges`);
      if (!m.has_wallet) throw new AppError('INSUFFICIENT_FUNDS', `Not enough available cash for ${amount} KRW; charge your wallet first`);
      assert.fail(`mission ${missionId} passed every check but its pledge was not held (escrow slot ${slot} missing?)`);
    }
    // No totals here: a sum read inside this transaction can miss a concurrent
    // pledge; the live writer reads them after commit (missionTotalsOf).
    return { id: pledgeId, missionId: m.id, amount, status: 'HELD', backerName, createdAt: at.toISOString() };
  }

  async get(id: string, c: Queryable = this.pool): Promise<Mission> {
    return this.load(c, id);
  }

  private async load(c: Queryable, id: string): Promise<Mission> {
    const { rows } = await c.query(`${MISSION_WITH_TOTALS} WHERE m.id = $1`, [id]);
    if (!rows[0]) throw new AppError('NOT_FOUND', 'No such mission');
    return toMission(rows[0]);
  }

  async list(handle: string, state: MissionState | undefined, limit: number, cursor?: string): Promise<{ items: Mission[]; nextCursor: string | null }> {
    await this.deps.channels.row(handle);
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `${MISSION_WITH_TOTALS}
        WHERE m.channel = $1 AND ($2::text IS NULL OR m.state = $2)
          AND ($3::timestamptz IS NULL OR (m.created_at, m.id) < ($3::timestamptz, $4::uuid))
        ORDER BY m.created_at DESC, m.id DESC LIMIT $5`,
      [handle, state ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, toMission);
  }

  async pledges(missionId: string, limit: number, cursor?: string): Promise<{ items: Pledge[]; nextCursor: string | null }> {
    const exists = await this.pool.query('SELECT 1 FROM missions WHERE id = $1', [missionId]);
    if (!exists.rowCount) throw new AppError('NOT_FOUND', 'No such mission');
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `SELECT id, mission_id, amount, status, backer_name, created_at, created_at::text AS at_text FROM pledges
        WHERE mission_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [missionId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, (r) => ({
      id: r.id,
      missionId: r.mission_id,
      amount: Number(r.amount),
      status: r.status,
      backerName: r.backer_name,
      createdAt: r.created_at.toISOString(),
    }));
  }

  /**
   * Runs one owner action on the locked mission row: authorisation first
   * (403 whatever the state), then the state rules (409 with a catalogue code).
   */
  private async transition(
    userId: string,
    id: string,
    check: (m: MissionRow) => void,
    apply: (c: Client, m: MissionRow) => Promise<void>,
  ): Promise<{ mission: Mission }> {
    const result = await tx(this.pool, async (c) => {
      await lockMission(c, id, 'exclusive');
      const { rows } = await c.query<MissionRow>('SELECT * FROM missions WHERE id = $1 FOR UPDATE', [id]);
      const m = rows[0];
      if (!m) throw new AppError('NOT_FOUND', 'No such mission');
      if (m.channel_owner_id !== userId) throw new AppError('FORBIDDEN', 'Only the channel owner can do this');
      check(m);
      await apply(c, m);
      return { mission: await this.load(c, id) };
    });
    this.deps.eventsCommitted();
    return result;
  }

  async accept(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'ACTIVE') throw new AppError('MISSION_NOT_PROPOSED', 'The mission was already accepted');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      if (now >= m.accept_deadline) throw new AppError('ACCEPT_WINDOW_CLOSED', 'The accept window of this proposal has closed');
    }, async (c, m) => {
      const deadline = new Date(now.getTime() + m.duration_seconds * 1000);
      await c.query(`UPDATE missions SET state = 'ACTIVE', accepted_at = $2, deadline = $3 WHERE id = $1`, [m.id, now, deadline]);
      await this.deps.hooks?.onAccepted?.(c, { ...m, state: 'ACTIVE', accepted_at: now, deadline });
      await enqueueEvent(c, 'mission.accepted', m.id, { missionId: m.id, channel: m.channel, state: 'ACTIVE', deadline: deadline.toISOString() });
    });
  }

  async reject(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'ACTIVE') throw new AppError('MISSION_NOT_PROPOSED', 'An accepted mission is cancelled, not rejected');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      // Like a cancel after the deadline: past its window a proposal expires, whether or not the sweeper ran.
      if (now >= m.accept_deadline) throw new AppError('ACCEPT_WINDOW_CLOSED', 'The accept window of this proposal has closed; it expires');
    }, (c, m) => this.end(c, m, 'REJECTED', now));
  }

  async cancel(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'A proposal is rejected, not cancelled');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed; it expires');
    }, (c, m) => this.end(c, m, 'CANCELLED', now));
  }

  async decide(userId: string, id: string, outcome: Decision, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'Accept the mission before deciding it');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_DECIDED', `The mission was already decided (${m.state})`);
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed; it expires without a decision');
    }, (c, m) => this.end(c, m, outcome, now));
  }

  /** Moves a locked mission into a terminal state and announces it for settlement. */
  private async end(c: Queryable, m: MissionRow, state: MissionState, now: Date): Promise<void> {
    await c.query('UPDATE missions SET state = $2, decided_at = $3 WHERE id = $1', [m.id, state, now]);
    const topic = state === 'EXPIRED' ? 'mission.expired' : 'mission.decided';
    await enqueueEvent(c, topic, m.id, { missionId: m.id, channel: m.channel, state });
  }

  /**
   * Expires proposals past their accept window and active missions past their
   * deadline. Safe with several sweepers: each row is taken by one of them.
   */
  async expireDue(now: Date, batch = 100): Promise<number> {
    const n = await tx(this.pool, async (c) => {
      const { rows } = await c.query<MissionRow>(
        `SELECT * FROM missions
          WHERE (state = 'PROPOSED' AND accept_deadline <= $1) OR (state = 'ACTIVE' AND deadline <= $1)
          ORDER BY coalesce(deadline, accept_deadline) LIMIT $2
          -- SKIP LOCKED: many sweepers may run; each row is expired once.
          FOR UPDATE SKIP LOCKED`,
        [now, batch],
      );
      for (const m of rows) await this.end(c, m, 'EXPIRED', m.state === 'ACTIVE' ? m.deadline! : m.accept_deadline);
      return rows.length;
    });
    if (n) this.deps.eventsCommitted();
    return n;
  }

  /** The caller's pledges with their missions' outcomes, newest first. */
  async myPledges(userId: string, limit: number, cursor?: string) {
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `SELECT p.id, p.amount, p.status, p.captured_amount, p.refunded_amount, p.created_at, p.created_at::text AS at_text,
              m.id AS mission_id, m.title, m.channel, m.state, m.settled_at, m.created_by
         FROM pledges p JOIN missions m ON m.id = p.mission_id
        WHERE p.backer_id = $1 AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2::timestamptz, $3::uuid))
        ORDER BY p.created_at DESC, p.id DESC LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, (r) => ({
      pledgeId: r.id as string,
      amount: Number(r.amount),
      status: r.status as Pledge['status'],
      capturedAmount: Number(r.captured_amount),
      refundedAmount: Number(r.refunded_amount),
      createdAt: (r.created_at as Date).toISOString(),
      mission: { id: r.mission_id as string, title: r.title as string, channel: r.channel as string, state: r.state as MissionState, settledAt: iso(r.settled_at), createdBy: r.created_by as string },
    }));
  }

  /** What each settled mission paid the streamer (net of the fee), newest first. */
  async payouts(userId: string, limit: number, cursor?: string) {
    const handle = await this.deps.channels.ownedChannel(userId);
    if (!handle) throw new AppError('FORBIDDEN', 'Only streamers have payouts; create a channel first');
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `SELECT m.id, m.title, m.settled_at AS created_at, m.settled_at::text AS at_text,
              coalesce(sum(t.amount) FILTER (WHERE t.code = 'streamer_payout'), 0)::bigint AS amount,
              coalesce(sum(t.amount) FILTER (WHERE t.code = 'platform_fee'), 0)::bigint AS fee
         FROM missions m JOIN transfers t ON t.mission_id = m.id AND t.code IN ('streamer_payout', 'platform_fee')
        WHERE m.channel = $1 AND m.settled_at IS NOT NULL
          AND ($2::timestamptz IS NULL OR (m.settled_at, m.id) < ($2::timestamptz, $3::uuid))
        GROUP BY m.id ORDER BY m.settled_at DESC, m.id DESC LIMIT $4`,
      [handle, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, (r) => ({
      missionId: r.id as string,
      title: r.title as string,
      amount: Number(r.amount),
      fee: Number(r.fee),
      createdAt: (r.created_at as Date).toISOString(),
    }));
  }

  /** What a streamer has earned, and what is held for their active missions. */
  async earnings(userId: string): Promise<{ settled: number; pending: number; currency: 'KRW' }> {
    const handle = await this.deps.channels.ownedChannel(userId);
    if (!handle) throw new AppError('FORBIDDEN', 'Only streamers have earnings; create a channel first');
    const account = await ensureAccount(this.pool, 'KRW', 'streamer_earnings', userId);
    const b = await balancesOf(this.pool, account.id);
    const { rows } = await this.pool.query<{ pending: number }>(
      `SELECT coalesce(sum(p.amount), 0)::bigint AS pending FROM pledges p JOIN missions m ON m.id = p.mission_id
        WHERE m.channel = $1 AND m.state = 'ACTIVE' AND p.status = 'HELD'`,
      [handle],
    );
    return { settled: b.creditsPosted, pending: Number(rows[0]!.pending), currency: 'KRW' };
  }
}

function checkAmount(amount: number, min: number, max: number) {
  if (amount < min || amount > max) {
    throw new AppError('VALIDATION_FAILED', `The amount must be between ${min} and ${max} KRW on this channel`, {
      errors: [{ path: 'amount', message: `must be between ${min} and ${max}` }],
    });
  }
}

function parseCursor(cursor: string | undefined) {
  if (!cursor) return null;
  const c = decodeCursor(cursor);
  if (!c) throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
  return c;
}

function paginate<R extends { id: string; at_text: string }, T>(rows: R[], limit: number, map: (r: R) => T) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(map), nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null };
}
