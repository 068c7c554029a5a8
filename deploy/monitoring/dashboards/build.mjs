#!/usr/bin/env node
// Builds the Grafana dashboards (JSON, schemaVersion 39) from one compact
// description, so every panel has the same shape: a Prometheus datasource
// variable, a namespace variable and queries on metrics MissionLink exports.
//   node deploy/monitoring/dashboards/build.mjs   (rewrites the *.json here)
// test/monitoring/dashboards.test.ts fails while the files are out of date.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const DS = { type: 'prometheus', uid: '${datasource}' };
const NS = 'namespace=~"$namespace"';
const RI = '$__rate_interval';

/** A metric selector limited to the chosen namespaces: sel('missionlink_x', 'a="b"'). */
const sel = (metric, extra = '') => `${metric}{${[NS, extra].filter(Boolean).join(',')}}`;
const PLEDGE =
  'method="POST",route=~"/api/v1/missions/:id/pledges|/api/v1/channels/:handle/missions"';

function variables() {
  return {
    list: [
      {
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'prometheus',
        current: { text: 'default', value: 'default' },
        hide: 0,
        refresh: 1,
        regex: '',
        options: [],
      },
      {
        name: 'namespace',
        label: 'Namespace',
        type: 'query',
        datasource: DS,
        query: {
          query: 'label_values(missionlink_process_start_time_seconds, namespace)',
          refId: 'namespace',
        },
        includeAll: true,
        multi: true,
        allValue: '.*',
        current: { text: 'All', value: '$__all' },
        hide: 0,
        refresh: 2,
        regex: '',
        sort: 1,
        options: [],
      },
    ],
  };
}

/** Lays panels out left to right, 24 columns wide. */
function layout(rows) {
  const panels = [];
  let y = 0;
  let id = 1;
  for (const row of rows) {
    if (row.row) {
      panels.push({
        id: id++,
        type: 'row',
        title: row.row,
        collapsed: false,
        gridPos: { x: 0, y, w: 24, h: 1 },
        panels: [],
      });
      y += 1;
      continue;
    }
    let x = 0;
    const h = Math.max(...row.map((p) => p.h ?? 8));
    for (const p of row) {
      const w = p.w ?? Math.floor(24 / row.length);
      panels.push(panel(id++, p, { x, y, w, h: p.h ?? 8 }));
      x += w;
    }
    y += h;
  }
  return panels;
}

function panel(id, p, gridPos) {
  const type = p.type ?? 'timeseries';
  const targets = p.targets.map(([expr, legendFormat], i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    expr,
    legendFormat: legendFormat ?? '__auto',
    range: true,
    instant: false,
  }));
  const options =
    type === 'stat'
      ? {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          colorMode: 'value',
          graphMode: 'area',
          justifyMode: 'auto',
          orientation: 'auto',
          textMode: 'auto',
          wideLayout: true,
          showPercentChange: false,
        }
      : {
          legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
          tooltip: { mode: 'multi', sort: 'desc' },
        };
  return {
    id,
    type,
    title: p.title,
    description: p.description ?? '',
    datasource: DS,
    gridPos,
    targets,
    fieldConfig: {
      defaults: { unit: p.unit ?? 'short', ...(p.thresholds ? { thresholds: p.thresholds } : {}) },
      overrides: [],
    },
    options,
  };
}

function dashboard(uid, title, description, tags, rows) {
  return {
    uid,
    title,
    description,
    tags: ['missionlink', ...tags],
    editable: true,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    schemaVersion: 39,
    version: 1,
    timezone: 'utc',
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    weekStart: '',
    links: [],
    annotations: { list: [] },
    templating: variables(),
    panels: layout(rows),
  };
}

const red = (value) => ({
  mode: 'absolute',
  steps: [
    { color: 'green', value: null },
    { color: 'red', value },
  ],
});

/** The five dashboards, by file name. */
export function dashboards() {
  return {
    'missionlink-business.json': dashboard(
      'missionlink-business',
      'MissionLink / Business overview',
      'Money and missions: what viewers pledge, what streamers earn, how missions end.',
      ['business'],
      [
        [
          {
            type: 'stat',
            h: 5,
            title: 'KRW pledged (time range)',
            unit: 'currencyKRW',
            targets: [[`sum(increase(${sel('missionlink_pledged_krw_total')}[$__range]))`, 'KRW']],
          },
          {
            type: 'stat',
            h: 5,
            title: 'KRW charged into wallets (time range)',
            unit: 'currencyKRW',
            targets: [[`sum(increase(${sel('missionlink_charged_krw_total')}[$__range]))`, 'KRW']],
          },
          {
            type: 'stat',
            h: 5,
            title: 'Active missions',
            targets: [
              [
                `sum(max by (namespace) (${sel('missionlink_missions', 'state="ACTIVE"')}))`,
                'active',
              ],
            ],
          },
          {
            type: 'stat',
            h: 5,
            title: 'Books balanced (last verification)',
            description: '1 = the last ledger verification found every invariant intact.',
            thresholds: {
              mode: 'absolute',
              steps: [
                { color: 'red', value: null },
                { color: 'green', value: 1 },
              ],
            },
            targets: [
              [
                `min(${sel('missionlink_ledger_verification_ok')} and ${sel('missionlink_ledger_verification_timestamp_seconds')} > 0)`,
                'ok',
              ],
            ],
          },
        ],
        [
          {
            title: 'Missions by state',
            targets: [[`max by (state) (${sel('missionlink_missions')})`, '{{state}}']],
          },
          {
            title: 'Pledges per minute',
            description: 'proposal = the first pledge of a new mission',
            targets: [
              [`sum by (kind) (rate(${sel('missionlink_pledges_total')}[${RI}])) * 60`, '{{kind}}'],
            ],
          },
        ],
        [
          {
            title: 'KRW pledged per minute',
            unit: 'currencyKRW',
            targets: [
              [
                `sum by (kind) (rate(${sel('missionlink_pledged_krw_total')}[${RI}])) * 60`,
                '{{kind}}',
              ],
            ],
          },
          {
            title: 'Wallet charges per minute',
            targets: [
              [`sum(rate(${sel('missionlink_charges_total')}[${RI}])) * 60`, 'charges'],
              [
                `sum(rate(${sel('missionlink_charged_krw_total')}[${RI}])) * 60 / 1000`,
                'thousand KRW',
              ],
            ],
          },
        ],
        [
          {
            title: 'Missions settled per minute, by outcome',
            targets: [
              [
                `sum by (outcome) (rate(${sel('missionlink_missions_settled_total')}[${RI}])) * 60`,
                '{{outcome}}',
              ],
            ],
          },
          {
            title: 'Pledges settled per minute, by result',
            targets: [
              [
                `sum by (result) (rate(${sel('missionlink_pledges_settled_total')}[${RI}])) * 60`,
                '{{result}}',
              ],
            ],
          },
        ],
        [
          {
            title: 'Prediction bets per minute, by side',
            targets: [
              [
                `sum by (side) (rate(${sel('missionlink_prediction_bets_total')}[${RI}])) * 60`,
                '{{side}}',
              ],
            ],
          },
          {
            title: 'Live viewers (event-stream clients)',
            targets: [[`sum(${sel('missionlink_sse_clients')})`, 'clients']],
          },
        ],
      ],
    ),

    'missionlink-api.json': dashboard(
      'missionlink-api',
      'MissionLink / API (RED)',
      'Rate, errors and duration of the HTTP API by Fastify route template, and the pledge SLOs.',
      ['api', 'red'],
      [
        { row: 'Rate, errors, duration' },
        [
          {
            title: 'Requests per second by route',
            unit: 'reqps',
            targets: [
              [
                `sum by (route) (rate(${sel('missionlink_http_request_duration_seconds_count')}[${RI}]))`,
                '{{route}}',
              ],
            ],
          },
          {
            title: 'Server errors (5xx) ratio by route',
            unit: 'percentunit',
            targets: [
              [
                `(sum by (route) (rate(${sel('missionlink_http_request_duration_seconds_count', 'status_code=~"5.."')}[${RI}])) or 0 * sum by (route) (rate(${sel('missionlink_http_request_duration_seconds_count')}[${RI}]))) / sum by (route) (rate(${sel('missionlink_http_request_duration_seconds_count')}[${RI}]))`,
                '{{route}}',
              ],
            ],
          },
        ],
        [
          {
            title: 'Latency p99 by route',
            unit: 's',
            targets: [
              [
                `histogram_quantile(0.99, sum by (route, le) (rate(${sel('missionlink_http_request_duration_seconds_bucket')}[${RI}])))`,
                '{{route}}',
              ],
            ],
          },
          {
            title: 'Latency p50 by route',
            unit: 's',
            targets: [
              [
                `histogram_quantile(0.5, sum by (route, le) (rate(${sel('missionlink_http_request_duration_seconds_bucket')}[${RI}])))`,
                '{{route}}',
              ],
            ],
          },
        ],
        [
          {
            title: 'Client errors (4xx) by route and status',
            unit: 'reqps',
            targets: [
              [
                `sum by (route, status_code) (rate(${sel('missionlink_http_request_duration_seconds_count', 'status_code=~"4.."')}[${RI}]))`,
                '{{route}} {{status_code}}',
              ],
            ],
          },
          {
            title: 'Responses by status code',
            unit: 'reqps',
            targets: [
              [
                `sum by (status_code) (rate(${sel('missionlink_http_request_duration_seconds_count')}[${RI}]))`,
                '{{status_code}}',
              ],
            ],
          },
        ],
        { row: 'Pledge SLOs (99.9 % without 5xx, 99 % within 500 ms)' },
        [
          {
            title: 'Pledge error ratio (SLO 0.1 %)',
            unit: 'percentunit',
            thresholds: red(0.001),
            targets: [
              [`namespace:missionlink_pledge_errors:ratio_rate5m{${NS}}`, '5m {{namespace}}'],
              [`namespace:missionlink_pledge_errors:ratio_rate1h{${NS}}`, '1h {{namespace}}'],
            ],
          },
          {
            title: 'Pledge latency p99 (target 500 ms)',
            unit: 's',
            thresholds: red(0.5),
            targets: [
              [
                `histogram_quantile(0.99, sum by (le) (rate(${sel('missionlink_http_request_duration_seconds_bucket', PLEDGE)}[${RI}])))`,
                'p99',
              ],
            ],
          },
          {
            title: 'Error budget burn rate (1h)',
            description: '1 = spending the 30-day budget exactly; 14.4 pages.',
            targets: [
              [
                `namespace:missionlink_pledge_errors:ratio_rate1h{${NS}} / 0.001`,
                'availability {{namespace}}',
              ],
              [
                `namespace:missionlink_pledge_slow:ratio_rate1h{${NS}} / 0.01`,
                'latency {{namespace}}',
              ],
            ],
          },
        ],
        [
          {
            title: 'Pledges per write (mean)',
            description:
              'Concurrent pledges are written together, one statement and one commit per batch; one_by_one counts lone pledges and batches retried one pledge at a time after a refusal.',
            targets: [
              [
                `sum by (written) (rate(${sel('missionlink_pledge_batch_size_sum')}[${RI}])) / sum by (written) (rate(${sel('missionlink_pledge_batch_size_count')}[${RI}]))`,
                '{{written}}',
              ],
            ],
          },
          {
            title: 'Pledge writes per second',
            targets: [
              [
                `sum by (written) (rate(${sel('missionlink_pledge_batch_size_count')}[${RI}]))`,
                '{{written}}',
              ],
            ],
          },
        ],
        { row: 'Sign-in and live events' },
        [
          {
            title: 'Failed logins per minute',
            targets: [
              [
                `sum by (reason) (rate(${sel('missionlink_login_failures_total')}[${RI}])) * 60`,
                '{{reason}}',
              ],
            ],
          },
          {
            title: 'Throttled logins per minute',
            targets: [
              [
                `sum by (scope) (rate(${sel('missionlink_login_throttled_total')}[${RI}])) * 60`,
                '{{scope}}',
              ],
            ],
          },
          {
            title: 'Event-stream clients and drops',
            targets: [
              [`sum(${sel('missionlink_sse_clients')})`, 'connected'],
              [
                `sum(rate(${sel('missionlink_sse_dropped_total')}[${RI}])) * 60`,
                'dropped per minute',
              ],
            ],
          },
        ],
        { row: 'Processes' },
        [
          {
            title: 'CPU by instance',
            unit: 'percentunit',
            targets: [
              [
                `sum by (instance, role) (rate(${sel('missionlink_process_cpu_seconds_total')}[${RI}]))`,
                '{{role}} {{instance}}',
              ],
            ],
          },
          {
            title: 'Resident memory by instance',
            unit: 'bytes',
            targets: [
              [
                `max by (instance, role) (${sel('missionlink_process_resident_memory_bytes')})`,
                '{{role}} {{instance}}',
              ],
            ],
          },
          {
            title: 'Event-loop lag p99',
            unit: 's',
            targets: [
              [
                `max by (instance, role) (${sel('missionlink_nodejs_eventloop_lag_p99_seconds')})`,
                '{{role}} {{instance}}',
              ],
            ],
          },
        ],
      ],
    ),

    'missionlink-workers.json': dashboard(
      'missionlink-workers',
      'MissionLink / Workers and bus',
      'Outbox relay, settlement, result mails and (distributed mode) the NATS JetStream consumers.',
      ['workers', 'bus'],
      [
        { row: 'Outbox' },
        [
          {
            title: 'Unpublished events',
            targets: [
              [`max by (namespace) (${sel('missionlink_outbox_pending')})`, '{{namespace}}'],
            ],
          },
          {
            title: 'Oldest unpublished event age',
            unit: 's',
            thresholds: red(60),
            targets: [
              [
                `max by (namespace) (${sel('missionlink_outbox_oldest_age_seconds')})`,
                '{{namespace}}',
              ],
            ],
          },
        ],
        { row: 'Settlement' },
        [
          {
            title: 'Settlement jobs pending',
            targets: [
              [
                `max by (namespace) (${sel('missionlink_settlement_jobs_pending')})`,
                '{{namespace}}',
              ],
            ],
          },
          {
            title: 'Settlement lag by outcome (p50, p99)',
            unit: 's',
            targets: [
              [
                `histogram_quantile(0.99, sum by (outcome, le) (rate(${sel('missionlink_settlement_lag_seconds_bucket')}[${RI}])))`,
                'p99 {{outcome}}',
              ],
              [
                `histogram_quantile(0.5, sum by (outcome, le) (rate(${sel('missionlink_settlement_lag_seconds_bucket')}[${RI}])))`,
                'p50 {{outcome}}',
              ],
            ],
          },
          {
            title: 'Missions settled per minute',
            targets: [
              [
                `sum by (outcome) (rate(${sel('missionlink_missions_settled_total')}[${RI}])) * 60`,
                '{{outcome}}',
              ],
            ],
          },
        ],
        { row: 'Result mails' },
        [
          {
            title: 'Mails per minute by result',
            targets: [
              [
                `sum by (result) (rate(${sel('missionlink_mails_total')}[${RI}])) * 60`,
                '{{result}}',
              ],
            ],
          },
          {
            title: 'Mails waiting',
            targets: [
              [`max by (namespace) (${sel('missionlink_mails_pending')})`, '{{namespace}}'],
            ],
          },
        ],
        { row: 'Bus (NATS JetStream, distributed mode)' },
        [
          {
            title: 'Consumer lag',
            description: 'Events waiting for or being processed by each durable consumer.',
            targets: [
              [`max by (consumer) (${sel('missionlink_bus_consumer_lag')})`, '{{consumer}}'],
            ],
          },
          {
            title: 'Dead-lettered events',
            targets: [
              [
                `sum by (consumer) (increase(${sel('missionlink_bus_dead_letters_total')}[${RI}]))`,
                '{{consumer}}',
              ],
            ],
          },
          {
            title: 'Ledger verification duration',
            unit: 's',
            targets: [
              [
                `max by (namespace) (${sel('missionlink_ledger_verification_duration_seconds')} and ${sel('missionlink_ledger_verification_timestamp_seconds')} > 0)`,
                '{{namespace}}',
              ],
            ],
          },
        ],
      ],
    ),

    'missionlink-money-flows.json': dashboard(
      'missionlink-money-flows',
      'MissionLink / Money flows',
      'Money leaving and coming back: refunds of unused cash, the provider’s reversals, streamers’ withdrawals, disputes and their review, and the daily reconciliation with the payout provider.',
      ['business', 'payments'],
      [
        { row: 'Refunds (unused cash back to the payment method)' },
        [
          {
            type: 'stat',
            h: 5,
            title: 'KRW refunded (time range)',
            unit: 'currencyKRW',
            targets: [[`sum(increase(${sel('missionlink_refunded_krw_total')}[$__range]))`, 'KRW']],
          },
          {
            type: 'stat',
            h: 5,
            title: 'Refunds that failed (time range)',
            description: 'The provider refused every part: the money went back to the wallet.',
            thresholds: red(1),
            targets: [
              [
                `sum(increase(${sel('missionlink_refunds_total', 'status="failed"')}[$__range]))`,
                'failed',
              ],
            ],
          },
          {
            type: 'stat',
            h: 5,
            title: 'Refunds waiting for the provider',
            targets: [[`max(${sel('missionlink_refunds_pending')})`, 'pending']],
          },
          {
            type: 'stat',
            h: 5,
            title: 'Oldest refund waiting',
            description: 'MissionLinkRefundStuck fires above an hour.',
            unit: 's',
            thresholds: red(3600),
            targets: [[`max(${sel('missionlink_refunds_processing_oldest_seconds')})`, 'oldest']],
          },
        ],
        [
          {
            title: 'Refunds per hour, by result',
            targets: [
              [
                `sum by (status) (rate(${sel('missionlink_refunds_total')}[${RI}])) * 3600`,
                '{{status}}',
              ],
            ],
          },
          {
            title: 'KRW refunded per hour',
            unit: 'currencyKRW',
            targets: [[`sum(rate(${sel('missionlink_refunded_krw_total')}[${RI}])) * 3600`, 'KRW']],
          },
          {
            title: 'Refunds waiting and the oldest one’s age',
            targets: [
              [
                `max by (namespace) (${sel('missionlink_refunds_pending')})`,
                'waiting {{namespace}}',
              ],
              [
                `max by (namespace) (${sel('missionlink_refunds_processing_oldest_seconds')}) / 60`,
                'oldest, minutes {{namespace}}',
              ],
            ],
          },
        ],
        { row: 'Reversals (card cancellations and chargebacks the provider reports)' },
        [
          {
            title: 'Reversals per hour',
            targets: [
              [`sum(rate(${sel('missionlink_reversals_total')}[${RI}])) * 3600`, 'reversals'],
            ],
          },
          {
            title: 'KRW reversed per hour, by where it came from',
            description:
              'wallet = taken from the wallet’s cash; owed = more than the wallet held, now owed by the user.',
            unit: 'currencyKRW',
            targets: [
              [
                `sum by (from) (rate(${sel('missionlink_reversed_krw_total')}[${RI}])) * 3600`,
                '{{from}}',
              ],
            ],
          },
          {
            type: 'stat',
            title: 'KRW reversed (time range)',
            unit: 'currencyKRW',
            targets: [
              [
                `sum by (from) (increase(${sel('missionlink_reversed_krw_total')}[$__range]))`,
                '{{from}}',
              ],
            ],
          },
        ],
        { row: 'Withdrawals (streamers’ earnings paid out)' },
        [
          {
            title: 'Open withdrawals, by status',
            description:
              'REQUESTED waits for an admin (MissionLinkWithdrawalReviewWaiting after 24 h); PROCESSING is with the payout provider.',
            targets: [[`max by (status) (${sel('missionlink_withdrawals_open')})`, '{{status}}']],
          },
          {
            title: 'Oldest withdrawal with the provider',
            description: 'MissionLinkWithdrawalStuck fires above an hour.',
            unit: 's',
            thresholds: red(3600),
            targets: [
              [
                `max by (namespace) (${sel('missionlink_withdrawals_processing_oldest_seconds')})`,
                '{{namespace}}',
              ],
            ],
          },
        ],
        [
          {
            title: 'Withdrawals per hour, by result',
            description:
              'paid and failed are the provider’s final answers; error counts provider calls that failed (retried).',
            targets: [
              [
                `sum by (result) (rate(${sel('missionlink_withdrawals_total')}[${RI}])) * 3600`,
                '{{result}}',
              ],
            ],
          },
          {
            title: 'Withdrawal mails per hour, by result',
            targets: [
              [
                `sum by (result) (rate(${sel('missionlink_withdrawal_mails_total')}[${RI}])) * 3600`,
                '{{result}}',
              ],
            ],
          },
        ],
        { row: 'Disputes and reviews' },
        [
          {
            title: 'Disputes per hour',
            description:
              'filed = the mission stays CONFIRMING; escalated = the dispute reached the channel’s threshold and sent the mission to IN_REVIEW.',
            targets: [
              [
                `sum by (result) (rate(${sel('missionlink_disputes_total', 'result=~"filed|escalated"')}[${RI}])) * 3600`,
                '{{result}}',
              ],
            ],
          },
          {
            title: 'Reviews resolved, by outcome (time range)',
            type: 'stat',
            targets: [
              [
                `sum by (result) (increase(${sel('missionlink_disputes_total', 'result=~"succeeded|failed|cancelled"')}[$__range]))`,
                '{{result}}',
              ],
            ],
          },
          {
            title: 'Missions in the dispute window and in review',
            targets: [
              [
                `max by (state) (${sel('missionlink_missions', 'state=~"CONFIRMING|IN_REVIEW"')})`,
                '{{state}}',
              ],
            ],
          },
        ],
        { row: 'Reconciliation with the payout provider (daily)' },
        [
          {
            type: 'stat',
            h: 5,
            title: 'Differences found (last run)',
            description: 'MissionLinkReconcileDifferences fires on any.',
            thresholds: red(1),
            targets: [
              [
                `sum(max by (namespace, kind) (${sel('missionlink_reconcile_differences')}))`,
                'differences',
              ],
            ],
          },
          {
            type: 'stat',
            h: 5,
            title: 'Since the last reconciliation',
            description: 'MissionLinkReconcileStale fires above 26 hours.',
            unit: 's',
            thresholds: red(26 * 3600),
            targets: [
              [
                `time() - max(${sel('missionlink_reconcile_last_run_timestamp_seconds')})`,
                'since last run',
              ],
            ],
          },
        ],
        [
          {
            title: 'Differences by kind',
            w: 24,
            targets: [[`max by (kind) (${sel('missionlink_reconcile_differences')})`, '{{kind}}']],
          },
        ],
      ],
    ),

    'missionlink-postgres-pools.json': dashboard(
      'missionlink-postgres-pools',
      'MissionLink / PostgreSQL pools',
      'Connection pools of each process to the identity and funding databases (missionlink_db_pool_*).',
      ['postgresql'],
      [
        [
          {
            title: 'Open connections by database',
            targets: [
              [`sum by (database) (${sel('missionlink_db_pool_connections')})`, '{{database}}'],
            ],
          },
          {
            title: 'Busy connections by database',
            targets: [
              [
                `sum by (database) (${sel('missionlink_db_pool_connections')} - ${sel('missionlink_db_pool_idle_connections')})`,
                '{{database}}',
              ],
            ],
          },
        ],
        [
          {
            title: 'Idle connections by database',
            targets: [
              [
                `sum by (database) (${sel('missionlink_db_pool_idle_connections')})`,
                '{{database}}',
              ],
            ],
          },
          {
            title: 'Queries waiting for a connection',
            thresholds: red(5),
            targets: [
              [`sum by (database) (${sel('missionlink_db_pool_waiting_clients')})`, '{{database}}'],
            ],
          },
        ],
        [
          {
            title: 'Open connections by process',
            w: 24,
            targets: [
              [
                `sum by (database, role, instance) (${sel('missionlink_db_pool_connections')})`,
                '{{database}} {{role}} {{instance}}',
              ],
            ],
          },
        ],
      ],
    ),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [file, dash] of Object.entries(dashboards())) {
    writeFileSync(path.join(here, file), `${JSON.stringify(dash, null, 2)}\n`);
    process.stdout.write(`wrote deploy/monitoring/dashboards/${file}\n`);
  }
}
