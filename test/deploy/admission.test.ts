// Evaluates the admission policies (deploy/cluster/admission) the way the API
// server and Kyverno would: the ValidatingAdmissionPolicy's variables and
// validations, and each Kyverno ClusterPolicy's CEL, with `object` and
// `namespaceObject` bound. Integers are BigInt, as in CEL. The rendered
// overlays must pass; each bad fixture must be rejected by exactly the rule
// written for it — by both policy sets.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { evaluate } from '@marcbachmann/cel-js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEPLOY,
  haveTool,
  OVERLAYS,
  parseYamlStream,
  podSpecOf,
  render,
  WORKLOAD_KINDS,
  type K8sObject,
} from './support.ts';

const hasKubectl = haveTool(
  'kubectl',
  'evaluating the admission policies against the rendered overlays',
  'install kubectl',
);

const admission = parseYamlStream(
  readFileSync(path.join(DEPLOY, 'cluster/admission/validating-admission-policy.yaml'), 'utf8') +
    '\n---\n' +
    readFileSync(path.join(DEPLOY, 'cluster/kyverno/kyverno-policies.yaml'), 'utf8'),
);
const vap = admission.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
const binding = admission.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')!;
const kyverno = admission.filter((o) => o.kind === 'ClusterPolicy');
const namespaces = parseYamlStream(
  ['dev', 'prod']
    .map((env) => readFileSync(path.join(DEPLOY, `cluster/${env}/namespace.yaml`), 'utf8'))
    .join('\n---\n'),
  { bigint: true },
);

/** The rule names, in the order of the policy's validations. */
const RULES = ['limits', 'non-root', 'image-tag', 'prod-replicas'] as const;
type Rule = (typeof RULES)[number];
const KYVERNO_RULE: Record<string, Rule> = {
  'missionlink-require-limits': 'limits',
  'missionlink-disallow-root': 'non-root',
  'missionlink-require-image-tag': 'image-tag',
  'missionlink-prod-replicas': 'prod-replicas',
};

interface Variable {
  name: string;
  expression: string;
}

function bindVariables(vars: Variable[], ctx: Record<string, unknown>): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const v of vars) variables[v.name] = evaluate(v.expression, { ...ctx, variables });
  return variables;
}

const resourceOf: Record<string, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  Job: 'jobs',
  CronJob: 'cronjobs',
};

/** The rules of the ValidatingAdmissionPolicy that deny `object` (empty: admitted). */
function vapDenies(object: K8sObject, namespaceObject: K8sObject | null): Rule[] {
  const matched = vap.spec.matchConstraints.resourceRules.some((r: { resources: string[] }) =>
    r.resources.includes(resourceOf[object.kind]!),
  );
  const selected =
    namespaceObject !== null &&
    Object.entries(
      binding.spec.matchResources.namespaceSelector.matchLabels as Record<string, string>,
    ).every(([k, v]) => namespaceObject.metadata.labels?.[k] === v);
  if (!matched || !selected) return [];
  const ctx = {
    object,
    oldObject: null,
    namespaceObject,
    params: null,
    request: { operation: 'CREATE', namespace: object.metadata.namespace },
  };
  const variables = bindVariables(vap.spec.variables, ctx);
  return (vap.spec.validations as { expression: string }[]).flatMap((v, i) =>
    evaluate(v.expression, { ...ctx, variables }) === true ? [] : [RULES[i]!],
  );
}

/** The rules of the Kyverno ClusterPolicies that deny `object`. */
function kyvernoDenies(object: K8sObject, namespaceObject: K8sObject | null): Rule[] {
  const denied: Rule[] = [];
  for (const policy of kyverno) {
    for (const rule of policy.spec.rules) {
      const matches = (
        rule.match.any as {
          resources: {
            kinds: string[];
            namespaceSelector: { matchLabels: Record<string, string> };
          };
        }[]
      ).some(
        (m) =>
          m.resources.kinds.includes(object.kind) &&
          namespaceObject !== null &&
          Object.entries(m.resources.namespaceSelector.matchLabels).every(
            ([k, v]) => namespaceObject.metadata.labels?.[k] === v,
          ),
      );
      if (!matches) continue;
      const ctx = { object, oldObject: null, namespaceObject, request: { operation: 'CREATE' } };
      const variables = bindVariables(rule.validate.cel.variables ?? [], ctx);
      for (const e of rule.validate.cel.expressions) {
        if (evaluate(e.expression, { ...ctx, variables }) !== true)
          denied.push(KYVERNO_RULE[policy.metadata.name]!);
      }
    }
  }
  return denied.sort((a, b) => RULES.indexOf(a) - RULES.indexOf(b));
}

const ns = (name: string) => namespaces.find((n) => n.metadata.name === name)!;

describe('admission policies: shape', () => {
  it('bind the policy to the labelled namespaces and deny', () => {
    expect(binding.spec.policyName).toBe(vap.metadata.name);
    expect(binding.spec.validationActions).toContain('Deny');
    expect(vap.spec.failurePolicy).toBe('Fail');
    expect(vap.spec.validations.map((v: { message: string }) => v.message).every(Boolean)).toBe(
      true,
    );
  });

  it('have a Kyverno ClusterPolicy, enforcing, for every validation', () => {
    expect(Object.values(KYVERNO_RULE).sort()).toEqual([...RULES].sort());
    expect(kyverno.map((p) => p.metadata.name).sort()).toEqual(Object.keys(KYVERNO_RULE).sort());
    for (const p of kyverno)
      for (const r of p.spec.rules) expect(r.validate.failureAction).toBe('Enforce');
  });
});

describe.skipIf(!hasKubectl)('admission policies: verdicts', () => {
  const rendered: Record<string, K8sObject[]> = {};
  beforeAll(() => {
    for (const env of Object.keys(OVERLAYS))
      rendered[env] = render(`overlays/${env}`, { bigint: true }).filter((o) =>
        WORKLOAD_KINDS.has(o.kind),
      );
  });

  it.each(Object.entries(OVERLAYS))('admit every workload of the %s overlay', (env, namespace) => {
    expect(rendered[env]!.length).toBeGreaterThan(0);
    for (const w of rendered[env]!) {
      expect(vapDenies(w, ns(namespace)), `${env} ${w.kind}/${w.metadata.name}`).toEqual([]);
      expect(kyvernoDenies(w, ns(namespace)), `${env} ${w.kind}/${w.metadata.name}`).toEqual([]);
    }
  });

  // Each fixture starts from the real prod settlement Deployment and breaks one thing.
  const base = () =>
    structuredClone(
      rendered.prod!.find((o) => o.kind === 'Deployment' && o.metadata.name === 'settlement')!,
    );
  const mutate = (fn: (d: K8sObject) => void) => {
    const d = base();
    fn(d);
    return d;
  };
  const container = (d: K8sObject) => podSpecOf(d).containers[0];
  const fixtures: [string, () => K8sObject, string, Rule[]][] = [
    [
      'a container without limits',
      () => mutate((d) => delete container(d).resources.limits),
      'missionlink',
      ['limits'],
    ],
    [
      'a container without a memory limit',
      () => mutate((d) => delete container(d).resources.limits.memory),
      'missionlink',
      ['limits'],
    ],
    [
      'a pod that may run as root',
      () =>
        mutate((d) => {
          podSpecOf(d).securityContext = {};
          delete container(d).securityContext.runAsNonRoot;
        }),
      'missionlink',
      ['non-root'],
    ],
    [
      'a pod with runAsUser 0',
      () => mutate((d) => (podSpecOf(d).securityContext.runAsUser = 0n)),
      'missionlink',
      ['non-root'],
    ],
    [
      'a container overriding runAsNonRoot to false',
      () => mutate((d) => (container(d).securityContext.runAsNonRoot = false)),
      'missionlink',
      ['non-root'],
    ],
    [
      'an image tagged :latest',
      () => mutate((d) => (container(d).image = 'ghcr.io/missionlink/missionlink:latest')),
      'missionlink',
      ['image-tag'],
    ],
    [
      'an untagged image',
      () => mutate((d) => (container(d).image = 'ghcr.io/missionlink/missionlink')),
      'missionlink',
      ['image-tag'],
    ],
    [
      'an untagged image on a registry with a port',
      () => mutate((d) => (container(d).image = 'registry.local:5000/missionlink')),
      'missionlink',
      ['image-tag'],
    ],
    [
      'an untagged init container',
      () =>
        mutate(
          (d) =>
            (podSpecOf(d).initContainers = [
              { ...structuredClone(container(d)), name: 'init', image: 'busybox' },
            ]),
        ),
      'missionlink',
      ['image-tag'],
    ],
    [
      '1 replica in prod',
      () => mutate((d) => (d.spec.replicas = 1n)),
      'missionlink',
      ['prod-replicas'],
    ],
    [
      'no replica count (defaults to 1) in prod',
      () => mutate((d) => delete d.spec.replicas),
      'missionlink',
      ['prod-replicas'],
    ],
    [
      'everything wrong at once',
      () =>
        mutate((d) => {
          d.spec.replicas = 1n;
          container(d).image = 'x:latest';
          delete container(d).resources;
          podSpecOf(d).securityContext.runAsNonRoot = false;
          delete container(d).securityContext.runAsNonRoot;
        }),
      'missionlink',
      ['limits', 'non-root', 'image-tag', 'prod-replicas'],
    ],
    [
      '1 replica in dev (allowed)',
      () => mutate((d) => (d.spec.replicas = 1n)),
      'missionlink-dev',
      [],
    ],
    [
      'an image pinned by digest',
      () =>
        mutate(
          (d) => (container(d).image = `ghcr.io/missionlink/missionlink@sha256:${'a'.repeat(64)}`),
        ),
      'missionlink',
      [],
    ],
    [
      'a CronJob without limits',
      () => {
        const d = base();
        const spec = podSpecOf(d);
        delete spec.containers[0].resources.limits;
        return {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: { name: 'report', namespace: 'missionlink' },
          spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec } } } },
        };
      },
      'missionlink',
      ['limits'],
    ],
  ];

  it.each(fixtures)(
    'reject %s with exactly the rule written for it',
    (_name, make, namespace, expected) => {
      const object = make();
      expect(vapDenies(object, ns(namespace))).toEqual(expected);
      expect(kyvernoDenies(object, ns(namespace))).toEqual(expected);
    },
  );

  it('leave namespaces without the admission label alone', () => {
    const bad = mutate((d) => (container(d).image = 'x:latest'));
    const other = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'other', labels: {} },
    } as K8sObject;
    expect(vapDenies(bad, other)).toEqual([]);
    expect(kyvernoDenies(bad, other)).toEqual([]);
  });
});
