import client from 'prom-client';
import type { Pool } from './db.ts';
import { outboxBacklog } from './outbox.ts';

/** The `result` values of missionlink_disputes_total. */
export const DISPUTE_RESULTS = ['filed', 'escalated', 'succeeded', 'failed', 'cancelled'] as const;

/**
 * One registry per process. Label values are always bounded: route templates,
 * methods, status codes, database names — never user or mission ids.
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly httpDuration: client.Histogram<'method' | 'route' | 'status_code'>;
  readonly loginFailures: client.Counter<'reason'>;
  readonly loginThrottled: client.Counter<'scope'>;

  readonly pledges: client.Counter<'kind'>;
  readonly pledgedKrw: client.Counter<'kind'>;
  readonly pledgeBatches: client.Histogram<'written'>;
  readonly bets: client.Counter<'side'>;
  readonly charges: client.Counter;
  readonly chargedKrw: client.Counter;
  readonly disputes: client.Counter<'result'>;

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'missionlink_' });
    this.httpDuration = new client.Histogram({
      name: 'missionlink_http_request_duration_seconds',
      help: 'HTTP request latency by route template, method and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.loginFailures = new client.Counter({
      name: 'missionlink_login_failures_total',
      help: 'Failed logins',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new client.Counter<L>({ name, help, labelNames, registers: [this.registry] });
    this.pledges = counter('missionlink_pledges_total', 'Pledges accepted (201), by kind: proposal (first pledge) or pledge', ['kind']);
    this.pledgedKrw = counter('missionlink_pledged_krw_total', 'KRW held by accepted pledges, by kind', ['kind']);
    this.pledgeBatches = new client.Histogram({
      name: 'missionlink_pledge_batch_size',
      help: 'Pledges per batch of concurrent pledges, by how they were written: together (one statement) or one_by_one (a lone pledge, or a batch one of whose pledges was refused)',
      labelNames: ['written'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [this.registry],
    });
    this.bets = counter('missionlink_prediction_bets_total', 'Prediction bets accepted, by side', ['side']);
    this.charges = counter('missionlink_charges_total', 'Wallet charges completed');
    this.chargedKrw = counter('missionlink_charged_krw_total', 'KRW charged into wallets');
    this.disputes = counter(
      'missionlink_disputes_total',
      'Disputes of decided missions by result: filed (the mission stays CONFIRMING), escalated (it reached the threshold: IN_REVIEW); and reviews an admin resolved: succeeded, failed, cancelled',
      ['result'],
    );
    // Every result from 0, so rates and dashboards see the series before the first dispute.
    for (const result of DISPUTE_RESULTS) this.disputes.inc({ result }, 0);
    this.loginThrottled = new client.Counter({
      name: 'missionlink_login_throttled_total',
      help: 'Logins refused by throttling, by the limit that refused them',
      labelNames: ['scope'],
      registers: [this.registry],
    });
  }

  /** Business gauges read from the funding database at scrape time (a few cheap aggregate queries). */
  watchFunding(pool: Pool): void {
    new client.Gauge({
      name: 'missionlink_missions',
      help: 'Missions by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const { rows } = await pool.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM missions GROUP BY state');
        this.reset();
        for (const state of ['PROPOSED', 'ACTIVE', 'CONFIRMING', 'IN_REVIEW', 'SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED']) {
          this.set({ state }, rows.find((r) => r.state === state)?.n ?? 0);
        }
      },
    });
    const outbox = { pending: 0, age: 0 };
    const readOutbox = async () => {
      const backlog = await outboxBacklog(pool);
      outbox.pending = backlog.pending;
      outbox.age = backlog.oldestAgeSeconds;
    };
    new client.Gauge({
      name: 'missionlink_outbox_pending',
      help: 'Events committed but not yet published to the bus (the consumer lag of the in-process bus)',
      registers: [this.registry],
      async collect() {
        await readOutbox();
        this.set(outbox.pending);
      },
    });
    new client.Gauge({
      name: 'missionlink_outbox_oldest_age_seconds',
      help: 'Age of the oldest unpublished event (0 when none)',
      registers: [this.registry],
      collect() {
        this.set(outbox.age);
      },
    });
    // The last recorded verification (by any process): absent until one ran,
    // so no process ever reports a false "not ok".
    const last = { row: undefined as { ok: boolean; duration_ms: number; at: number } | undefined };
    const ledgerGauge = (name: string, help: string, read: (r: NonNullable<typeof last.row>) => number, load = false) =>
      new client.Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          if (load) {
            const { rows } = await pool.query<{ ok: boolean; duration_ms: number; at: number }>(
              'SELECT ok, duration_ms, extract(epoch FROM checked_at)::float8 AS at FROM ledger_verifications ORDER BY id DESC LIMIT 1',
            );
            last.row = rows[0];
          }
          this.reset();
          if (last.row) this.set(read(last.row));
        },
      });
    ledgerGauge('missionlink_ledger_verification_ok', '1 if the last ledger verification found the books balanced, 0 if not', (r) => (r.ok ? 1 : 0), true);
    ledgerGauge('missionlink_ledger_verification_duration_seconds', 'Duration of the last ledger verification', (r) => r.duration_ms / 1000);
    ledgerGauge('missionlink_ledger_verification_timestamp_seconds', 'When the last ledger verification ran (unix time)', (r) => r.at);
    new client.Gauge({
      name: 'missionlink_settlement_jobs_pending',
      help: 'Ended missions whose money has not moved yet',
      registers: [this.registry],
      async collect() {
        const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM settlement_jobs WHERE done_at IS NULL');
        this.set(rows[0]!.n);
      },
    });
  }


  /** Exports connection counts of the given pools at scrape time. */
  watchPools(pools: Record<string, Pool>): void {
    const names = Object.keys(pools);
    const gauge = (name: string, help: string, read: (p: Pool) => number) =>
      new client.Gauge({
        name,
        help,
        labelNames: ['database'],
        registers: [this.registry],
        collect() {
          for (const db of names) this.set({ database: db }, read(pools[db]!));
        },
      });
    gauge('missionlink_db_pool_connections', 'Open connections in the pool', (p) => p.totalCount);
    gauge('missionlink_db_pool_idle_connections', 'Idle connections in the pool', (p) => p.idleCount);
    gauge('missionlink_db_pool_waiting_clients', 'Queries waiting for a connection', (p) => p.waitingCount);
  }
}
