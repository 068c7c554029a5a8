// "Bring a container" (deploy/components/service): ~10 values give a service
// everything the platform expects, and the example (deploy/services/hello)
// renders to exactly that: its own namespace labelled for the admission
// policies and the Gateway, a hardened Deployment, a Service, an HTTPRoute on
// the platform's Gateway, a default-deny NetworkPolicy, a PDB, an HPA and a
// ServiceMonitor Prometheus selects, every object valid (render.test.ts runs
// the schema checks on it too).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOY, haveTool, render, validateModel, type K8sObject } from './support.ts';

const hasKubectl = haveTool('kubectl', 'rendering the service component', 'install kubectl');

describe.skipIf(!hasKubectl)(
  'the "bring a container" component, used by deploy/services/hello',
  () => {
    let objs: K8sObject[];
    const find = (kind: string) => objs.find((o) => o.kind === kind)!;
    beforeAll(() => {
      objs = render('services/hello');
    });

    it('takes about ten values and gives every object the platform expects, named after the service, in its namespace', async () => {
      const k = parse(readFileSync(path.join(DEPLOY, 'services/hello/kustomization.yaml'), 'utf8'));
      expect(k.configMapGenerator[0].literals.length).toBeLessThanOrEqual(12);
      expect(objs.map((o) => o.kind).sort()).toEqual(
        [
          'Deployment',
          'HTTPRoute',
          'HorizontalPodAutoscaler',
          'Namespace',
          'NetworkPolicy',
          'PodDisruptionBudget',
          'Service',
          'ServiceAccount',
          'ServiceMonitor',
        ].sort(),
      );
      expect(objs.find((o) => o.kind === 'ConfigMap')).toBeUndefined();
      for (const o of objs) {
        expect(o.metadata.name, o.kind).toBe('hello');
        if (o.kind !== 'Namespace') expect(o.metadata.namespace, o.kind).toBe('hello');
        expect(await validateModel(o), o.kind).toBeUndefined();
      }
      expect(JSON.stringify(objs)).not.toMatch(/"app"|IMAGE|HOST|ENVIRONMENT|\/PATH/);
    });

    it('runs the container hardened, with limits, probes and a graceful stop', () => {
      const d = find('Deployment');
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      expect(c.image).toBe('quay.io/brancz/prometheus-example-app:v0.5.0');
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources.limits).toEqual({ cpu: '250m', memory: '64Mi' });
      expect(c.readinessProbe.httpGet.path).toBe('/');
      expect(c.ports[0].containerPort).toBe(8080);
      expect(d.metadata.annotations?.['reloader.stakater.com/auto']).toBe('true');
      expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
    });

    it('is reachable through the platform’s Gateway, only from it and Prometheus, and scaled and protected', () => {
      const ns = find('Namespace');
      expect(ns.metadata.labels).toMatchObject({
        'missionlink.io/admission': 'enforced',
        'missionlink.io/gateway-access': 'true',
        'missionlink.io/environment': 'prod',
      });
      const route = find('HTTPRoute');
      expect(route.spec.parentRefs).toEqual([
        { name: 'missionlink', namespace: 'edge', sectionName: 'https-app' },
      ]);
      expect(route.spec.rules[0].matches[0].path).toEqual({ type: 'PathPrefix', value: '/hello' });
      expect(route.spec.rules[0].backendRefs).toEqual([{ name: 'hello', port: 80 }]);
      const svc = find('Service');
      expect(svc.spec.selector).toEqual(find('Deployment').spec.template.metadata.labels);
      const np = find('NetworkPolicy');
      expect(np.spec.podSelector).toEqual({});
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(np.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
      expect(
        np.spec.ingress[0].from.map(
          (f: { namespaceSelector: { matchLabels: Record<string, string> } }) =>
            f.namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
        ),
      ).toEqual(['envoy-gateway-system', 'monitoring']);
      expect(find('HorizontalPodAutoscaler').spec).toMatchObject({
        minReplicas: 2,
        maxReplicas: 4,
      });
      expect(find('Deployment').spec.replicas).toBe(2);
      expect(find('PodDisruptionBudget').spec.selector.matchLabels).toEqual({
        'app.kubernetes.io/name': 'hello',
      });
      const sm = find('ServiceMonitor');
      expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
      expect(sm.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    });
  },
);
