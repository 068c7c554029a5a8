// The platform alerts (deploy/monitoring/platform): promtool accepts and
// unit-tests them (each fires and stays silent), each has a runbook section,
// the PrometheusRule is generated from the rule file, they read only the
// metrics the add-ons' exporters publish, and Alertmanager routes each to a
// pager or the chat. Also Alertmanager's receivers: real integrations whose
// secrets are files of the Secret the ExternalSecret writes and
// kube-prometheus-stack mounts.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderPlatformRule } from '../../deploy/monitoring/sync-rules.mjs';
import { DEPLOY, haveTool } from '../deploy/support.ts';
import { ALERTMANAGER_FILE, metricNames, MONITORING } from './support.ts';

const PLATFORM = path.join(MONITORING, 'platform');
const RULES = path.join(PLATFORM, 'platform.rules.yaml');
const TESTS = path.join(PLATFORM, 'tests/platform.test.yaml');
const hasPromtool = haveTool(
  'promtool',
  'checking the platform rules',
  'apt-get install prometheus',
);
const hasAmtool = haveTool(
  'amtool',
  'routing the platform alerts',
  'apt-get install prometheus-alertmanager',
);

interface Rule {
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alerts = (
  parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules.filter((r) => r.alert));

/**
 * The series the add-ons export that the rules may read, by exporter (names as
 * in each project's metrics documentation at the pinned chart versions).
 */
const PLATFORM_METRICS: Record<string, string[]> = {
  cloudnativepg: [
    'cnpg_collector_last_available_backup_timestamp',
    'cnpg_pg_stat_archiver_failed_count',
    'cnpg_pg_stat_archiver_seconds_since_last_archival',
    'cnpg_pg_replication_in_recovery',
  ],
  'external-secrets': ['externalsecret_status_condition'],
  'cert-manager': ['certmanager_certificate_expiration_timestamp_seconds'],
  'argo-cd': ['argocd_app_info', 'argocd_app_sync_total'],
};

describe.skipIf(!hasPromtool)('platform rules under promtool', () => {
  it('pass check rules and the unit tests', () => {
    expect(execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' })).toMatch(
      /SUCCESS: \d+ rules found/,
    );
    const r = spawnSync('promtool', ['test', 'rules', TESTS], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  }, 60_000);
});

describe('platform rules', () => {
  it('cover backups, WAL archiving, secret sync, certificates and Argo CD health', () => {
    const names = alerts.map((a) => a.alert);
    for (const required of [
      'MissionLinkDatabaseBackupStale',
      'MissionLinkWalArchivingFailing',
      'MissionLinkWalArchivingStalled',
      'MissionLinkExternalSecretNotSynced',
      'MissionLinkCertificateExpiringSoon',
      'MissionLinkCertificateExpiring',
      'MissionLinkArgoAppUnhealthy',
      'MissionLinkArgoSyncFailing',
    ])
      expect(names).toContain(required);
  });

  it('give every alert a severity, a component, a summary and a runbook section; each fires and stays silent in a test', () => {
    const runbook = readFileSync(path.join(PLATFORM, 'RUNBOOK.md'), 'utf8');
    const headings = [...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);
    expect(headings.sort()).toEqual(alerts.map((a) => a.alert).sort());
    const cases = (
      parse(readFileSync(TESTS, 'utf8')) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const a of alerts) {
      expect(['critical', 'warning'], a.alert).toContain(a.labels?.severity);
      expect(a.labels?.component, a.alert).toBeTruthy();
      expect(a.annotations?.summary && a.annotations.description, a.alert).toBeTruthy();
      expect(a.annotations?.runbook_url, a.alert).toMatch(
        new RegExp(`/deploy/monitoring/platform/RUNBOOK\\.md#${a.alert!.toLowerCase()}$`),
      );
      const mine = cases.filter((c) => c.alertname === a.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${a.alert} never fires`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${a.alert} never silent`,
      ).toBe(true);
    }
  });

  it('read only what the add-ons export', () => {
    const known = new Set(Object.values(PLATFORM_METRICS).flat());
    for (const a of alerts)
      for (const name of metricNames(a.expr))
        expect(known.has(name), `${a.alert}: ${name}`).toBe(true);
  });

  it('are what the PrometheusRule holds (node deploy/monitoring/sync-rules.mjs)', () => {
    expect(readFileSync(path.join(PLATFORM, 'prometheusrule.yaml'), 'utf8')).toBe(
      renderPlatformRule(),
    );
  });
});

/** The receiver amtool resolves for a label set. */
const receiverFor = (labels: Record<string, string>) =>
  execFileSync(
    'amtool',
    [
      'config',
      'routes',
      'test',
      `--config.file=${ALERTMANAGER_FILE}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  ).trim();

describe.skipIf(!hasAmtool)('Alertmanager and the platform alerts', () => {
  it('pages for critical platform alerts in prod, sends warnings to the chat, and never pages from the dev cluster', () => {
    for (const a of alerts) {
      const labels = { alertname: a.alert!, environment: 'prod', namespace: 'edge', ...a.labels };
      expect(receiverFor(labels), a.alert).toBe(
        a.labels!.severity === 'critical' ? 'ops-pager' : 'ops-chat',
      );
      expect(receiverFor({ ...labels, environment: 'dev' }), `${a.alert} (dev)`).toBe('ops-chat');
    }
  });
});

describe('Alertmanager receivers', () => {
  const config = parse(readFileSync(ALERTMANAGER_FILE, 'utf8')) as {
    global: Record<string, unknown>;
    receivers: Record<string, unknown>[];
  };
  const kps = parse(
    readFileSync(path.join(DEPLOY, 'argocd/addons/kube-prometheus-stack.yaml'), 'utf8'),
  );
  const credentials = parse(
    readFileSync(path.join(DEPLOY, 'monitoring/alertmanager/credentials.yaml'), 'utf8').split(
      /^---$/m,
    )[2]!,
  );

  it('are real integrations: e-mail through the SMTP relay, PagerDuty, the chat webhook; no in-cluster relay', () => {
    const text = readFileSync(ALERTMANAGER_FILE, 'utf8');
    expect(text).not.toMatch(/alert-relay|\.svc[:/]/);
    const kinds = Object.fromEntries(
      config.receivers.map((r) => [
        r.name,
        Object.keys(r)
          .filter((k) => k.endsWith('_configs'))
          .sort(),
      ]),
    );
    expect(kinds).toEqual({
      'ops-pager': ['email_configs', 'pagerduty_configs'],
      'ops-chat': ['slack_configs'],
      'ops-default': ['email_configs'],
    });
    expect(config.global.smtp_require_tls).toBe(true);
  });

  it('read every credential from a file of the mounted Secret the ExternalSecret writes', () => {
    const spec = kps.spec.source.helm.valuesObject.alertmanager.alertmanagerSpec;
    expect(spec.configSecret).toBe('alertmanager-missionlink');
    const files: string[] = [];
    const walk = (v: unknown, key = '') => {
      if (Array.isArray(v)) v.forEach((x) => walk(x));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
      else if (/_file$/.test(key)) files.push(String(v));
      else if (/password|routing_key|api_url|api_key|token/.test(key))
        throw new Error(`inline secret ${key}`);
    };
    walk(config);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const written = Object.keys(credentials.spec.target.template.data);
    for (const f of files) {
      const m = /^\/etc\/alertmanager\/secrets\/([^/]+)\/([^/]+)$/.exec(f);
      expect(m, f).not.toBeNull();
      expect(spec.secrets, f).toContain(m![1]);
      expect(credentials.spec.target.name).toBe(m![1]);
      expect(written, f).toContain(m![2]);
    }
    // The template only reads keys the ExternalSecret fetches.
    const fetched = new Set(credentials.spec.data.map((d: { secretKey: string }) => d.secretKey));
    for (const tpl of Object.values(credentials.spec.target.template.data) as string[])
      for (const [, key] of tpl.matchAll(/\.(\w+)/g))
        if (!['userinfo'].includes(key!)) expect(fetched.has(key), `${tpl}: ${key}`).toBe(true);
  });
});
