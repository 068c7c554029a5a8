// Shared helpers of the delivery-platform tests: render Kustomize folders with
// `kubectl kustomize`, parse YAML, find external tools (skipping loudly when
// one is missing, failing instead in CI), and validate objects against the
// Kubernetes and CRD schemas of kubernetes-models.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { pinnedGroups, validatePinned } from './crd-schema.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = path.join(REPO_ROOT, 'deploy');

/** True when running in CI, where a missing tool is a failure rather than a skip. */
export const IN_CI = ['1', 'true', 'yes'].includes(String(process.env.CI ?? '').toLowerCase());

/** The absolute path of an executable on PATH, or undefined. */
export function which(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  return r.status === 0 && found ? found : undefined;
}

/**
 * Whether `name` is installed. When it is not: in CI this throws (the suite
 * must run there), elsewhere it prints a loud notice and the caller skips.
 */
export function haveTool(name: string, what: string, hint: string): boolean {
  if (which(name)) return true;
  const message = `${name} is not installed: ${what} cannot run (${hint})`;
  if (IN_CI) throw new Error(`${message}. CI must have it.`);
  process.stderr.write(`\n  ⚠️  SKIPPED: ${message}\n\n`);
  return false;
}

/** Any Kubernetes object as parsed from YAML. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are arbitrary JSON
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are arbitrary JSON
  [key: string]: any;
}

/** Parses a multi-document YAML stream; `bigint` keeps integers as BigInt (CEL's int). */
export function parseYamlStream(text: string, opts: { bigint?: boolean } = {}): K8sObject[] {
  return parseAllDocuments(text, { intAsBigInt: opts.bigint ?? false })
    .map((doc) => {
      if (doc.errors.length) throw new Error(`YAML error: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Output of `kubectl kustomize <dir>` (dir relative to deploy/). */
export function kustomizeText(dir: string): string {
  return execFileSync('kubectl', ['kustomize', path.join(DEPLOY, dir)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The objects a Kustomize folder renders to. */
export function render(dir: string, opts: { bigint?: boolean } = {}): K8sObject[] {
  return parseYamlStream(kustomizeText(dir), opts);
}

/** Every folder under deploy/ that is meant to be built with kustomize. */
export const KUSTOMIZATIONS = [
  'overlays/dev',
  'overlays/prod',
  'cluster',
  'cluster/dev',
  'cluster/prod',
  'cluster/kyverno',
  'argocd/clusters/dev',
  'argocd/clusters/prod',
  'monitoring',
  'monitoring/cluster/dev',
  'monitoring/cluster/prod',
  'services/hello',
  'kind',
  'kind/cluster',
] as const;
/** Each environment's cluster-wide folder (one cluster per environment). */
export const CLUSTERS = { dev: 'cluster/dev', prod: 'cluster/prod' } as const;
/** Each environment's Argo CD folder (every cluster runs its own Argo CD). */
export const ARGOCD = { dev: 'argocd/clusters/dev', prod: 'argocd/clusters/prod' } as const;
export const OVERLAYS = { dev: 'missionlink-dev', prod: 'missionlink' } as const;

/** Which model package holds the schema of an API group (CRDs included). */
const MODEL_PACKAGES: Record<string, string> = {
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
  'postgresql.cnpg.io': '@kubernetes-models/cloudnative-pg',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'external-secrets.io': '@kubernetes-models/external-secrets',
  'argoproj.io': '@kubernetes-models/argo-cd',
  'kyverno.io': '@kubernetes-models/kyverno',
};

/** The module (`${pkg}/${apiVersion}/${kind}`) whose class models `obj`. */
export function modelModule(obj: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0]! : '';
  const pkg = MODEL_PACKAGES[group] ?? 'kubernetes-models';
  return `${pkg}/${obj.apiVersion}/${obj.kind}`;
}

/**
 * The object as the model packages can check it. The newest model packages
 * that run on Node 20 (engines >= 14; their successors need Node 22) predate
 * two API changes the manifests use. Each is bridged narrowly and checked here
 * (and Secret data generated by kustomize loses its line breaks, as on the API server):
 * - `external-secrets.io/v1` is `v1beta1` promoted without schema changes
 *   (External Secrets 0.17): it is validated with the v1beta1 model, and the
 *   AWS provider's `prefix` (newer than that model) must be a path ending in `/`;
 * - Kyverno >= 1.13 puts `failureAction` on each rule's `validate` and on each
 *   `verifyImages` entry: it must be `Enforce` or `Audit`, and is removed
 *   before the model sees the rule.
 */
export function modelView(obj: K8sObject): { obj: K8sObject; problem?: string } {
  // kustomize's secretGenerator wraps long base64 values over several lines;
  // the API server's decoder (Go's base64.StdEncoding) ignores the line breaks.
  if (obj.apiVersion === 'v1' && obj.kind === 'Secret' && obj.data) {
    const view = structuredClone(obj);
    for (const k of Object.keys(view.data)) view.data[k] = String(view.data[k]).replace(/\n/g, '');
    return { obj: view };
  }
  if (obj.apiVersion === 'external-secrets.io/v1') {
    const view = structuredClone({ ...obj, apiVersion: 'external-secrets.io/v1beta1' });
    const aws = view.spec?.provider?.aws as { prefix?: unknown } | undefined;
    if (!aws || !('prefix' in aws)) return { obj: view };
    const ok = typeof aws.prefix === 'string' && /^[\w./-]+\/$/.test(aws.prefix);
    delete aws.prefix;
    return {
      obj: view,
      problem: ok ? undefined : 'spec.provider.aws.prefix must be a key path ending in /',
    };
  }
  if (!obj.apiVersion.startsWith('kyverno.io/') || !Array.isArray(obj.spec?.rules)) return { obj };
  const view = structuredClone(obj);
  let problem: string | undefined;
  for (const rule of view.spec.rules as {
    name?: string;
    validate?: { failureAction?: unknown };
    verifyImages?: { failureAction?: unknown }[];
  }[]) {
    // Likewise each verifyImages entry's failureAction (Kyverno >= 1.13).
    for (const part of [rule.validate, ...(rule.verifyImages ?? [])]) {
      if (!part || !('failureAction' in part)) continue;
      if (part.failureAction !== 'Enforce' && part.failureAction !== 'Audit') {
        problem = `rule ${rule.name}: failureAction must be Enforce or Audit`;
      }
      delete part.failureAction;
    }
  }
  return { obj: view, problem };
}

/** Whether `obj` is checked against a pinned CRD schema (test/deploy/crds) instead of a model package. */
export const isPinnedKind = (obj: Pick<K8sObject, 'apiVersion'>) =>
  pinnedGroups.has(obj.apiVersion.split('/')[0]!);

/**
 * Validates one object with its kubernetes-models class, or against its
 * pinned CRD schema (strict: unknown fields too, and the schema's CEL rules);
 * returns the error text or undefined.
 */
export async function validateModel(original: K8sObject): Promise<string | undefined> {
  if (isPinnedKind(original)) {
    const result = validatePinned(original);
    if (!result) return `no pinned schema for ${original.apiVersion} ${original.kind}`;
    return result.errors.length ? result.errors.join('; ') : undefined;
  }
  const { obj, problem } = modelView(original);
  if (problem) return problem;
  const mod = (await import(modelModule(obj))) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = mod[obj.kind];
  if (!Model) return `no model class ${obj.kind} in ${modelModule(obj)}`;
  try {
    new Model(obj).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The pod template spec of a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are arbitrary JSON
export function podSpecOf(obj: K8sObject): any {
  return obj.kind === 'CronJob' ? obj.spec.jobTemplate.spec.template.spec : obj.spec.template.spec;
}

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

export const exists = (p: string) => existsSync(path.join(REPO_ROOT, p));
