import type { Pool } from '../platform/db.ts';
import type { Metrics } from '../platform/metrics.ts';
import { lastVerification, verifyAndRecord, type LedgerCheck, type LedgerReport } from '../ledger/index.ts';
import { pledgeBookStats, type MissionState, type PledgeBookStats } from '../missions/index.ts';
import { mailCounts } from '../notify/index.ts';
import { reviewQueueStats } from '../payouts/index.ts';
import { pendingSettlements, takingsByKstDay, type DayTakings } from '../settlement/index.ts';

type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

async function values(metrics: Metrics, name: string): Promise<MetricValue[]> {
  const m = metrics.registry.getSingleMetric(name);
  if (!m) return [];
  return ((await m.get()).values ?? []) as MetricValue[];
}

const sum = (xs: MetricValue[], pick: (v: MetricValue) => boolean = () => true) => xs.filter(pick).reduce((s, v) => s + v.value, 0);

/** The process's own counters and the queues' depths at one moment (what the charts draw). */
export interface OpsSample {
  at: string;
  uptimeSeconds: number;
  http: { requests: number; errors5xx: number; latencySecondsSum: number; latencyCount: number };
  pledges: { count: number; amount: number };
  settlement: { settledTotal: number; pendingJobs: number; lagSecondsSum: number; lagCount: number };
  outbox: { pending: number; oldestAgeSeconds: number };
  mail: { pending: number; sent: number; failed: number };
  sse: { clients: number };
}

/** The platform's money and work at this moment (all channels; "today" is the KST day). */
export interface OpsBusiness {
  /** Today in Korea (Asia/Seoul), YYYY-MM-DD: the day of capturedToday and feesToday. */
  day: string;
  /** Cash pledged to missions that are not settled yet. */
  held: { count: number; amount: number };
  /** KRW captured from backers today (before fees), by the missions settled today. */
  capturedToday: number;
  /** The platform's fees on it. */
  feesToday: number;
  /** Missions by state, every state present. */
  missions: Record<MissionState, number>;
  /** Withdrawals waiting for an admin's review (REQUESTED). */
  withdrawalsInReview: { count: number; amount: number };
}

export interface OpsSummary extends OpsSample {
  business: OpsBusiness;
  ledger: { last: LedgerReport | null };
}

/** What the ops page draws after a reload: this process's recent samples and the last days' takings. */
export interface OpsHistory {
  /** Seconds between two samples (the charts' resolution before the page's own polls). */
  intervalSeconds: number;
  /** Oldest first, at most an hour of them; empty until an operator first looks. */
  samples: OpsSample[];
  /** The last HISTORY_DAYS KST days, oldest first, today last. */
  days: DayTakings[];
}

export const SAMPLE_SECONDS = 10;
const KEEP_SAMPLES = 360; // an hour
export const HISTORY_DAYS = 14;

/**
 * What operators watch: cumulative counters of this process (the page turns
 * them into rates), the platform-wide state from the funding database, and
 * the business figures. Once an operator has asked, the service samples
 * itself every SAMPLE_SECONDS and keeps the last hour in memory, so the
 * charts survive a reload of the page (not a restart of the process: the
 * counters start again at zero then anyway).
 */
export class OpsService {
  private readonly started = Date.now();
  private readonly samples: OpsSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      funding: Pool;
      metrics: Metrics;
      /** What other modules add to a ledger verification (the pledge book's checks). */
      ledgerChecks?: LedgerCheck[];
    },
  ) {}

  /** The process's counters and the queues; also kept as a sample when the last one is old enough. */
  async sample(stats?: Promise<PledgeBookStats>): Promise<OpsSample> {
    const { funding, metrics } = this.deps;
    const http = await values(metrics, 'missionlink_http_request_duration_seconds');
    const lag = await values(metrics, 'missionlink_settlement_lag_seconds');
    // The platform's outbox here; each module's figures through its surface.
    const [db, book, pendingJobs, mail] = await Promise.all([
      funding.query<{ outbox_pending: number; outbox_age: number | null }>(`
        SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS outbox_pending,
               (SELECT extract(epoch FROM now() - min(created_at)) FROM outbox WHERE published_at IS NULL)::float8 AS outbox_age`),
      stats ?? pledgeBookStats(funding),
      pendingSettlements(funding),
      mailCounts(funding),
    ]);
    const r = db.rows[0]!;
    const s: OpsSample = {
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
    };
    this.keep(s);
    return s;
  }

  async summary(): Promise<OpsSummary> {
    this.startSampling();
    const { funding } = this.deps;
    const stats = pledgeBookStats(funding);
    const [sample, book, [today], review, last] = await Promise.all([
      this.sample(stats),
      stats,
      takingsByKstDay(funding, 1),
      reviewQueueStats(funding),
      lastVerification(funding),
    ]);
    return {
      ...sample,
      business: {
        day: today!.day,
        held: book.held,
        capturedToday: today!.captured,
        feesToday: today!.fees,
        missions: book.missionsByState,
        withdrawalsInReview: review,
      },
      ledger: { last },
    };
  }

  /** The recent samples of this process and the takings of the last HISTORY_DAYS days. */
  async history(): Promise<OpsHistory> {
    this.startSampling();
    return { intervalSeconds: SAMPLE_SECONDS, samples: [...this.samples], days: await takingsByKstDay(this.deps.funding, HISTORY_DAYS) };
  }

  /** Verifies the books now and records the result. */
  async verifyLedger(): Promise<LedgerReport> {
    return verifyAndRecord(this.deps.funding, this.deps.ledgerChecks);
  }

  /** Stops sampling (the HTTP server's close). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private keep(s: OpsSample): void {
    const prev = this.samples.at(-1);
    // One sample per interval, whoever asked (the timer or a poll).
    if (prev && Date.parse(s.at) - Date.parse(prev.at) < SAMPLE_SECONDS * 1000 - 500) return;
    this.samples.push(s);
    if (this.samples.length > KEEP_SAMPLES) this.samples.splice(0, this.samples.length - KEEP_SAMPLES);
  }

  // Started by the first look, not at boot: a process nobody watches does no work for it.
  private startSampling(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.sample().catch(() => undefined), SAMPLE_SECONDS * 1000);
    this.timer.unref();
  }
}
