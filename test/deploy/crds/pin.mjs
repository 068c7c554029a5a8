// Re-pins the CRD schemas the manifests use but no kubernetes-models package
// ships (Envoy Gateway, cert-manager, KEDA): reads each CRD from a local git
// clone of its project at a release tag, keeps the openAPIV3Schema of every
// served version without descriptions, and writes one JSON file per CRD here.
// The tests (test/deploy/crd-schema.ts) validate objects against these files.
//
//   node test/deploy/crds/pin.mjs <dir-with-clones>
//   (clones named envoyproxy+gateway, cert-manager+cert-manager, kedacore+keda,
//    each a git directory at <dir>/<name>/repo)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const root = process.argv[2] ?? '/work/.mirror';

const PINS = [
  ['envoyproxy+gateway', 'v1.9.0', 'charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_envoyproxies.yaml'],
  ['envoyproxy+gateway', 'v1.9.0', 'charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_securitypolicies.yaml'],
  ['cert-manager+cert-manager', 'v1.21.1', 'deploy/crds/cert-manager.io_clusterissuers.yaml'],
  ['kedacore+keda', 'v2.20.2', 'config/crd/bases/keda.sh_scaledobjects.yaml'],
];

function strip(node) {
  if (Array.isArray(node)) return node.map(strip);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'description') continue;
    out[k] = strip(v);
  }
  return out;
}

for (const [clone, tag, file] of PINS) {
  const git = path.join(root, clone, 'repo');
  const commit = execFileSync('git', ['-C', git, 'rev-list', '-n1', tag], { encoding: 'utf8' }).trim();
  const text = execFileSync('git', ['-C', git, 'show', `${tag}:${file}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  // cert-manager's CRD files carry Helm conditionals in the chart copy; deploy/crds is plain YAML.
  const crd = parse(text);
  const versions = {};
  for (const v of crd.spec.versions) if (v.served) versions[v.name] = strip(v.schema.openAPIV3Schema);
  const out = {
    source: `https://github.com/${clone.replace('+', '/')}/blob/${tag}/${file}`,
    commit,
    group: crd.spec.group,
    kind: crd.spec.names.kind,
    scope: crd.spec.scope,
    versions,
  };
  const name = `${crd.spec.group}_${crd.spec.names.plural}.json`;
  writeFileSync(path.join(HERE, name), `${JSON.stringify(out)}\n`);
  console.log(name, Object.keys(versions).join(','), commit);
}
