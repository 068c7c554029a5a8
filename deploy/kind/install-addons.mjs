#!/usr/bin/env node
// Installs, in the kind job, the cluster add-ons the app needs, at exactly the
// chart versions and with the values the Argo CD Applications pin
// (deploy/argocd/addons), plus a few kind-only overrides (one replica, no
// cloud load balancer). Prints the helm commands; `--run` runs them.
//   node deploy/kind/install-addons.mjs --run
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ADDONS = path.join(HERE, '../argocd/addons');

/** The add-ons kind runs, in order (the AWS ones, Kyverno's image verification and logging stay out). */
// kube-prometheus-stack first: the others create ServiceMonitors and PodMonitors.
export const KIND_ADDONS = [
  'kube-prometheus-stack',
  'envoy-gateway',
  'cert-manager',
  'cloudnative-pg',
  'external-secrets',
  'keda',
  'reloader',
];

/** Values only kind needs, merged over the Application's. */
const KIND_VALUES = {
  // No ECR in kind: the charts' own (upstream) images.
  'cloudnative-pg': { image: { repository: 'ghcr.io/cloudnative-pg/cloudnative-pg' } },
  'kube-prometheus-stack': {
    'prometheus-node-exporter': { image: { registry: 'quay.io' } },
    prometheus: { prometheusSpec: { replicas: 1, storageSpec: {} } },
    alertmanager: { enabled: false },
    grafana: { enabled: false },
  },
};

const merge = (a, b) => {
  if (b === undefined) return a;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return b;
  const out = { ...(a ?? {}) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
};

/** One helm invocation per add-on: [name, args]. */
export function plan() {
  return KIND_ADDONS.map((name) => {
    const app = parse(readFileSync(path.join(ADDONS, `${name}.yaml`), 'utf8'));
    const { repoURL, chart, targetRevision, helm } = app.spec.source;
    const values = merge(helm?.valuesObject ?? {}, KIND_VALUES[name]);
    const oci = !repoURL.startsWith('https://');
    const args = [
      'upgrade',
      '--install',
      helm?.releaseName ?? name,
      oci ? `oci://${repoURL}/${chart}` : chart,
      ...(oci ? [] : ['--repo', repoURL]),
      '--version',
      targetRevision,
      '--namespace',
      app.spec.destination.namespace,
      '--create-namespace',
      '--wait',
      '--timeout',
      '10m',
    ];
    return { name, args, values };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'addons-'));
  for (const { name, args, values } of plan()) {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(values));
    const full = [...args, '--values', file];
    process.stdout.write(`helm ${full.join(' ')}\n`);
    if (process.argv.includes('--run')) execFileSync('helm', full, { stdio: 'inherit' });
  }
}
