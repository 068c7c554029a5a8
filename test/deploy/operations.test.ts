// Operations in the overlays: KEDA scales each worker on the JetStream
// consumers the app really creates (stream and durable names from
// src/platform/nats-bus.ts, topics from the workers' subscriptions), reading
// this namespace's NATS monitoring port; prod keeps its two-replica floor;
// and every MissionLink Deployment is restarted by Reloader when a Secret or
// ConfigMap it reads changes (secret rotation without a manual restart),
// except that the audit key's Secret is never refreshed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMAIL_VERIFICATION_REQUESTED } from '../../src/identity/verification.ts';
import { REFUND_COMPLETED, REVERSED } from '../../src/wallet/index.ts';
import { WEBHOOK_DISABLED } from '../../src/webhooks/worker.ts';
import { STREAM } from '../../src/platform/nats-bus.ts';
import { haveTool, OVERLAYS, render, REPO_ROOT, type K8sObject } from './support.ts';

const hasKubectl = haveTool('kubectl', 'rendering the overlays', 'install kubectl');

/** A durable consumer's name as the app makes it (src/platform/nats-bus.ts). */
const durable = (consumer: string, topic: string) => `${consumer}-${topic.replace(/[^\w-]/g, '_')}`;

/** The topics each worker subscribes to, as written in its source. */
const SUBSCRIPTIONS: Record<string, { file: string; topics: string[] }> = {
  settlement: { file: 'src/settlement/worker.ts', topics: ['mission.decided', 'mission.expired'] },
  notifier: {
    file: 'src/notify/worker.ts',
    topics: ['mission.settled', EMAIL_VERIFICATION_REQUESTED, WEBHOOK_DISABLED, REFUND_COMPLETED, REVERSED],
  },
  // src/webhooks/events.ts (TOPIC_TYPES) of the webhooks work.
  webhooks: {
    file: '',
    topics: [
      'mission.proposed',
      'mission.accepted',
      'mission.progress',
      'mission.decided',
      'mission.expired',
      'mission.settled',
      'pledge.held',
      'withdrawal.updated',
    ],
  },
};

/** Every `bus.subscribe('<consumer>', [topics])` in the app's sources, topics resolved where they are constants. */
function subscriptionsInSource(): Map<string, Set<string>> {
  const constants: Record<string, string> = { EMAIL_VERIFICATION_REQUESTED, WEBHOOK_DISABLED, REFUND_COMPLETED, REVERSED };
  const found = new Map<string, Set<string>>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(
          /bus\.subscribe\(\s*'([\w-]+)',\s*\[([^\]]*)\]/g,
        )) {
          const topics = found.get(m[1]!) ?? new Set<string>();
          for (const t of m[2]!
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean))
            topics.add(
              t.startsWith("'") ? t.slice(1, -1) : (constants[t] ?? `unresolved constant ${t}`),
            );
          found.set(m[1]!, topics);
        }
      }
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  return found;
}

describe('the workers’ subscriptions', () => {
  it('are what the app subscribes to (a new subscription needs its KEDA trigger)', () => {
    const found = subscriptionsInSource();
    for (const [worker, topics] of found) {
      if (worker === 'live') continue; // the api's own live-event fan-out, not a worker
      // The webhooks worker subscribes with Object.keys(TOPIC_TYPES) (src/webhooks/events.ts).
      expect(SUBSCRIPTIONS[worker], `no KEDA triggers listed for ${worker}`).toBeDefined();
      expect([...topics].sort(), worker).toEqual([...SUBSCRIPTIONS[worker]!.topics].sort());
    }
    expect(found.has('settlement') && found.has('notifier')).toBe(true);
  });
});

describe.skipIf(!hasKubectl).each(Object.entries(OVERLAYS))(
  'operations of the %s overlay',
  (env, ns) => {
    let objs: K8sObject[];
    const find = (kind: string, name: string) =>
      objs.find((o) => o.kind === kind && o.metadata.name === name)!;
    beforeAll(() => {
      objs = render(`overlays/${env}`);
    });

    it('scales every worker with KEDA on exactly the JetStream consumers it owns, from this namespace’s NATS', () => {
      const scaled = objs.filter((o) => o.kind === 'ScaledObject');
      expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(
        Object.keys(SUBSCRIPTIONS).sort(),
      );
      const headless = find('Service', 'nats-headless');
      expect(headless.spec.ports.map((p: { port: number }) => p.port)).toContain(8222);
      for (const s of scaled) {
        const worker = s.spec.scaleTargetRef.name as string;
        expect(find('Deployment', worker), worker).toBeDefined();
        const consumers = s.spec.triggers.map(
          (t: { type: string; metadata: Record<string, string> }) => {
            expect(t.type).toBe('nats-jetstream');
            expect(t.metadata.natsServerMonitoringEndpoint).toBe(
              `nats-headless.${ns}.svc.cluster.local:8222`,
            );
            expect(t.metadata.stream).toBe(STREAM);
            expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
            return t.metadata.consumer;
          },
        );
        expect(consumers.sort(), worker).toEqual(
          SUBSCRIPTIONS[worker]!.topics.map((t) => durable(worker, t)).sort(),
        );
        expect(s.spec.maxReplicaCount).toBeGreaterThanOrEqual(s.spec.minReplicaCount);
        if (env === 'prod') {
          expect(s.spec.minReplicaCount, worker).toBeGreaterThanOrEqual(2);
          expect(find('Deployment', worker).spec.replicas, worker).toBe(s.spec.minReplicaCount);
        }
      }
    });

    it('restarts every MissionLink Deployment through Reloader when what it reads changes; the audit key never changes', () => {
      for (const d of objs.filter((o) => o.kind === 'Deployment'))
        expect(d.metadata.annotations?.['reloader.stakater.com/auto'], d.metadata.name).toBe(
          'true',
        );
      const audit = objs.find(
        (o) => o.kind === 'ExternalSecret' && o.spec.target.name === 'missionlink-audit',
      )!;
      expect(audit.spec.refreshInterval).toBe('0s');
      // Everything else is refreshed, so a rotation reaches the pods.
      for (const es of objs.filter((o) => o.kind === 'ExternalSecret' && o !== audit))
        expect(es.spec.refreshInterval, es.metadata.name).not.toBe('0s');
    });
  },
);
