// The cluster add-ons as code (deploy/argocd): every cluster runs its own
// Argo CD whose root Application (app of apps) syncs its own folder; every
// add-on is a Helm chart pinned to an exact version whose values are checked
// against that version's own values.yaml (test/deploy/charts, pinned by
// charts/pin.mjs); the monitoring selectors match the labels deploy/monitoring
// sets; storage uses the encrypted default StorageClass; and Argo CD respects
// the replica counts the autoscalers own.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARGOCD, CLUSTERS, DEPLOY, haveTool, OVERLAYS, render, type K8sObject } from './support.ts';

const hasKubectl = haveTool('kubectl', 'rendering the Argo CD folders', 'install kubectl');
const CHARTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'charts');

/** The add-ons every cluster needs (the EKS add-ons live in deploy/iac). */
const REQUIRED = [
  'argo-cd',
  'aws-load-balancer-controller',
  'envoy-gateway',
  'cert-manager',
  'cloudnative-pg',
  'external-secrets',
  'kyverno',
  'kube-prometheus-stack',
  'prometheus-adapter',
  'loki',
  'fluent-bit',
  'reloader',
  'keda',
];

/**
 * Maps a chart hands to its configuration whole (`toYaml`), so any key below
 * them is the application's own configuration, not the chart's: Loki's
 * limits_config goes into loki.yaml as is (its values.yaml templates it with
 * `{{- with .Values.loki.limits_config }}`).
 */
// kube-prometheus-stack hands `prometheus-node-exporter` to its subchart
// (whose values are not pinned here; its image keys are registry/repository/tag).
const PASS_THROUGH: Record<string, string[]> = {
  loki: ['loki.limits_config'],
  'kube-prometheus-stack': ['prometheus-node-exporter'],
};

interface PinnedChart {
  chart: string;
  version: string;
  paths: string[];
  freeform: string[];
  templateRefs: string[];
}
const pinnedChart = (chart: string): PinnedChart =>
  JSON.parse(readFileSync(path.join(CHARTS, `${chart}.json`), 'utf8')) as PinnedChart;

/** The leaf key paths of a values object (lists are leaves). */
function leafPaths(v: unknown, at = ''): string[] {
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length)
    return Object.entries(v).flatMap(([k, x]) => leafPaths(x, at ? `${at}.${k}` : k));
  return [at];
}

/** The keys of `values` the chart does not know (neither in its values.yaml, nor under a free-form map, nor read by its templates). */
export function unknownValues(chart: PinnedChart, values: unknown): string[] {
  const known = new Set([...chart.paths, ...chart.templateRefs]);
  const open = [...chart.freeform, ...(PASS_THROUGH[chart.chart] ?? [])];
  return leafPaths(values).filter((p) => {
    const parts = p.split('.');
    for (let i = parts.length; i > 0; i--) {
      const prefix = parts.slice(0, i).join('.');
      if (i === parts.length && known.has(prefix)) return false;
      if (open.includes(prefix)) return false;
    }
    return true;
  });
}

const EXACT_VERSION = /^v?\d+\.\d+\.\d+$/;

describe.skipIf(!hasKubectl).each(Object.entries(OVERLAYS))(
  'the %s cluster’s Argo CD',
  (env, ns) => {
    let argo: K8sObject[];
    let apps: K8sObject[];
    let cluster: K8sObject[];
    let overlay: K8sObject[];
    let monitoring: K8sObject[];
    const app = (name: string) => apps.find((a) => a.metadata.name === name)!;
    beforeAll(() => {
      argo = render(ARGOCD[env as keyof typeof ARGOCD]);
      apps = argo.filter((o) => o.kind === 'Application');
      cluster = render(CLUSTERS[env as keyof typeof CLUSTERS]);
      overlay = render(`overlays/${env}`);
      monitoring = render('monitoring');
    });

    it('manages only its own cluster: an app of apps over this folder, every destination in-cluster, only this environment', () => {
      const root = app('root');
      expect(root.spec.source.path).toBe(`deploy/${ARGOCD[env as keyof typeof ARGOCD]}`);
      for (const a of apps)
        expect(a.spec.destination.server, a.metadata.name).toBe('https://kubernetes.default.svc');
      const gitPaths = apps.map((a) => a.spec.source.path).filter(Boolean);
      expect(gitPaths.sort()).toEqual(
        [
          `deploy/${ARGOCD[env as keyof typeof ARGOCD]}`,
          `deploy/cluster/${env}`,
          `deploy/overlays/${env}`,
          `deploy/monitoring/cluster/${env}`,
        ].sort(),
      );
      const project = argo.find(
        (o) => o.kind === 'AppProject' && o.metadata.name === 'missionlink',
      )!;
      expect(project.spec.destinations).toEqual([
        { server: 'https://kubernetes.default.svc', namespace: ns },
      ]);
      expect(project.spec.clusterResourceWhitelist).toEqual([]);
      const missionlink = apps.filter((a) => a.spec.project === 'missionlink');
      expect(missionlink.map((a) => a.spec.destination.namespace)).toEqual([ns]);
    });

    it('installs every add-on the cluster needs, each a chart pinned to an exact version from an allowed repository', () => {
      const addons = apps.filter((a) => a.spec.source.chart);
      expect(addons.map((a) => a.metadata.name).sort()).toEqual([...REQUIRED].sort());
      const platform = argo.find((o) => o.kind === 'AppProject' && o.metadata.name === 'platform')!;
      for (const a of addons) {
        const { chart, targetRevision, repoURL } = a.spec.source;
        expect(targetRevision, a.metadata.name).toMatch(EXACT_VERSION);
        expect(platform.spec.sourceRepos, a.metadata.name).toContain(repoURL);
        expect(a.spec.project).toBe('platform');
        expect(
          pinnedChart(chart).version,
          `${a.metadata.name}: pinned values are for another version`,
        ).toBe(targetRevision);
        expect(a.spec.syncPolicy.syncOptions, a.metadata.name).toContain('ServerSideApply=true');
      }
      // metrics-server and the CSI driver are EKS add-ons (deploy/iac), not charts here.
      expect(addons.map((a) => a.spec.source.chart)).not.toContain('metrics-server');
    });

    it('sets only values the pinned chart version knows', () => {
      for (const a of apps.filter((x) => x.spec.source.chart)) {
        const chart = pinnedChart(a.spec.source.chart);
        expect(
          unknownValues(chart, a.spec.source.helm?.valuesObject ?? {}),
          a.metadata.name,
        ).toEqual([]);
      }
    });

    it('the values check catches a misspelt key', () => {
      const kps = pinnedChart('kube-prometheus-stack');
      expect(unknownValues(kps, { prometheus: { prometheusSpec: { retension: '1d' } } })).toEqual([
        'prometheus.prometheusSpec.retension',
      ]);
      expect(
        unknownValues(kps, {
          prometheus: { prometheusSpec: { storageSpec: { anything: { x: 1 } } } },
        }),
      ).toEqual([]);
    });

    it('respects the replica counts the autoscalers own (RespectIgnoreDifferences=true), for exactly the autoscaled Deployments', () => {
      const missionlink = apps.find((a) => a.spec.source.path === `deploy/overlays/${env}`)!;
      for (const a of apps.filter((x) => x.spec.ignoreDifferences))
        expect(a.spec.syncPolicy.syncOptions, a.metadata.name).toContain(
          'RespectIgnoreDifferences=true',
        );
      const ignored = (missionlink.spec.ignoreDifferences ?? [])
        .filter((d: { jsonPointers?: string[] }) => d.jsonPointers?.includes('/spec/replicas'))
        .map((d: { name: string }) => d.name)
        .sort();
      const scaled = overlay
        .filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject')
        .map((o) => o.spec.scaleTargetRef.name as string)
        .sort();
      expect(ignored).toEqual(scaled);
    });

    it('lets Prometheus pick up what deploy/monitoring and the add-ons label (seed 000: no data on the dashboards)', () => {
      const values = app('kube-prometheus-stack').spec.source.helm.valuesObject;
      const spec = values.prometheus.prometheusSpec;
      const matches = (selector: { matchLabels: Record<string, string> }, o: K8sObject) =>
        Object.entries(selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v);
      const monitors = monitoring.filter((o) => o.kind === 'ServiceMonitor');
      const rules = monitoring.filter((o) => o.kind === 'PrometheusRule');
      expect(monitors.length).toBeGreaterThan(0);
      for (const m of monitors)
        expect(matches(spec.serviceMonitorSelector, m), m.metadata.name).toBe(true);
      for (const r of rules) expect(matches(spec.ruleSelector, r), r.metadata.name).toBe(true);
      for (const key of [
        'serviceMonitorSelectorNilUsesHelmValues',
        'ruleSelectorNilUsesHelmValues',
        'podMonitorSelectorNilUsesHelmValues',
      ])
        expect(spec[key], key).toBe(false);
      for (const key of [
        'serviceMonitorNamespaceSelector',
        'ruleNamespaceSelector',
        'podMonitorNamespaceSelector',
      ])
        expect(spec[key], key).toEqual({});
      // The add-ons' own monitors carry the label too.
      const release = spec.serviceMonitorSelector.matchLabels.release;
      expect(
        app('cloudnative-pg').spec.source.helm.valuesObject.monitoring.podMonitorAdditionalLabels
          .release,
      ).toBe(release);
      expect(
        app('external-secrets').spec.source.helm.valuesObject.serviceMonitor.additionalLabels
          .release,
      ).toBe(release);
      expect(
        app('cert-manager').spec.source.helm.valuesObject.prometheus.servicemonitor.labels.release,
      ).toBe(release);
      // Grafana's sidecar loads the dashboards deploy/monitoring ships.
      const sidecar = values.grafana.sidecar.dashboards;
      const dashboards = monitoring.filter(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.includes('dashboards'),
      );
      expect(dashboards.length).toBeGreaterThan(0);
      for (const d of dashboards)
        expect(d.metadata.labels?.[sidecar.label], d.metadata.name).toBe(sidecar.labelValue);
      expect(sidecar.searchNamespace).toBe('ALL');
      expect(spec.retention).toMatch(/^\d+d$/);
    });

    it('keeps every volume on the encrypted gp3 default StorageClass', () => {
      const classes = cluster.filter((o) => o.kind === 'StorageClass');
      const defaults = classes.filter(
        (c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
      );
      expect(defaults).toHaveLength(1);
      const sc = defaults[0]!;
      expect(sc.provisioner).toBe('ebs.csi.aws.com');
      expect(sc.parameters).toMatchObject({ type: 'gp3', encrypted: 'true' });
      expect(sc.volumeBindingMode).toBe('WaitForFirstConsumer');
      const named: string[] = [];
      const walk = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object')
          for (const [k, x] of Object.entries(v)) {
            if ((k === 'storageClassName' || k === 'storageClass') && typeof x === 'string')
              named.push(x);
            else walk(x);
          }
      };
      walk(apps.map((a) => a.spec.source.helm?.valuesObject));
      walk(overlay);
      expect(named.length).toBeGreaterThan(0);
      for (const n of named) expect(n).toBe(sc.metadata.name);
    });

    it('pulls every image that runs on the database nodes (no internet route) through this account’s ECR', () => {
      const prefixes = [
        ...readFileSync(path.join(DEPLOY, 'iac/src/registry.ts'), 'utf8').matchAll(
          /^\s+'?([\w-]+)'?: \{ upstream:/gm,
        ),
      ].map((m) => m[1]);
      expect(prefixes).toContain('ghcr');
      const account = /arn:aws:iam::(\d{12}):/.exec(
        app('aws-load-balancer-controller').spec.source.helm.valuesObject.serviceAccount
          .annotations['eks.amazonaws.com/role-arn'],
      )![1];
      const mirror = new RegExp(
        `^${account}\\.dkr\\.ecr\\.ap-northeast-2\\.amazonaws\\.com/(${prefixes.join('|')})/`,
      );
      const values = (name: string) => app(name).spec.source.helm.valuesObject;
      const images = [
        ...overlay.filter((o) => o.kind === 'Cluster').map((c) => c.spec.imageName as string),
        values('cloudnative-pg').image.repository,
        values('fluent-bit').image.repository,
        `${values('kube-prometheus-stack')['prometheus-node-exporter'].image.registry}/prometheus/node-exporter`,
      ];
      expect(images.length).toBeGreaterThanOrEqual(5);
      for (const image of images) expect(image).toMatch(mirror);
    });

    it('points the Load Balancer Controller at this cluster, its VPC and its IRSA role (names deploy/iac gives them)', () => {
      const stack = parseYaml(
        readFileSync(path.join(DEPLOY, `iac/Pulumi.${env}.yaml`), 'utf8'),
      ) as {
        config: Record<string, unknown>;
      };
      const values = app('aws-load-balancer-controller').spec.source.helm.valuesObject;
      expect(values.clusterName).toBe(`missionlink-${env}`);
      expect(values.region).toBe(stack.config['aws:region']);
      expect(values.vpcTags).toEqual({ Name: `missionlink-${env}-vpc` });
      expect(values.serviceAccount.annotations['eks.amazonaws.com/role-arn']).toMatch(
        new RegExp(`^arn:aws:iam::\\d{12}:role/missionlink-${env}-lb-controller$`),
      );
    });
  },
);
