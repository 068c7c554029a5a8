// The Prometheus rules: promtool accepts them, their unit tests pass (every
// alert fires on its situation and stays silent otherwise), the operator's
// PrometheusRule is in sync, every alert is routable and has a runbook
// section, and every metric they read is one MissionLink exports.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderPrometheusRule } from '../../deploy/monitoring/sync-rules.mjs';
import { haveTool } from '../deploy/support.ts';
import {
  alertingRules,
  DISTRIBUTED_ONLY,
  exportedSeriesNames,
  metricNames,
  MONITORING,
  recordingRules,
  RULE_TESTS_FILES,
  RULES_FILE,
} from './support.ts';

const hasPromtool = haveTool(
  'promtool',
  'checking and unit-testing the Prometheus rules',
  'apt-get install prometheus',
);

describe.skipIf(!hasPromtool)('promtool', () => {
  it('checks the rule file', () => {
    const out = execFileSync('promtool', ['check', 'rules', RULES_FILE], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes the unit tests (each alert fires and stays silent where it should)', () => {
    const r = spawnSync('promtool', ['test', 'rules', ...RULE_TESTS_FILES], { encoding: 'utf8' });
    expect((r.stdout + r.stderr).match(/SUCCESS/g)).toHaveLength(RULE_TESTS_FILES.length);
    expect(r.status).toBe(0);
  }, 60_000);
});

describe('the rules', () => {
  const alerts = alertingRules();
  interface TestFile {
    rule_files: string[];
    tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
  }
  const testFiles = RULE_TESTS_FILES.map((f) => ({
    file: f,
    ...(parse(readFileSync(f, 'utf8')) as TestFile),
  }));
  const tests = { tests: testFiles.flatMap((f) => f.tests) };

  it('are unit-tested against the rule file itself, by every test file', () => {
    for (const { file, rule_files } of testFiles)
      expect(
        rule_files.map((r) => path.resolve(path.dirname(file), r)),
        file,
      ).toEqual([RULES_FILE]);
  });

  it('are what the PrometheusRule for the operator holds (node deploy/monitoring/sync-rules.mjs)', () => {
    expect(readFileSync(path.join(MONITORING, 'prometheusrule.yaml'), 'utf8')).toBe(
      renderPrometheusRule(),
    );
  });

  it('give every alert a severity, a component, a summary and a runbook section', () => {
    const runbook = readFileSync(path.join(MONITORING, 'RUNBOOK.md'), 'utf8');
    const headings = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]));
    expect(alerts.length).toBeGreaterThan(10);
    for (const a of alerts) {
      expect(['critical', 'warning'], a.alert).toContain(a.labels?.severity);
      expect(a.labels?.component, a.alert).toBeTruthy();
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
      expect(headings.has(a.alert!), `RUNBOOK.md has no "## ${a.alert}"`).toBe(true);
      expect(a.annotations?.runbook_url, a.alert).toMatch(
        new RegExp(`/deploy/monitoring/RUNBOOK\\.md#${a.alert!.toLowerCase()}$`),
      );
    }
    expect([...headings].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it('cover the required situations', () => {
    const names = alerts.map((a) => a.alert);
    for (const required of [
      'MissionLinkPledgeErrorBudgetBurn',
      'MissionLinkPledgeLatencyBudgetBurn',
      'MissionLinkSettlementStopped',
      'MissionLinkSettlementLagHigh',
      'MissionLinkOutboxStuck',
      'MissionLinkLedgerVerificationFailed',
      'MissionLinkMailBacklog',
      // Issue 24: the money flows.
      'MissionLinkWithdrawalReviewWaiting',
      'MissionLinkWithdrawalStuck',
      'MissionLinkRefundStuck',
      'MissionLinkReconcileDifferences',
      'MissionLinkReconcileStale',
    ]) {
      expect(names).toContain(required);
    }
    const pledgeLatency = alerts.find((a) => a.alert === 'MissionLinkPledgeLatencyP99High')!;
    expect(recordingRules().find((r) => pledgeLatency.expr.includes(r.record!))!.expr).toContain(
      'route=~"/api/v1/missions/:id/pledges|',
    );
  });

  it('have a unit test where each alert fires and one where it stays silent', () => {
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const a of alerts) {
      const mine = cases.filter((c) => c.alertname === a.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${a.alert} never fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${a.alert} is never tested silent`,
      ).toBe(true);
    }
  });

  it('read only metrics MissionLink exports (or other rules)', async () => {
    const exported = await exportedSeriesNames();
    const records = new Set(recordingRules().map((r) => r.record!));
    const unknown: string[] = [];
    for (const r of [...recordingRules(), ...alertingRules()]) {
      for (const name of metricNames(r.expr)) {
        if (name === 'up' || exported.has(name) || records.has(name)) continue;
        unknown.push(`${r.record ?? r.alert}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    // The bus metrics appear only in alerts that stay silent without them.
    const busRules = [...recordingRules(), ...alertingRules()].filter((r) =>
      metricNames(r.expr).some((n) => DISTRIBUTED_ONLY.has(n)),
    );
    expect(busRules.every((r) => r.alert)).toBe(true);
  });
});
