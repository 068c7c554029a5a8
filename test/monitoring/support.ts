// What the monitoring tests share: the metric names MissionLink exports, the
// rules and dashboards under deploy/monitoring, and the substitution of
// Grafana's variables so a panel's query can be parsed or run as PromQL.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import client from 'prom-client';
import { parse } from 'yaml';
import { DEPLOY } from '../deploy/support.ts';

export const MONITORING = path.join(DEPLOY, 'monitoring');
export const RULES_FILE = path.join(MONITORING, 'rules/missionlink.rules.yaml');
/** The promtool unit tests of RULES_FILE (missionlink-daily: the day-long alerts, on a coarser step). */
export const RULE_TESTS_FILES = [
  'tests/missionlink.test.yaml',
  'tests/missionlink-daily.test.yaml',
].map((f) => path.join(MONITORING, f));
export const ALERTMANAGER_FILE = path.join(MONITORING, 'alertmanager/alertmanager.yml');
export const DASHBOARDS_DIR = path.join(MONITORING, 'dashboards');

/**
 * The application metrics (src/platform/metrics.ts, src/settlement/worker.ts,
 * src/notify/worker.ts, src/missions/live.ts, src/platform/nats-bus.ts,
 * src/payouts/, src/wallet/, reconciliation) by
 * type. The live test checks this list against a real process's /metrics.
 */
export const APP_METRICS: Record<string, 'counter' | 'gauge' | 'histogram'> = {
  missionlink_http_request_duration_seconds: 'histogram',
  missionlink_login_failures_total: 'counter',
  missionlink_login_throttled_total: 'counter',
  missionlink_pledges_total: 'counter',
  missionlink_pledged_krw_total: 'counter',
  missionlink_pledge_batch_size: 'histogram',
  missionlink_prediction_bets_total: 'counter',
  missionlink_charges_total: 'counter',
  missionlink_charged_krw_total: 'counter',
  missionlink_missions: 'gauge',
  missionlink_outbox_pending: 'gauge',
  missionlink_outbox_oldest_age_seconds: 'gauge',
  missionlink_settlement_jobs_pending: 'gauge',
  missionlink_settlement_lag_seconds: 'histogram',
  missionlink_missions_settled_total: 'counter',
  missionlink_pledges_settled_total: 'counter',
  missionlink_mails_total: 'counter',
  missionlink_mails_pending: 'gauge',
  missionlink_sse_clients: 'gauge',
  missionlink_sse_dropped_total: 'counter',
  missionlink_ledger_verification_ok: 'gauge',
  missionlink_ledger_verification_duration_seconds: 'gauge',
  missionlink_ledger_verification_timestamp_seconds: 'gauge',
  missionlink_db_pool_connections: 'gauge',
  missionlink_db_pool_idle_connections: 'gauge',
  missionlink_db_pool_waiting_clients: 'gauge',
  // Streamer withdrawals (src/payouts/worker.ts, src/payouts/mails.ts).
  missionlink_withdrawals_total: 'counter',
  missionlink_withdrawals_open: 'gauge',
  missionlink_withdrawals_processing_oldest_seconds: 'gauge',
  missionlink_withdrawal_mails_total: 'counter',
  // Refunds and reversals (src/wallet/service.ts).
  missionlink_refunds_total: 'counter',
  missionlink_refunded_krw_total: 'counter',
  missionlink_refunds_pending: 'gauge',
  missionlink_refunds_processing_oldest_seconds: 'gauge',
  missionlink_reversals_total: 'counter',
  missionlink_reversed_krw_total: 'counter',
  // Disputes of decided missions and their review (src/platform/metrics.ts, src/missions/disputes.ts).
  missionlink_disputes_total: 'counter',
  // Reconciliation with the payment provider: differences found by kind, and when it last ran.
  missionlink_reconcile_differences: 'gauge',
  missionlink_reconcile_last_run_timestamp_seconds: 'gauge',
  // Outbound webhooks (src/webhooks/worker.ts; its role only).
  missionlink_webhook_deliveries_pending: 'gauge',
  // Distributed mode (NATS) only.
  missionlink_bus_consumer_lag: 'gauge',
  missionlink_bus_dead_letters_total: 'counter',
};

/** Metrics that exist only in distributed mode (NATS JetStream). */
export const DISTRIBUTED_ONLY = new Set([
  'missionlink_bus_consumer_lag',
  'missionlink_bus_dead_letters_total',
]);

/** Every series name MissionLink exports: application metrics (with histogram suffixes) and prom-client's defaults. */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const [name, type] of Object.entries(APP_METRICS)) {
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_count', '_sum']) names.add(name + suffix);
    else names.add(name);
  }
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'missionlink_' });
  for (const m of await registry.getMetricsAsJSON()) {
    if (m.type === ('histogram' as unknown))
      for (const suffix of ['_bucket', '_count', '_sum']) names.add(m.name + suffix);
    else names.add(m.name);
  }
  return names;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: {
    record?: string;
    alert?: string;
    expr: string;
    for?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  }[];
}

export function ruleGroups(): RuleGroup[] {
  return (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: RuleGroup[] }).groups;
}

export const recordingRules = () => ruleGroups().flatMap((g) => g.rules.filter((r) => r.record));
export const alertingRules = () => ruleGroups().flatMap((g) => g.rules.filter((r) => r.alert));

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- dashboard JSON
export function dashboards(): Record<string, any> {
  return Object.fromEntries(
    readdirSync(DASHBOARDS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => [f, JSON.parse(readFileSync(path.join(DASHBOARDS_DIR, f), 'utf8'))]),
  );
}

export function dashboardQueries(): DashboardQuery[] {
  return Object.entries(dashboards()).flatMap(([file, d]) =>
    (d.panels as { type: string; title: string; targets?: { expr: string }[] }[])
      .filter((p) => p.type !== 'row')
      .flatMap((p) =>
        (p.targets ?? []).map((t) => ({ dashboard: file, panel: p.title, expr: t.expr })),
      ),
  );
}

/** Replaces Grafana's variables with values Prometheus accepts (all namespaces, fixed windows). */
export function substitute(expr: string, rateInterval = '1m'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__range', '5m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$namespace', '.*');
}

const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'rate',
  'irate',
  'increase',
  'histogram_quantile',
  'time',
  'vector',
  'offset',
  'bool',
  'topk',
  'bottomk',
  'abs',
  'clamp_min',
  'clamp_max',
  'label_values',
  'le',
  'humanize',
]);

/** The metric (or recording rule) names an expression reads. */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const names = new Set<string>();
  const byClause = /\b(by|without|on|ignoring)\s*\(([^)]*)\)/g;
  const cleaned = withoutStrings.replace(byClause, '');
  for (const m of cleaned.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const next = cleaned.slice(m.index! + word.length).trimStart();
    if (PROMQL_WORDS.has(word) || next.startsWith('(')) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}
