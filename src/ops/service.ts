import type { Pool } from '../platform/db.ts';
import type { Metrics } from '../platform/metrics.ts';
import { lastVerification, verifyAndRecord, type LedgerCheck, type LedgerReport } from '../ledger/index.ts';

type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

async function values(metrics: Metrics, name: string): Promise<MetricValue[]> {
  const m = metrics.registry.getSingleMetric(name);
  if (!m) return [];
  return ((await m.get()).values ?? []) as MetricValue[];
}

const sum = (xs: MetricValue[], pick: (v: MetricValue) => boolean = () => true) => xs.filter(pick).reduce((s, v) => s + v.value, 0);

export interface OpsSummary {
  at: string;
  uptimeSeconds: number;
  http: { requests: number; errors5xx: number; latencySecondsSum: number; latencyCount: number };
  pledges: { count: number; amount: number };
  settlement: { settledTotal: number; pendingJobs: number; lagSecondsSum: number; lagCount: number };
  outbox: { pending: number; oldestAgeSeconds: number };
  mail: { pending: number; sent: number; failed: number };
  sse: { clients: number };
  ledger: { last: LedgerReport | null };
}

/**
 * What operators watch: cumulative counters of this process (the page turns
 * them into rates) and the platform-wide state from the funding database.
 */
export class OpsService {
  private readonly started = Date.now();

  constructor(
    private readonly deps: {
      funding: Pool;
      metrics: Metrics;
      /** What other modules add to a ledger verification (the pledge book's checks). */
      ledgerChecks?: LedgerCheck[];
    },
  ) {}

  async summary(): Promise<OpsSummary> {
    const { funding, metrics } = this.deps;
    const http = await values(metrics, 'missionlink_http_request_duration_seconds');
    const lag = await values(metrics, 'missionlink_settlement_lag_seconds');
    const [db, last] = await Promise.all([
      funding.query<Record<string, number | null>>(`
        SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS outbox_pending,
               (SELECT extract(epoch FROM now() - min(created_at)) FROM outbox WHERE published_at IS NULL)::float8 AS outbox_age,
               (SELECT count(*) FROM settlement_jobs WHERE done_at IS NULL)::int AS jobs_pending,
               (SELECT count(*) FROM missions WHERE settled_at IS NOT NULL)::int AS settled,
               (SELECT count(*) FROM pledges)::int AS pledges,
               (SELECT coalesce(sum(amount), 0) FROM pledges)::bigint AS pledged,
               -- Result mails and account mails (verification links) alike.
               (SELECT count(*) FILTER (WHERE status = 'pending') FROM notifications)::int
                 + (SELECT count(*) FILTER (WHERE status = 'pending') FROM account_mails)::int AS mail_pending,
               (SELECT count(*) FILTER (WHERE status = 'sent') FROM notifications)::int
                 + (SELECT count(*) FILTER (WHERE status = 'sent') FROM account_mails)::int AS mail_sent,
               (SELECT count(*) FILTER (WHERE status = 'failed') FROM notifications)::int
                 + (SELECT count(*) FILTER (WHERE status = 'failed') FROM account_mails)::int AS mail_failed`),
      lastVerification(funding),
    ]);
    const r = db.rows[0]!;
    return {
      at: new Date().toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      http: {
        requests: sum(http, (v) => v.metricName?.endsWith('_count') ?? false),
        errors5xx: sum(http, (v) => (v.metricName?.endsWith('_count') ?? false) && String(v.labels.status_code).startsWith('5')),
        latencySecondsSum: sum(http, (v) => v.metricName?.endsWith('_sum') ?? false),
        latencyCount: sum(http, (v) => v.metricName?.endsWith('_count') ?? false),
      },
      pledges: { count: Number(r.pledges), amount: Number(r.pledged) },
      settlement: {
        settledTotal: Number(r.settled),
        pendingJobs: Number(r.jobs_pending),
        lagSecondsSum: sum(lag, (v) => v.metricName?.endsWith('_sum') ?? false),
        lagCount: sum(lag, (v) => v.metricName?.endsWith('_count') ?? false),
      },
      outbox: { pending: Number(r.outbox_pending), oldestAgeSeconds: Number(r.outbox_age ?? 0) },
      mail: { pending: Number(r.mail_pending), sent: Number(r.mail_sent), failed: Number(r.mail_failed) },
      sse: { clients: sum(await values(metrics, 'missionlink_sse_clients')) },
      ledger: { last },
    };
  }

  /** Verifies the books now and records the result. */
  async verifyLedger(): Promise<LedgerReport> {
    return verifyAndRecord(this.deps.funding, this.deps.ledgerChecks);
  }
}
