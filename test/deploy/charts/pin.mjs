// Re-pins the value keys of the Helm charts the add-on Applications install
// (deploy/argocd/addons): reads each chart's default values.yaml at the
// pinned release from a local git clone, and writes the key paths it knows
// (and which of them are free-form maps or lists) to <chart>.json here.
// test/deploy/addons.test.ts checks every value an Application sets against
// them, so a misspelt or moved key fails offline instead of being ignored by Helm.
//
//   node test/deploy/charts/pin.mjs [<dir-with-clones>]   (default /work/.mirror)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const root = process.argv[2] ?? '/work/.mirror';

// [chart, version, clone, git ref of that release, values file]
const PINS = [
  ['aws-load-balancer-controller', '3.5.0', 'aws+eks-charts', '5239609', 'stable/aws-load-balancer-controller/values.yaml'],
  ['gateway-helm', 'v1.9.0', 'envoyproxy+gateway', 'v1.9.0', 'charts/gateway-helm/values.tmpl.yaml'],
  ['cert-manager', 'v1.21.1', 'cert-manager+cert-manager', 'v1.21.1', 'deploy/charts/cert-manager/values.yaml'],
  ['cloudnative-pg', '0.29.0', 'cloudnative-pg+charts', 'cloudnative-pg-v0.29.0', 'charts/cloudnative-pg/values.yaml'],
  ['external-secrets', '2.9.0', 'external-secrets+external-secrets', 'helm-chart-2.9.0', 'deploy/charts/external-secrets/values.yaml'],
  ['kyverno', '3.9.0', 'kyverno+kyverno', 'v1.19.0', 'charts/kyverno/values.yaml'],
  ['kube-prometheus-stack', '88.5.3', 'prometheus-community+helm-charts', 'kube-prometheus-stack-88.5.3', 'charts/kube-prometheus-stack/values.yaml'],
  ['prometheus-adapter', '5.3.0', 'prometheus-community+helm-charts', 'prometheus-adapter-5.3.0', 'charts/prometheus-adapter/values.yaml'],
  ['loki', '7.3.0', 'grafana+loki', 'helm-loki-7.3.0', 'production/helm/loki/values.yaml'],
  ['fluent-bit', '0.58.1', 'fluent+helm-charts', 'fluent-bit-0.58.1', 'charts/fluent-bit/values.yaml'],
  ['reloader', '2.2.16', 'stakater+Reloader', 'chart-v2.2.16', 'deployments/kubernetes/chart/reloader/values.yaml'],
  ['keda', '2.20.2', 'kedacore+charts', 'v2.20.2', 'keda/values.yaml'],
  ['argo-cd', '10.1.1', 'argoproj+argo-helm', 'argo-cd-10.1.1', 'charts/argo-cd/values.yaml'],
];

for (const [chart, version, clone, ref, file] of PINS) {
  const git = path.join(root, clone, 'repo');
  const commit = execFileSync('git', ['-C', git, 'rev-list', '-n1', ref], { encoding: 'utf8' }).trim();
  let text;
  try {
    text = execFileSync('git', ['-C', git, 'show', `${ref}:${file}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch {
    text = execFileSync('git', ['-C', git, 'show', `${ref}:${file.replace('values.tmpl.yaml', 'values.yaml')}`], { encoding: 'utf8' });
  }
  const values = parse(text) ?? {};
  const paths = [];
  const freeform = [];
  const walk = (node, at) => {
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      if (Object.keys(node).length === 0 && at) freeform.push(at);
      for (const [k, v] of Object.entries(node)) {
        const p = at ? `${at}.${k}` : k;
        paths.push(p);
        walk(v, p);
      }
    } else if (at && (Array.isArray(node) || node === null)) freeform.push(at);
  };
  walk(values, '');
  // Keys the chart's templates read that values.yaml leaves out (commented examples).
  const dir = path.dirname(file);
  const grep = execFileSync('git', ['-C', git, 'grep', '-h', '-o', '-E', '\\.Values\\.[A-Za-z0-9_.]+', ref, '--', dir], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const templateRefs = [...new Set(grep.split('\n').filter(Boolean).map((r) => r.replace(/^.*?\.Values\./, '').replace(/\.$/, '')))]
    .filter((r) => !paths.includes(r))
    .sort();
  const out = { chart, version, source: `https://github.com/${clone.replace('+', '/')}/blob/${commit}/${file}`, commit, paths, freeform, templateRefs };
  writeFileSync(path.join(HERE, `${chart}.json`), `${JSON.stringify(out)}\n`);
  console.log(chart, version, paths.length, 'keys');
}
