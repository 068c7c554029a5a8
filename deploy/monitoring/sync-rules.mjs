#!/usr/bin/env node
// Wraps rules/*.rules.yaml (plain Prometheus rule files, what promtool reads)
// into prometheusrule.yaml (what the Prometheus Operator reads), and
// platform/platform.rules.yaml into platform/prometheusrule.yaml. Run after
// editing a rule file:  node deploy/monitoring/sync-rules.mjs
// test/monitoring/rules.test.ts fails while the two differ.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The PrometheusRule manifest text for the rule files in rules/. */
export function renderPrometheusRule() {
  const dir = path.join(here, 'rules');
  const groups = readdirSync(dir)
    .filter((f) => f.endsWith('.rules.yaml'))
    .sort()
    .flatMap((f) => parse(readFileSync(path.join(dir, f), 'utf8')).groups);
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'missionlink', labels: { 'app.kubernetes.io/name': 'missionlink' } },
    spec: { groups },
  };
  return `# Generated from rules/*.rules.yaml by sync-rules.mjs; do not edit by hand.\n${stringify(manifest, { lineWidth: 0 })}`;
}

/** The PrometheusRule manifest text for platform/platform.rules.yaml (the add-ons' alerts). */
export function renderPlatformRule() {
  const { groups } = parse(readFileSync(path.join(here, 'platform/platform.rules.yaml'), 'utf8'));
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'missionlink-platform',
      labels: { 'app.kubernetes.io/name': 'missionlink-platform' },
    },
    spec: { groups },
  };
  return `# Generated from platform.rules.yaml by ../sync-rules.mjs; do not edit by hand.\n${stringify(manifest, { lineWidth: 0 })}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(path.join(here, 'prometheusrule.yaml'), renderPrometheusRule());
  writeFileSync(path.join(here, 'platform/prometheusrule.yaml'), renderPlatformRule());
  process.stdout.write(
    'wrote deploy/monitoring/prometheusrule.yaml and platform/prometheusrule.yaml\n',
  );
}
