import type { Pool } from '../platform/db.ts';
import type { Metrics } from '../platform/metrics.ts';
import { lastVerification, verifyAndRecord, type LedgerCheck, type LedgerReport } from '../ledger/index.ts';
import { pledgeBookStats } from '../missions/index.ts';
import { mailCounts } from '../notify/index.ts';
import { pendingSettlements } from '../settlement/index.ts';

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
    // The platform's outbox here; each module's figures through its surface.
    const [db, book, pendingJobs, mail, last] = await Promise.all([
      funding.query<{ outbox_pending: number; outbox_age: number | null }>(`
        SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS outbox_pending,
               (SELECT extract(epoch FROM now() - min(created_at)) FROM outbox WHERE published_at IS NULL)::float8 AS outbox_age`),
      pledgeBookStats(funding),
      pendingSettlements(funding),
      mailCounts(funding),
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
      pledges: { count: book.pledges, amount: book.pledged },
      settlement: {
        settledTotal: book.settledMissions,
        pendingJobs,
        lagSecondsSum: sum(lag, (v) => v.metricName?.endsWith('_sum') ?? false),
        lagCount: sum(lag, (v) => v.metricName?.endsWith('_count') ?? false),
      },
      outbox: { pending: Number(r.outbox_pending), oldestAgeSeconds: Number(r.outbox_age ?? 0) },
      mail,
      sse: { clients: sum(await values(metrics, 'missionlink_sse_clients')) },
      ledger: { last },
    };
  }

  /** Verifies the books now and records the result. */
  async verifyLedger(): Promise<LedgerReport> {
    return verifyAndRecord(this.deps.funding, this.deps.ledgerChecks);
  }
}
