import type { ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import client from 'prom-client';
import type { Bus, BusEvent } from '../platform/bus.ts';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import { missionTotalsOf } from './queries.ts';

export type LiveType = 'pledge' | 'state' | 'prediction' | 'progress' | 'moderation';

interface LiveRow {
  seq: number;
  mission_id: string;
  channel: string;
  type: LiveType;
  data: Record<string, unknown>;
  /** The event as written to clients, formatted and encoded once for all of them. */
  bytes?: Buffer;
  /** The same as one chunk of a chunked response (chunkOf), made once too. */
  chunk?: Buffer;
}

/**
 * Bytes as one chunk of a chunked HTTP/1.1 body: what ServerResponse.write
 * would send, made once per event for every client instead of once per
 * client (a write through the response corks the socket, writes the size
 * line, the data and the CRLF, and uncorks on the next tick: most of a
 * fan-out's time at ten thousand clients).
 */
function chunkOf(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, CRLF]);
}
const CRLF = Buffer.from('\r\n', 'latin1');

/** What is written to every client alike: its bytes, and (made on first need) the same as a chunk. */
interface Framed {
  bytes: Buffer;
  chunk?: Buffer;
}

const TOPICS = [
  'mission.proposed', 'mission.accepted', 'mission.progress', 'mission.confirming', 'mission.disputed', 'mission.in_review', 'mission.decided',
  'mission.expired', 'mission.settled', 'pledge.held', 'pledge.voided', 'pledge.message_hidden', 'prediction.bet', 'prediction.locked',
  'prediction.resolved',
];
// Serialises appends to live_events so seq order is commit order.
const LIVE_LOCK = 72_201;
/**
 * A client that still has more than this unsent when the next round of
 * writes begins is dropped (it stopped reading). Within one round (a tailed
 * batch, a replay) the output grows before any client could read it, so only
 * the hard cap applies there.
 */
const MAX_BUFFERED_BYTES = 256 * 1024;
const HARD_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;
const REPLAY_PAGE = 5_000;
/** How long a replaying client may take to read one page. */
const REPLAY_DRAIN_MS = 30_000;
/** Streams one client may hold open at once (contract 1.1: at most 50, at least 10). */
const MAX_STREAMS_PER_ADDRESS = 50;
/**
 * Streams one process holds in all. Each costs a socket (a file descriptor)
 * and some tens of KiB; beyond this a process answers 503 and clients or a
 * load balancer try again, elsewhere or later.
 */
const MAX_STREAMS = 20_000;
/** What a refused client is told to wait: slots free the moment streams close. */
const STREAM_RETRY_AFTER_SECONDS = 5;

/** One stream's place within the limits, given back (once) when it ends. */
export interface StreamSlot {
  release(): void;
}

/**
 * Whose streams these are, for the per-client limit: an IPv4 address (also
 * when it comes IPv4-mapped, ::ffff:a.b.c.d), or the /64 of an IPv6 address —
 * a single host or home network gets a whole /64, so counting single IPv6
 * addresses would limit nothing.
 * @example clientKey('::ffff:10.0.0.1') === '10.0.0.1'; clientKey('2001:db8::1') === '2001:db8:0:0::/64'
 */
export function clientKey(address: string): string {
  if (!net.isIPv6(address)) return address;
  const v6 = ipaddr.IPv6.parse(address.split('%')[0]!); // without a zone id (fe80::1%eth0)
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

interface Subscriber {
  res: ServerResponse;
  /** The response's socket, which events are written to directly (see chunkOf). */
  socket: Socket;
  /** Whether the response is chunked (HTTP/1.1); an HTTP/1.0 one ends with its connection. */
  chunked: boolean;
  lastSeq: number;
  /** Events that arrived while the backlog was being replayed. */
  queued: LiveRow[] | null;
  /** The write round this client was last checked in. */
  round: number;
}

/**
 * Prediction pools (points on each side) of several missions in one query.
 * Given by the composition root: predictions depend on missions, not the
 * other way round.
 */
export type PredictionPools = (c: Queryable, missionIds: string[]) => Promise<Map<string, Record<'SUCCEEDED' | 'FAILED', number>>>;

interface LivePayload {
  missionId: string;
  channel: string;
  pledgeId?: string;
  amount?: number;
  backerName?: string;
  state?: string;
  unitAmount?: number | null;
  message?: string | null;
  units?: number;
  maxUnits?: number;
  label?: string;
  /** Dispute windows (mission.confirming, mission.disputed, mission.in_review). */
  proposedOutcome?: string;
  disputeEndsAt?: string;
  disputedAmount?: number;
}

/**
 * Turns a batch of bus events into public live events, with totals, pools and
 * mission times read after their commits: one query per kind of fact for the
 * whole batch, however many events it holds.
 */
async function liveEventsOf(c: Queryable, events: BusEvent[], poolsOfMany: PredictionPools): Promise<(LiveRow & { eventId: string })[]> {
  const ids = (pick: (e: BusEvent) => boolean) => [...new Set(events.filter(pick).map((e) => (e.payload as unknown as LivePayload).missionId))];
  // A voided pledge (voids.ts) is a `pledge` event too, with `voided: true` and the lower totals.
  const isPledge = (e: BusEvent) => e.topic === 'pledge.held' || e.topic === 'pledge.voided';
  const isPrediction = (e: BusEvent) => e.topic.startsWith('prediction.');
  const isProgress = (e: BusEvent) => e.topic === 'mission.progress';
  const isModeration = (e: BusEvent) => e.topic === 'pledge.message_hidden';
  const isState = (e: BusEvent) => !isPledge(e) && !isPrediction(e) && !isProgress(e) && !isModeration(e);
  // One after another: `c` is one connection (a transaction), which runs one query at a time anyway.
  const totals = await missionTotalsOf(c, ids(isPledge));
  const pools = await poolsOfMany(c, ids(isPrediction));
  const times = await missionTimesOf(c, ids(isState));
  const out: (LiveRow & { eventId: string })[] = [];
  for (const e of events) {
    const p = e.payload as unknown as LivePayload;
    const row = { eventId: e.id, seq: 0, mission_id: p.missionId, channel: p.channel };
    if (isPledge(e)) {
      const t = totals.get(p.missionId) ?? { pledgedAmount: 0, backerCount: 0 };
      if (e.topic === 'pledge.voided') out.push({ ...row, type: 'pledge', data: { missionId: p.missionId, pledgeId: p.pledgeId, amount: p.amount, voided: true, ...t } });
      else {
        out.push({
          ...row,
          type: 'pledge',
          data: { missionId: p.missionId, pledgeId: p.pledgeId, amount: p.unitAmount ?? p.amount, backerName: p.backerName, message: p.message ?? null, ...t },
        });
      }
    } else if (isModeration(e)) {
      out.push({ ...row, type: 'moderation', data: { missionId: p.missionId, pledgeId: p.pledgeId, messageHidden: true } });
    } else if (isProgress(e)) {
      // The event carries the whole fact: the unit and the count reported.
      out.push({ ...row, type: 'progress', data: { missionId: p.missionId, units: p.units, maxUnits: p.maxUnits, label: p.label } });
    } else if (isPrediction(e)) {
      const pool = pools.get(p.missionId) ?? { SUCCEEDED: 0, FAILED: 0 };
      out.push({ ...row, type: 'prediction', data: { missionId: p.missionId, pools: pool, ...(p.state ? { state: p.state } : {}) } });
    } else {
      const m = times.get(p.missionId);
      if (!m) continue;
      out.push({
        ...row,
        type: 'state',
        data: {
          missionId: p.missionId,
          state: p.state,
          deadline: m.deadline?.toISOString() ?? null,
          ...(p.proposedOutcome !== undefined ? { proposedOutcome: p.proposedOutcome } : {}),
          ...(p.disputeEndsAt !== undefined ? { disputeEndsAt: p.disputeEndsAt } : {}),
          ...(p.disputedAmount !== undefined ? { disputedAmount: p.disputedAmount } : {}),
          ...(e.topic === 'mission.settled' ? { settled: true, settledAt: m.settled_at?.toISOString() ?? null } : {}),
        },
      });
    }
  }
  return out;
}

async function missionTimesOf(c: Queryable, missionIds: string[]) {
  const times = new Map<string, { deadline: Date | null; settled_at: Date | null }>();
  if (missionIds.length === 0) return times;
  const { rows } = await c.query<{ id: string; deadline: Date | null; settled_at: Date | null }>(
    'SELECT id, deadline, settled_at FROM missions WHERE id = ANY($1::uuid[])',
    [missionIds],
  );
  for (const r of rows) times.set(r.id, r);
  return times;
}

/** Pending events of the writer, each resolved once its batch committed. */
interface Appending {
  event: BusEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Forgets live events older than a week: they only serve reconnecting
 * clients (Last-Event-ID), and a week is plenty. The sweeper calls it hourly.
 */
export async function pruneLiveEvents(c: Queryable): Promise<void> {
  await c.query(`DELETE FROM live_events WHERE created_at < now() - interval '7 days'`);
}

/** Events appended to live_events per transaction, at most. */
const APPEND_BATCH = 500;

/**
 * Live mission events for SSE. One consumer appends each event once to
 * `live_events` (ids = its seq); every api process tails that table once and
 * fans new rows out to its connected clients — never a query per client per
 * event. Reconnects resume after Last-Event-ID from the same table.
 */
export class LiveHub {
  private readonly byMission = new Map<string, Set<Subscriber>>();
  private readonly byChannel = new Map<string, Set<Subscriber>>();
  private lastSeq = 0;
  /** Counts rounds of writes (a tailed batch, a heartbeat); see MAX_BUFFERED_BYTES. */
  private round = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly loop: PollingLoop;
  private readonly clients: client.Gauge;
  private readonly dropped: client.Counter;
  private readonly appending: Appending[] = [];
  private flushing: Promise<void> | null = null;
  /** Streams admitted and not yet ended, in all and per client (see clientKey). */
  private streams = 0;
  private readonly streamsOf = new Map<string, number>();
  private readonly maxStreams: number;
  private readonly maxStreamsPerAddress: number;

  constructor(
    private readonly deps: {
      pool: Pool;
      bus: Bus;
      log: Logger;
      registry: client.Registry;
      pollMs?: number;
      heartbeatMs?: number;
      /** Streams this process holds in all (default 20,000); more answer 503 UNAVAILABLE. */
      maxStreams?: number;
      /** Streams one client address holds at once (default 50); more answer 429 RATE_LIMITED. */
      maxStreamsPerAddress?: number;
      /** The prediction pools of missions (the predictions module's poolsOfMany); the writer (subscribe) needs it. */
      predictionPools?: PredictionPools;
    },
  ) {
    this.maxStreams = deps.maxStreams ?? MAX_STREAMS;
    this.maxStreamsPerAddress = deps.maxStreamsPerAddress ?? MAX_STREAMS_PER_ADDRESS;
    for (const limit of [this.maxStreams, this.maxStreamsPerAddress]) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`a stream limit must be a positive integer, not ${limit}`);
    }
    this.clients = new client.Gauge({ name: 'missionlink_sse_clients', help: 'Open live-event streams (connected clients)', registers: [deps.registry] });
    this.dropped = new client.Counter({ name: 'missionlink_sse_dropped_total', help: 'Live-event clients dropped for not reading', registers: [deps.registry] });
    this.loop = new PollingLoop('live tail', () => this.tail(), deps.log, deps.pollMs ?? 250);
  }

  /**
   * The writer side: one row per event, exactly once across all processes
   * (UNIQUE(event_id) absorbs redeliveries). Events arriving together are
   * appended together, in one transaction (a group commit); each handler
   * returns only once its event is committed, so the bus never loses one.
   */
  subscribe(): void {
    if (!this.deps.predictionPools) throw new Error('the live writer needs predictionPools (the predictions module\'s poolsOfMany)');
    this.deps.bus.subscribe('live', TOPICS, (event) => this.append(event), { keepsOrder: true });
  }

  private append(event: BusEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.appending.push({ event, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    // Starts after the current turn, so events handed over together (a relay
    // pass) make one batch; then runs while events keep arriving, whatever
    // came in during a commit becoming the next batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.appending.length > 0) {
      const batch = this.appending.splice(0, APPEND_BATCH);
      try {
        await this.appendBatch(batch.map((b) => b.event));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
      this.poke();
    }
    this.flushing = null;
  }

  private async appendBatch(events: BusEvent[]): Promise<void> {
    await tx(this.deps.pool, async (c) => {
      // One writer at a time: seq order is then commit order, and a tailer
      // that has read seq n never misses a smaller one committed later.
      await c.query({ name: 'live-lock', text: 'SELECT pg_advisory_xact_lock($1)', values: [LIVE_LOCK] });
      const rows = await liveEventsOf(c, events, this.deps.predictionPools!);
      if (rows.length === 0) return;
      await c.query(
        `INSERT INTO live_events (event_id, mission_id, channel, type, data)
         SELECT e, m, ch, t, d FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS u(e, m, ch, t, d, n)
          ORDER BY n
         ON CONFLICT (event_id) DO NOTHING`,
        [rows.map((r) => r.eventId), rows.map((r) => r.mission_id), rows.map((r) => r.channel), rows.map((r) => r.type), rows.map((r) => JSON.stringify(r.data))],
      );
    });
  }

  async start(): Promise<void> {
    const { rows } = await this.deps.pool.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM live_events');
    this.lastSeq = Number(rows[0]!.seq ?? 0);
    this.loop.start();
    this.heartbeat = setInterval(() => this.broadcastComment('keep-alive'), this.deps.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  poke(): void {
    this.loop.poke();
  }

  private async tail(): Promise<number> {
    const { rows } = await this.deps.pool.query<LiveRow>(
      'SELECT seq, mission_id, channel, type, data FROM live_events WHERE seq > $1 ORDER BY seq LIMIT 1000',
      [this.lastSeq],
    );
    this.round++;
    for (const row of rows) {
      row.seq = Number(row.seq);
      this.lastSeq = row.seq;
      for (const sub of this.byMission.get(row.mission_id) ?? []) this.deliver(sub, row);
      for (const sub of this.byChannel.get(row.channel) ?? []) this.deliver(sub, row);
    }
    return rows.length;
  }

  private deliver(sub: Subscriber, row: LiveRow): void {
    if (sub.queued) {
      sub.queued.push(row);
      return;
    }
    this.send(sub, row);
  }

  /** Writes one event unless the client has it already. */
  private send(sub: Subscriber, row: LiveRow): void {
    if (row.seq <= sub.lastSeq) return;
    sub.lastSeq = row.seq;
    row.bytes ??= Buffer.from(`id: ${row.seq}\nevent: ${row.type}\ndata: ${JSON.stringify(row.data)}\n\n`);
    this.write(sub, row as Framed); // (its bytes are set just above)
  }

  /**
   * Writes `out`, framed as the response needs it (a chunk, made once for
   * every client, or the bare bytes), unless the client is too far behind;
   * drops the client then.
   */
  private write(sub: Subscriber, out: Framed): void {
    if (sub.socket.destroyed) return;
    const data = sub.chunked ? (out.chunk ??= chunkOf(out.bytes)) : out.bytes;
    const unsent = sub.socket.writableLength;
    // (A client still replaying its backlog is paced by drained() instead.)
    const stalled = sub.queued === null && sub.round !== this.round && unsent > MAX_BUFFERED_BYTES;
    if (stalled || unsent > HARD_MAX_BUFFERED_BYTES) {
      this.dropped.inc();
      sub.res.destroy();
      return;
    }
    sub.round = this.round;
    sub.socket.write(data);
  }

  /**
   * Waits until a replaying client has read what it was sent, down to the
   * live limit. One that does not within REPLAY_DRAIN_MS is dropped.
   */
  private async drained(sub: Subscriber): Promise<boolean> {
    const { res, socket } = sub;
    if (socket.destroyed) return false;
    if (socket.writableLength <= MAX_BUFFERED_BYTES) return true;
    const ok = await new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        socket.off('drain', onDrain);
        res.off('close', onClose);
        resolve(value);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), REPLAY_DRAIN_MS);
      timer.unref();
      socket.on('drain', onDrain);
      res.on('close', onClose);
    });
    if (!ok && !res.destroyed) {
      this.dropped.inc();
      res.destroy();
    }
    return ok;
  }

  private broadcastComment(text: string): void {
    this.round++;
    const out: Framed = { bytes: Buffer.from(`: ${text}\n\n`) };
    for (const set of [...this.byMission.values(), ...this.byChannel.values()]) for (const sub of set) this.write(sub, out);
  }

  /**
   * Takes a place for one more stream of the client at `address` (its
   * `req.ip`), to hand to attach() in the same turn. Checked before anything
   * is written, so a refusal is an ordinary problem+json answer.
   * @throws AppError RATE_LIMITED when the client holds `maxStreamsPerAddress`
   *   streams, UNAVAILABLE when this process holds `maxStreams`; both with Retry-After.
   * @example const slot = hub.admit(req.ip); reply.hijack(); await hub.attach({ channel }, reply.raw, null, slot);
   */
  admit(address: string | undefined): StreamSlot {
    const key = clientKey(address ?? 'unknown');
    const held = this.streamsOf.get(key) ?? 0;
    if (held >= this.maxStreamsPerAddress) {
      throw new AppError('RATE_LIMITED', `At most ${this.maxStreamsPerAddress} live event streams may be open at once from one address; close one first`, {
        retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS,
      });
    }
    if (this.streams >= this.maxStreams) {
      throw new AppError('UNAVAILABLE', 'This server holds as many live event streams as it can; try again shortly', { retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS });
    }
    this.streamsOf.set(key, held + 1);
    this.streams++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.streams--;
        const left = this.streamsOf.get(key)! - 1;
        if (left === 0) this.streamsOf.delete(key);
        else this.streamsOf.set(key, left);
      },
    };
  }

  /**
   * Streams the events of one mission or channel to `res`, first replaying
   * those after `lastEventId`. The stream's `slot` (from admit()) is given
   * back the moment the stream ends.
   */
  async attach(scope: { missionId: string } | { channel: string }, res: ServerResponse, lastEventId: number | null, slot?: StreamSlot): Promise<void> {
    // A client that hung up while the route looked the mission up: its 'close'
    // has already fired, so it must not be registered (it would never leave).
    // (A request pipelined behind another on its connection has no socket yet,
    // and its response never closes: it is not served either.)
    if (res.destroyed || res.closed || !res.socket || res.socket.destroyed) {
      slot?.release();
      return;
    }
    const index = 'missionId' in scope ? this.byMission : this.byChannel;
    const key = 'missionId' in scope ? scope.missionId : scope.channel;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // The head and the first chunk go through the response (which frames
    // it); every later write goes to the socket, framed by chunkOf, in order
    // behind them. stop() ends the response, which writes the last chunk.
    res.write('retry: 2000\n\n');
    const chunked = (res as ServerResponse & { chunkedEncoding?: boolean }).chunkedEncoding === true;
    const sub: Subscriber = { res, socket: res.socket, chunked, lastSeq: lastEventId ?? this.lastSeq, queued: lastEventId !== null ? [] : null, round: this.round };
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(sub);
    this.clients.inc();
    res.on('close', () => {
      set!.delete(sub);
      if (set!.size === 0) index.delete(key);
      this.clients.dec();
      slot?.release();
    });
    if (lastEventId !== null) {
      const column = 'missionId' in scope ? 'mission_id' : 'channel';
      try {
        // Page through the backlog: every missed event, however many.
        for (let after = lastEventId; !res.destroyed; ) {
          const { rows } = await this.deps.pool.query<LiveRow>(
            `SELECT seq, mission_id, channel, type, data FROM live_events WHERE ${column} = $1 AND seq > $2 ORDER BY seq LIMIT ${REPLAY_PAGE}`,
            [key, after],
          );
          // A replay is paced by the client: only the hard cap applies while
          // a page is written, then the client gets time to read it.
          sub.round = this.round;
          for (const r of rows) this.send(sub, { ...r, seq: Number(r.seq) });
          if (!(await this.drained(sub))) return;
          if (rows.length < REPLAY_PAGE) break;
          after = Number(rows.at(-1)!.seq);
        }
      } catch (err) {
        // Never leave a client waiting for a replay that will not come: it reconnects.
        res.destroy();
        throw err;
      }
      const queued = sub.queued ?? [];
      sub.queued = null;
      sub.round = this.round;
      for (const row of queued) this.send(sub, row);
    }
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.loop.stop();
    for (const set of [...this.byMission.values(), ...this.byChannel.values()]) for (const sub of set) sub.res.end();
  }
}
