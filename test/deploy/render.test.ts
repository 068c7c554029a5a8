// Renders every Kustomize folder under deploy/ with `kubectl kustomize`,
// validates every object against the Kubernetes and CRD schemas (types and
// required fields, then a strict pass for unknown fields), and checks what
// the platform promises: hardened pods, probes, graceful shutdown, the right
// secrets for each role, and the prod-only guarantees.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { subnetCidrs } from '../../deploy/iac/src/subnets.ts';
import { strictCheck } from './strict-schema.ts';
import {
  ARGOCD,
  CLUSTERS,
  DEPLOY,
  haveTool,
  KUSTOMIZATIONS,
  OVERLAYS,
  podSpecOf,
  render,
  WORKLOAD_KINDS,
  type K8sObject,
  validateModel,
} from './support.ts';

const hasKubectl = haveTool(
  'kubectl',
  'rendering the Kustomize overlays',
  'install kubectl (it bundles kustomize v5)',
);
// webhooks: outbound webhook deliveries (ROLES=webhooks, the webhooks work).
const ROLES = ['api', 'settlement', 'notifier', 'sweeper', 'webhooks'] as const;

/** An address range `a.b.c.d/n` or `x::/n`, or undefined when `text` is not one (a bare address is not). */
function parseCidr(text: string): { family: 4 | 6; first: bigint; last: bigint } | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const family = isIP(m[1]!);
  if (family !== 4 && family !== 6) return undefined;
  const width = family === 4 ? 32 : 128;
  const bits = Number(m[2]);
  if (bits > width) return undefined;
  let value = 0n;
  if (family === 4) {
    for (const octet of m[1]!.split('.')) value = (value << 8n) | BigInt(octet);
  } else {
    const [head, tail] = m[1]!.includes('::') ? m[1]!.split('::') : [m[1]!, undefined];
    const groups = (x: string | undefined) => (x ? x.split(':') : []);
    if (
      groups(head)
        .concat(groups(tail))
        .some((g) => g.includes('.'))
    )
      return undefined;
    const fill = 8 - groups(head).length - groups(tail).length;
    for (const g of [
      ...groups(head),
      ...Array<string>(tail === undefined ? 0 : fill).fill('0'),
      ...groups(tail),
    ])
      value = (value << 16n) | BigInt(`0x${g}`);
  }
  const host = (1n << BigInt(width - bits)) - 1n;
  // A range names its network address: 10.40.65.0/19 is a typo, not a range.
  if ((value & host) !== 0n) return undefined;
  return { family, first: value, last: value | host };
}
const overlaps = (a: string, b: string) => {
  const [x, y] = [parseCidr(a)!, parseCidr(b)!];
  return x.family === y.family && x.first <= y.last && y.first <= x.last;
};
const within = (inner: string, outer: string) => {
  const [x, y] = [parseCidr(inner)!, parseCidr(outer)!];
  return x.family === y.family && y.first <= x.first && x.last <= y.last;
};

/** The subnets deploy/iac builds for an environment (its Pulumi stack settings). */
function iacNetwork(env: string) {
  const stack = parseYaml(readFileSync(path.join(DEPLOY, `iac/Pulumi.${env}.yaml`), 'utf8')) as {
    config: Record<string, unknown>;
  };
  const vpc = stack.config['missionlink:vpcCidr'] as string;
  const zones = (stack.config['missionlink:availabilityZones'] as string[]).map((_, i) =>
    subnetCidrs(vpc, i),
  );
  return { vpc, zones };
}

describe.skipIf(!hasKubectl)('deploy/ renders and validates', () => {
  const rendered: Record<string, K8sObject[]> = {};
  beforeAll(() => {
    for (const dir of KUSTOMIZATIONS) rendered[dir] = render(dir);
  });
  const all = () => Object.values(rendered).flat();
  const overlay = (env: keyof typeof OVERLAYS) => rendered[`overlays/${env}`]!;
  const find = (objs: K8sObject[], kind: string, name: string) =>
    objs.find((o) => o.kind === kind && o.metadata.name === name);
  const workloads = (objs: K8sObject[]) => objs.filter((o) => WORKLOAD_KINDS.has(o.kind));
  /** Deployments running the MissionLink image, with their role (from ROLES). */
  const missionlinkDeployments = (objs: K8sObject[]) =>
    objs
      .filter((o) => o.kind === 'Deployment')
      .map((d) => {
        const c = podSpecOf(d).containers[0];
        return {
          d,
          c,
          role: c.env?.find((e: { name: string }) => e.name === 'ROLES')?.value as string,
        };
      });

  /**
   * The environment a container sees: the ConfigMaps it takes whole
   * (`envFrom`), then its own literal `env` values, which win.
   */
  const envOf = (objs: K8sObject[], c: K8sObject['spec']): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const from of (c.envFrom ?? []) as {
      prefix?: string;
      configMapRef?: { name: string };
    }[]) {
      if (!from.configMapRef) continue;
      const cm = find(objs, 'ConfigMap', from.configMapRef.name);
      expect(cm, `ConfigMap ${from.configMapRef.name}`).toBeDefined();
      for (const [k, v] of Object.entries((cm!.data ?? {}) as Record<string, string>))
        env[`${from.prefix ?? ''}${k}`] = String(v);
    }
    for (const e of (c.env ?? []) as { name: string; value?: string }[])
      if (e.value !== undefined) env[e.name] = e.value;
    return env;
  };
  const matchesLabels = (
    selector: Record<string, string> | undefined,
    labels: Record<string, string> | undefined,
  ) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  /** The Deployments of each overlay, by name: every role, the canary and (prod) both api slots. */
  const EXPECTED_DEPLOYMENTS: Record<keyof typeof OVERLAYS, string[]> = {
    dev: ['api', 'api-canary', 'notifier', 'settlement', 'sweeper', 'webhooks'],
    prod: ['api-blue', 'api-canary', 'api-green', 'notifier', 'settlement', 'sweeper', 'webhooks'],
  };

  it('every kustomization renders, without duplicates, into the right namespace', () => {
    for (const dir of KUSTOMIZATIONS) expect(rendered[dir]!.length, dir).toBeGreaterThan(0);
    for (const [env, ns] of Object.entries(OVERLAYS)) {
      const objs = overlay(env as keyof typeof OVERLAYS);
      const keys = objs.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(new Set(keys).size, `${env}: duplicate objects`).toBe(keys.length);
      for (const o of objs)
        expect(o.metadata.namespace, `${env}: ${o.kind}/${o.metadata.name}`).toBe(ns);
    }
    // Cluster folders carry no namespace transformer: their objects are
    // cluster-scoped or name an infrastructure namespace (the edge's Gateway,
    // Envoy Gateway's data plane settings). Argo CD objects live in argocd.
    for (const dir of ['cluster', 'cluster/dev', 'cluster/prod', 'cluster/kyverno'] as const)
      for (const o of rendered[dir]!)
        expect(
          [undefined, 'edge', 'envoy-gateway-system'],
          `${dir}: ${o.kind}/${o.metadata.name}`,
        ).toContain(o.metadata.namespace);
    for (const dir of Object.values(ARGOCD))
      for (const o of rendered[dir]!) expect(o.metadata.namespace, dir).toBe('argocd');
  });

  it('every object passes its kubernetes-models schema (types, enums, required fields)', async () => {
    const problems: string[] = [];
    for (const o of all()) {
      const error = await validateModel(o);
      if (error) problems.push(`${o.kind}/${o.metadata.name}: ${error}`);
    }
    expect(problems).toEqual([]);
  });

  it('no object has a field its schema does not know; the strict pass catches what validate() lets through', async () => {
    const seen = new Set<string>();
    const unique = all().filter((o) => {
      const key = JSON.stringify(o);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    // Two bad fixtures: a misspelt probe and an unknown CRD field.
    const deployment = structuredClone(find(overlay('dev'), 'Deployment', 'settlement')!);
    deployment.metadata.name = 'bad-settlement';
    podSpecOf(deployment).containers[0].readinessProbes =
      podSpecOf(deployment).containers[0].readinessProbe;
    const cluster = structuredClone(find(overlay('dev'), 'Cluster', 'funding-db')!);
    cluster.metadata.name = 'bad-funding-db';
    cluster.spec.instancez = 3;
    expect(await validateModel(deployment)).toBeUndefined();
    expect(await validateModel(cluster)).toBeUndefined();

    const problems = strictCheck([...unique, deployment, cluster]).map(
      (p) => `${p.object}: ${p.message}`,
    );
    expect(problems.filter((p) => !p.includes('/bad-'))).toEqual([]);
    expect(problems.join('\n')).toMatch(/Deployment\/bad-settlement: .*readinessProbes/);
    expect(problems.join('\n')).toMatch(/Cluster\/bad-funding-db: .*instancez/);

    const wrongType = structuredClone(deployment);
    podSpecOf(wrongType).containers[0].ports[0].containerPort = 'eighty';
    expect(await validateModel(wrongType)).toMatch(/containerPort/);
  }, 60_000);

  describe.each(Object.keys(OVERLAYS) as (keyof typeof OVERLAYS)[])('%s overlay', (env) => {
    it('has one Deployment per role from the same image, running `serve` with its ROLES', () => {
      const deps = missionlinkDeployments(overlay(env));
      for (const role of ROLES)
        expect(
          deps.some((x) => x.role === role),
          role,
        ).toBe(true);
      const repos = new Set(deps.map((x) => x.c.image.split(':')[0]));
      expect(repos.size).toBe(1);
      for (const { d, c, role } of deps) {
        expect(c.args, d.metadata.name).toEqual(['serve']);
        expect(ROLES, d.metadata.name).toContain(role);
        expect(c.image, d.metadata.name).toMatch(/^[\w./-]+:[\w][\w.-]*$/);
        expect(c.image).not.toMatch(/:latest$/);
      }
    });

    it('hardens every pod: non-root, read-only root, no capabilities, seccomp, no escalation', () => {
      for (const w of workloads(overlay(env))) {
        const spec = podSpecOf(w);
        const id = `${w.kind}/${w.metadata.name}`;
        expect(spec.securityContext?.runAsNonRoot, id).toBe(true);
        expect(spec.securityContext?.runAsUser, id).toBeGreaterThan(0);
        expect(spec.securityContext?.seccompProfile?.type, id).toBe('RuntimeDefault');
        expect(spec.automountServiceAccountToken, id).toBe(false);
        for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
          expect(c.securityContext?.allowPrivilegeEscalation, id).toBe(false);
          expect(c.securityContext?.readOnlyRootFilesystem, id).toBe(true);
          expect(c.securityContext?.capabilities?.drop, id).toContain('ALL');
          expect(c.securityContext?.privileged ?? false, id).toBe(false);
          for (const kind of ['requests', 'limits']) {
            expect(c.resources?.[kind]?.cpu, `${id} ${kind}.cpu`).toBeDefined();
            expect(c.resources?.[kind]?.memory, `${id} ${kind}.memory`).toBeDefined();
          }
        }
      }
    });

    it('sets PUBLIC_URL to the https origin of the web app route, the origin of links in mails', () => {
      const objs = overlay(env);
      const url = new URL(find(objs, 'ConfigMap', 'missionlink-config')!.data.PUBLIC_URL);
      expect(url.protocol).toBe('https:');
      expect(url.pathname).toBe('/');
      const webHosts = objs
        .filter((o) => o.kind === 'HTTPRoute')
        .flatMap((o) => (o.spec.hostnames ?? []) as string[])
        .filter((h) => h.startsWith('app.'));
      expect(webHosts).toContain(url.host);
    });

    it('gives MissionLink pods writable emptyDirs for /tmp and DATA_DIR only', () => {
      const config = find(overlay(env), 'ConfigMap', 'missionlink-config')!;
      for (const { d, c } of missionlinkDeployments(overlay(env))) {
        const volumes = Object.fromEntries(
          podSpecOf(d).volumes.map((v: { name: string }) => [v.name, v]),
        );
        const mounts = Object.fromEntries(
          c.volumeMounts.map((m: { mountPath: string; name: string }) => [
            m.mountPath,
            volumes[m.name],
          ]),
        );
        expect(mounts['/tmp']?.emptyDir, d.metadata.name).toBeDefined();
        expect(mounts[config.data.DATA_DIR]?.emptyDir, d.metadata.name).toBeDefined();
        expect(Object.keys(mounts).sort()).toEqual(['/tmp', config.data.DATA_DIR].sort());
      }
      expect(config.data.HOST).toBe('0.0.0.0');
      expect(config.data.PORT).toBe('8080');
    });

    it('probes /healthz (startup, liveness) and /readyz (readiness) and drains within the grace period', () => {
      for (const { d, c } of missionlinkDeployments(overlay(env))) {
        const id = d.metadata.name;
        expect(c.startupProbe?.httpGet?.path, id).toBe('/healthz');
        expect(c.livenessProbe?.httpGet?.path, id).toBe('/healthz');
        expect(c.readinessProbe?.httpGet?.path, id).toBe('/readyz');
        expect(c.ports.find((p: { name: string }) => p.name === 'http')?.containerPort, id).toBe(
          8080,
        );
        const preStop = c.lifecycle?.preStop?.sleep?.seconds as number;
        expect(preStop, id).toBeGreaterThan(0);
        // preStop, then SIGTERM and the app's own drain of at most 10 s.
        const grace = podSpecOf(d).terminationGracePeriodSeconds as number;
        expect(grace, id).toBeGreaterThanOrEqual(preStop + 10);
        expect(grace, id).toBeLessThanOrEqual(preStop + 20);
      }
    });

    it('serves /metrics apart: every MissionLink Deployment sets METRICS_PORT and names it as its container port `metrics`', () => {
      const objs = overlay(env);
      const deps = missionlinkDeployments(objs);
      expect(deps.map((x) => x.d.metadata.name).sort()).toEqual(EXPECTED_DEPLOYMENTS[env]);
      expect(find(objs, 'ConfigMap', 'missionlink-config')!.data.METRICS_PORT).toBe('9464');
      for (const { d, c } of deps) {
        const id = d.metadata.name;
        const e = envOf(objs, c);
        expect(e.METRICS_PORT, `${id}: METRICS_PORT`).toMatch(/^[1-9]\d*$/);
        expect(e.PORT, `${id}: PORT`).toMatch(/^[1-9]\d*$/);
        expect(e.METRICS_PORT, id).not.toBe(e.PORT);
        const ports = c.ports as { name: string; containerPort: number; protocol?: string }[];
        expect(new Set(ports.map((p) => p.name)).size, `${id}: port names`).toBe(ports.length);
        const metrics = ports.find((p) => p.name === 'metrics');
        expect(metrics?.containerPort, `${id}: port metrics`).toBe(Number(e.METRICS_PORT));
        expect(metrics?.protocol ?? 'TCP', id).toBe('TCP');
        expect(ports.find((p) => p.name === 'http')?.containerPort, `${id}: port http`).toBe(
          Number(e.PORT),
        );
        // The kubelet probes stay on the public port: the metrics listener
        // answers /metrics only.
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
          expect(c[probe]?.httpGet?.port, `${id} ${probe}`).toBe('http');
      }
    });

    it('gives each role exactly the credentials it needs, all from ExternalSecrets', () => {
      const objs = overlay(env);
      expect(objs.filter((o) => o.kind === 'Secret')).toEqual([]);
      const provided = new Map<string, Set<string>>();
      for (const es of objs.filter((o) => o.kind === 'ExternalSecret')) {
        expect(es.spec.refreshInterval, es.metadata.name).toMatch(/^\d+[smh]$/);
        expect(es.spec.secretStoreRef.name).toBe('missionlink');
        const keys = new Set<string>([
          ...(es.spec.data ?? []).map((d: { secretKey: string }) => d.secretKey),
          ...Object.keys(es.spec.target.template?.data ?? {}),
        ]);
        provided.set(es.spec.target.name, keys);
      }
      const expected: Record<string, string[]> = {
        api: [
          'AUDIT_HMAC_KEY',
          'DATABASE_URL_FUNDING',
          'DATABASE_URL_IDENTITY',
          'PAYMENT_WEBHOOK_SECRET',
          'SIGNING_KEYS',
        ],
        settlement: ['DATABASE_URL_FUNDING'],
        sweeper: ['DATABASE_URL_FUNDING'],
        notifier: ['DATABASE_URL_FUNDING', 'SIGNING_KEYS', 'SMTP_URL'],
        webhooks: ['DATABASE_URL_FUNDING'],
      };
      for (const { d, c, role } of missionlinkDeployments(objs)) {
        const secretEnv = c.env.filter((e: { valueFrom?: unknown }) => e.valueFrom);
        expect(secretEnv.map((e: { name: string }) => e.name).sort(), d.metadata.name).toEqual(
          expected[role],
        );
        for (const e of secretEnv) {
          const ref = e.valueFrom.secretKeyRef;
          expect(
            provided.get(ref.name)?.has(ref.key),
            `${d.metadata.name}: ${ref.name}/${ref.key}`,
          ).toBe(true);
        }
      }
      const config = find(objs, 'ConfigMap', 'missionlink-config')!;
      expect(config.data.IDENTITY_URL).toBe('http://api');
      expect(config.data.NATS_URL).toBe('nats://nats:4222');
    });

    /** The Deployments whose ROLES include api (stable or slots, and the canary). */
    const apiDeployments = (objs: K8sObject[]) =>
      missionlinkDeployments(objs).filter((x) =>
        x.role
          .split(',')
          .map((r) => r.trim())
          .includes('api'),
      );
    const API_DEPLOYMENTS: Record<keyof typeof OVERLAYS, string[]> = {
      dev: ['api', 'api-canary'],
      prod: ['api-blue', 'api-canary', 'api-green'],
    };

    it('believes X-Forwarded-* on every api Deployment only from the VPC node subnets the Envoy pods come from (TRUST_PROXY)', () => {
      const objs = overlay(env);
      const apis = apiDeployments(objs);
      expect(apis.map((x) => x.d.metadata.name).sort()).toEqual(API_DEPLOYMENTS[env]);
      const { vpc, zones } = iacNetwork(env);
      expect(zones).toHaveLength(3);
      const values = new Set<string>();
      for (const { d, c } of apis) {
        const id = d.metadata.name;
        const value = envOf(objs, c).TRUST_PROXY;
        expect(value, `${id}: TRUST_PROXY`).toBeDefined();
        values.add(value!);
        const entries = value!.split(',').map((a) => a.trim());
        expect(entries.every(Boolean), `${id}: empty entry in ${value}`).toBe(true);
        for (const cidr of entries) {
          expect(parseCidr(cidr), `${id}: ${cidr} is not a CIDR`).toBeDefined();
          expect(['0.0.0.0/0', '::/0'], id).not.toContain(cidr);
          expect(cidr, `${id}: ${cidr} trusts everyone`).not.toMatch(/\/0$/);
          expect(within(cidr, vpc), `${id}: ${cidr} outside the ${env} VPC ${vpc}`).toBe(true);
          // The internet-facing NLB lives in the public subnets: trusting it
          // would make a client's own X-Forwarded-For believable.
          for (const z of zones) {
            expect(overlaps(cidr, z.public), `${id}: ${cidr} overlaps public ${z.public}`).toBe(
              false,
            );
            expect(overlaps(cidr, z.databases), `${id}: ${cidr} overlaps ${z.databases}`).toBe(
              false,
            );
          }
        }
        // Exactly the node subnets, where the VPC CNI gives Envoy pods their addresses.
        expect([...entries].sort(), id).toEqual(zones.map((z) => z.nodes).sort());
      }
      expect(values.size, 'one TRUST_PROXY for every api Deployment').toBe(1);
      // Only the api serves the public; the shared ConfigMap stays free of it.
      for (const { d, c } of missionlinkDeployments(objs).filter(
        (x) => !apis.some((a) => a.d.metadata.name === x.d.metadata.name),
      ))
        expect(envOf(objs, c).TRUST_PROXY, d.metadata.name).toBeUndefined();
    });

    it('leaves Envoy appending the real peer to X-Forwarded-For: no ClientTrafficPolicy trusts forwarded hops', () => {
      const policies = overlay(env).filter(
        (o) =>
          o.apiVersion.startsWith('gateway.envoyproxy.io/') && o.kind === 'ClientTrafficPolicy',
      );
      for (const p of policies) {
        const detection = p.spec?.clientIPDetection;
        const id = `ClientTrafficPolicy/${p.metadata.name}`;
        expect(detection?.customHeader, id).toBeUndefined();
        expect(detection?.xForwardedFor?.trustedCIDRs, id).toBeUndefined();
        expect(detection?.xForwardedFor?.numTrustedHops ?? 0, id).toBe(0);
      }
    });

    it('gives every api Deployment the same AUDIT_HMAC_KEY, from an ExternalSecret of this overlay that is never refreshed', () => {
      const objs = overlay(env);
      const apis = apiDeployments(objs);
      expect(apis.map((x) => x.d.metadata.name).sort()).toEqual(API_DEPLOYMENTS[env]);
      const refs = new Set<string>();
      for (const { d, c } of apis) {
        const id = d.metadata.name;
        const entry = (
          c.env as { name: string; value?: string; valueFrom?: K8sObject['spec'] }[]
        ).find((e) => e.name === 'AUDIT_HMAC_KEY');
        expect(entry?.value, `${id}: AUDIT_HMAC_KEY is never a literal`).toBeUndefined();
        const ref = entry?.valueFrom?.secretKeyRef as
          { name: string; key: string; optional?: boolean } | undefined;
        expect(ref, `${id}: AUDIT_HMAC_KEY from a secretKeyRef`).toBeDefined();
        expect(ref!.optional ?? false, `${id}: the key is required`).toBe(false);
        refs.add(`${ref!.name}/${ref!.key}`);
        const producers = objs.filter(
          (o) =>
            o.kind === 'ExternalSecret' &&
            o.spec.target.name === ref!.name &&
            (o.spec.data ?? []).some((x: { secretKey: string }) => x.secretKey === ref!.key),
        );
        expect(
          producers.map((o) => o.metadata.name),
          `${id}: ${ref!.name}/${ref!.key}`,
        ).toHaveLength(1);
        const es = producers[0]!;
        expect(es.metadata.namespace).toBe(OVERLAYS[env]);
        expect(es.spec.secretStoreRef.name).toBe('missionlink');
        expect(es.spec.target.template, 'the value is the secret itself').toBeUndefined();
        // Read once: an edit in the secret manager must not reach only the
        // pods that start later (the chain would be written under two keys).
        expect(es.spec.refreshInterval, es.metadata.name).toMatch(/^0+(ns|us|ms|s|m|h)?$/);
      }
      // One key per environment: every api process and `audit verify` share it.
      expect([...refs]).toHaveLength(1);
      for (const cm of objs.filter((o) => o.kind === 'ConfigMap'))
        expect(Object.keys(cm.data ?? {}), cm.metadata.name).not.toContain('AUDIT_HMAC_KEY');
      for (const { d, c } of missionlinkDeployments(objs).filter(
        (x) => !apis.some((a) => a.d.metadata.name === x.d.metadata.name),
      ))
        expect(
          (c.env as { name: string }[]).map((e) => e.name),
          d.metadata.name,
        ).not.toContain('AUDIT_HMAC_KEY');
    });

    it('runs two CloudNativePG clusters with separate credentials and object-storage backups', () => {
      const objs = overlay(env);
      const clusters = objs.filter((o) => o.kind === 'Cluster');
      expect(clusters.map((c) => c.metadata.name).sort()).toEqual(['funding-db', 'identity-db']);
      const secrets = clusters.map((c) => c.spec.bootstrap.initdb.secret.name);
      expect(new Set(secrets).size).toBe(2);
      for (const c of clusters) {
        const es = objs.find(
          (o) =>
            o.kind === 'ExternalSecret' &&
            o.spec.target.name === c.spec.bootstrap.initdb.secret.name,
        );
        expect(es?.spec.target.template.type, c.metadata.name).toBe('kubernetes.io/basic-auth');
        expect(es?.spec.target.template.data.uri).toContain(
          `@${c.metadata.name}-rw:5432/${c.spec.bootstrap.initdb.database}`,
        );
        expect(c.spec.imageName).toMatch(/:\d+\.\d+$/);
        expect(c.spec.enableSuperuserAccess).toBe(false);
        expect(c.spec.backup.barmanObjectStore.destinationPath).toMatch(
          new RegExp(`^s3://missionlink-backups-${env}/${c.metadata.name}$`),
        );
        expect(c.spec.backup.retentionPolicy).toMatch(/^\d+d$/);
        expect(
          objs.some((o) => o.kind === 'ScheduledBackup' && o.spec.cluster.name === c.metadata.name),
        ).toBe(true);
      }
    });

    it('runs NATS JetStream as a StatefulSet with a pinned image and file storage on a PVC', () => {
      const objs = overlay(env);
      const nats = find(objs, 'StatefulSet', 'nats')!;
      const c = podSpecOf(nats).containers[0];
      expect(c.image).toMatch(/^nats:\d+\.\d+\.\d+(-[\w]+)?$/);
      const conf = find(objs, 'ConfigMap', 'nats-config')!.data['nats.conf'] as string;
      expect(conf).toMatch(/jetstream\s*\{[^}]*store_dir:\s*\/data/);
      const dataMount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/data');
      expect(nats.spec.volumeClaimTemplates.map((v: K8sObject) => v.metadata.name)).toContain(
        dataMount.name,
      );
      if (env === 'prod') expect(conf).toMatch(/cluster\s*\{[^}]*routes/s);
    });

    it('scrapes every MissionLink pod exactly once, on the `metrics` port of a Service that targets its METRICS_PORT', () => {
      const objs = overlay(env);
      const services = objs.filter((o) => o.kind === 'Service');
      const deps = missionlinkDeployments(objs);
      const monitors = objs.filter((o) => o.kind === 'ServiceMonitor');
      expect(monitors.map((m) => m.metadata.name).sort()).toEqual([...ROLES].sort());
      const scrapedBy = new Map<string, string[]>();
      for (const sm of monitors) {
        const id = `ServiceMonitor/${sm.metadata.name}`;
        expect(sm.spec.selector.matchExpressions, id).toBeUndefined();
        const selected = services.filter((s) =>
          matchesLabels(sm.spec.selector.matchLabels, s.metadata.labels),
        );
        expect(selected.length, id).toBeGreaterThan(0);
        expect(sm.spec.endpoints.length, id).toBeGreaterThan(0);
        for (const ep of sm.spec.endpoints as {
          port?: string;
          targetPort?: unknown;
          path?: string;
        }[]) {
          expect(ep.port, id).toBe('metrics');
          expect(ep.targetPort, id).toBeUndefined();
          expect(ep.path ?? '/metrics', id).toBe('/metrics');
          for (const s of selected) {
            const sid = `${id} -> Service/${s.metadata.name}`;
            const port = (
              s.spec.ports as { name: string; port: number; targetPort?: number | string }[]
            ).find((p) => p.name === ep.port);
            expect(port, `${sid}: no port ${ep.port}`).toBeDefined();
            const backing = deps.filter((x) =>
              matchesLabels(s.spec.selector, x.d.spec.template.metadata.labels),
            );
            expect(backing.length, `${sid}: selects no Deployment`).toBeGreaterThan(0);
            for (const { d, c } of backing) {
              const target =
                typeof port!.targetPort === 'string'
                  ? (c.ports as { name: string; containerPort: number }[]).find(
                      (p) => p.name === port!.targetPort,
                    )?.containerPort
                  : (port!.targetPort ?? port!.port);
              expect(target, `${sid} -> Deployment/${d.metadata.name}`).toBe(
                Number(envOf(objs, c).METRICS_PORT),
              );
              scrapedBy.set(d.metadata.name, [
                ...(scrapedBy.get(d.metadata.name) ?? []),
                `${sm.metadata.name}/${s.metadata.name}`,
              ]);
            }
          }
        }
      }
      for (const { d } of deps)
        expect(scrapedBy.get(d.metadata.name), `${d.metadata.name} scraped by`).toHaveLength(1);
      // A Service port named `metrics` targets the container port `metrics`, never `http`.
      for (const s of services)
        for (const p of s.spec.ports as { name: string; targetPort?: unknown }[])
          if (p.name === 'metrics') expect(p.targetPort, s.metadata.name).toBe('metrics');
    });
  });

  it('dev runs one replica of everything and no autoscaler', () => {
    for (const w of workloads(overlay('dev'))) expect(w.spec.replicas, w.metadata.name).toBe(1);
    expect(overlay('dev').filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
  });

  describe('prod', () => {
    it('runs at least two replicas of everything', () => {
      for (const w of workloads(overlay('prod')))
        expect(w.spec.replicas, w.metadata.name).toBeGreaterThanOrEqual(2);
      for (const c of overlay('prod').filter((o) => o.kind === 'Cluster'))
        expect(c.spec.instances).toBeGreaterThanOrEqual(2);
    });

    it('covers every workload with a PodDisruptionBudget', () => {
      const pdbs = overlay('prod').filter((o) => o.kind === 'PodDisruptionBudget');
      for (const w of workloads(overlay('prod'))) {
        const labels = w.spec.template.metadata.labels as Record<string, string>;
        const covering = pdbs.filter((p) =>
          Object.entries(p.spec.selector.matchLabels as Record<string, string>).every(
            ([k, v]) => labels[k] === v,
          ),
        );
        expect(covering.length, w.metadata.name).toBe(1);
        expect(
          covering[0]!.spec.maxUnavailable ?? covering[0]!.spec.minAvailable,
          w.metadata.name,
        ).toBeDefined();
      }
    });

    it('spreads every workload over zones and rolls out without losing capacity', () => {
      for (const w of workloads(overlay('prod'))) {
        const tsc = podSpecOf(w).topologySpreadConstraints ?? [];
        const zone = tsc.find(
          (t: { topologyKey: string }) => t.topologyKey === 'topology.kubernetes.io/zone',
        );
        expect(zone?.whenUnsatisfiable, w.metadata.name).toBe('DoNotSchedule');
        if (w.kind === 'Deployment') {
          expect(w.spec.strategy.rollingUpdate, w.metadata.name).toEqual({
            maxSurge: 1,
            maxUnavailable: 0,
          });
        }
      }
      for (const c of overlay('prod').filter((o) => o.kind === 'Cluster')) {
        expect(c.spec.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
      }
    });

    it('autoscales both api slots on CPU and on requests per second', () => {
      const hpas = overlay('prod').filter((o) => o.kind === 'HorizontalPodAutoscaler');
      expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(['api-blue', 'api-green']);
      for (const h of hpas) {
        expect(find(overlay('prod'), 'Deployment', h.spec.scaleTargetRef.name)).toBeDefined();
        expect(h.spec.minReplicas).toBeGreaterThanOrEqual(2);
        const types = h.spec.metrics.map(
          (m: { type: string; resource?: { name: string }; pods?: { metric: { name: string } } }) =>
            m.resource?.name ?? m.pods?.metric.name,
        );
        expect(types).toEqual(['cpu', 'missionlink_http_requests_per_second']);
      }
    });

    it('switches the api blue-green with the live Service selector `slot`', () => {
      const objs = overlay('prod');
      expect(find(objs, 'Deployment', 'api')).toBeUndefined();
      const live = find(objs, 'Service', 'api')!;
      expect(['blue', 'green']).toContain(live.spec.selector.slot);
      const matches = objs.filter(
        (o) =>
          o.kind === 'Deployment' &&
          Object.entries(live.spec.selector as Record<string, string>).every(
            ([k, v]) => o.spec.template.metadata.labels[k] === v,
          ),
      );
      expect(matches.map((d) => d.metadata.name)).toEqual([`api-${live.spec.selector.slot}`]);
      for (const slot of ['blue', 'green']) {
        const d = find(objs, 'Deployment', `api-${slot}`)!;
        expect(d.spec.selector.matchLabels.slot).toBe(slot);
        expect(find(objs, 'Service', `api-${slot}`)!.spec.selector.slot).toBe(slot);
      }
      // The live Service is not scraped; the slot Services are (no double counting).
      expect(live.metadata.labels?.['missionlink.io/metrics']).toBeUndefined();
      const kustomization = readFileSync(
        path.join(DEPLOY, 'overlays/prod/kustomization.yaml'),
        'utf8',
      );
      for (const name of ['missionlink-blue', 'missionlink-green'])
        expect(kustomization).toContain(`- name: ${name}\n`);
    });
  });

  it('labels the namespaces the admission policies and the Gateway key on; each cluster holds only its environment', () => {
    for (const [env, ns] of Object.entries(OVERLAYS)) {
      const namespaces = rendered[CLUSTERS[env as keyof typeof CLUSTERS]]!.filter(
        (o) => o.kind === 'Namespace',
      );
      expect(namespaces.map((n) => n.metadata.name).sort()).toEqual(['edge', ns].sort());
      const n = namespaces.find((o) => o.metadata.name === ns);
      expect(n?.metadata.labels?.['missionlink.io/environment']).toBe(env);
      expect(n?.metadata.labels?.['missionlink.io/admission']).toBe('enforced');
      expect(n?.metadata.labels?.['missionlink.io/gateway-access']).toBe('true');
    }
  });

  it('syncs dev automatically (prune, selfHeal) and prod only by hand', () => {
    const apps = Object.values(ARGOCD)
      .flatMap((dir) => rendered[dir]!)
      .filter((o) => o.kind === 'Application' && o.spec.source.path);
    const dev = apps.find((a) => a.spec.source.path === 'deploy/overlays/dev')!;
    const prod = apps.find((a) => a.spec.source.path === 'deploy/overlays/prod')!;
    expect(dev.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(dev.spec.destination.namespace).toBe(OVERLAYS.dev);
    expect(prod.spec.syncPolicy.automated).toBeUndefined();
    expect(prod.spec.destination.namespace).toBe(OVERLAYS.prod);
    for (const a of apps)
      expect(KUSTOMIZATIONS.map((k) => `deploy/${k}`)).toContain(a.spec.source.path);
  });

  it('commits nothing secret', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        if (entry === 'node_modules') continue;
        const p = path.join(dir, entry);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ya?ml|json|ts|mjs|md)$/.test(entry)) files.push(p);
      }
    };
    walk(DEPLOY);
    const suspicious = [
      /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
      /"d"\s*:\s*"[A-Za-z0-9_-]{20,}"/,
      /postgres(ql)?:\/\/[^:\s{]+:[^@\s{]+@/,
      /AKIA[0-9A-Z]{16}/,
      /^\s*(password|secret|token):\s*[^\s{"'|>][^\s]{5,}\s*$/im,
    ];
    const found = files.flatMap((f) =>
      suspicious
        .filter((re) => re.test(readFileSync(f, 'utf8')))
        .map((re) => `${path.relative(DEPLOY, f)} ~ ${re}`),
    );
    expect(found).toEqual([]);
  });
});
