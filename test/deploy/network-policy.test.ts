// A small NetworkPolicy evaluator (the semantics of networking.k8s.io/v1:
// a pod selected by no policy of a direction is open in that direction; once
// selected, only what some rule allows passes; a connection needs the
// source's egress and the destination's ingress) run over the rendered
// overlays, with the pods their workloads and CloudNativePG clusters create
// and the platform's pods around them. It proves exactly the intended edges:
// which role reaches which database, who reaches which port of the
// MissionLink pods (Prometheus only their metrics port), and little else.
import { beforeAll, describe, expect, it } from 'vitest';
import { haveTool, OVERLAYS, render, type K8sObject } from './support.ts';

const hasKubectl = haveTool(
  'kubectl',
  'evaluating the NetworkPolicies of the rendered overlays',
  'install kubectl',
);

interface Endpoint {
  name: string;
  namespace?: string; // undefined: outside the cluster
  labels: Record<string, string>;
  ip: string;
  /** Named container ports (a NetworkPolicy may name a port instead of numbering it). */
  ports?: Record<string, number>;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface Port {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (e.operator === 'In' && !(has && e.values!.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && e.values!.includes(labels[e.key]!)) return false;
  }
  return true;
}

const ipToInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(bits));
  const masked = (n: number) => (mask === 0 ? 0 : Math.floor(n / 2 ** (32 - Number(bits))));
  return mask === 0 || masked(ipToInt(ip)) === masked(ipToInt(base!));
}

class Network {
  constructor(
    private readonly policies: K8sObject[],
    private readonly namespaceLabels: Record<string, Record<string, string>>,
  ) {}

  private peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
    if (peer.ipBlock)
      return (
        inCidr(other.ip, peer.ipBlock.cidr) &&
        !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c))
      );
    if (other.namespace === undefined) return false;
    const nsOk = peer.namespaceSelector
      ? selects(peer.namespaceSelector, this.namespaceLabels[other.namespace] ?? {})
      : other.namespace === policyNamespace;
    return nsOk && selects(peer.podSelector, other.labels);
  }

  /** A named port is looked up among the destination pod's container ports. */
  private portMatches(
    ports: Port[] | undefined,
    port: number,
    protocol: string,
    destination: Endpoint,
  ): boolean {
    if (!ports?.length) return true;
    return ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === 'string') return destination.ports?.[p.port] === port;
      return p.endPort ? port >= p.port && port <= p.endPort : p.port === port;
    });
  }

  private allowedBy(
    pod: Endpoint,
    direction: 'Ingress' | 'Egress',
    other: Endpoint,
    port: number,
    protocol: string,
  ): boolean {
    if (pod.namespace === undefined) return true; // outside the cluster: not ours to police
    const applying = this.policies.filter(
      (p) =>
        p.metadata.namespace === pod.namespace &&
        selects(p.spec.podSelector, pod.labels) &&
        (p.spec.policyTypes ?? ['Ingress']).includes(direction),
    );
    if (!applying.length) return true;
    const key = direction === 'Ingress' ? 'ingress' : 'egress';
    const peersKey = direction === 'Ingress' ? 'from' : 'to';
    const destination = direction === 'Ingress' ? pod : other;
    return applying.some((p) =>
      ((p.spec[key] ?? []) as Record<string, unknown>[]).some(
        (rule) =>
          (!(rule[peersKey] as Peer[] | undefined)?.length ||
            (rule[peersKey] as Peer[]).some((peer) =>
              this.peerMatches(peer, p.metadata.namespace!, other),
            )) &&
          this.portMatches(rule.ports as Port[] | undefined, port, protocol, destination),
      ),
    );
  }

  /** Whether `to`'s ingress rules alone admit `from` (as if every egress were open). */
  admits(from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
    return this.allowedBy(to, 'Ingress', from, port, protocol);
  }

  /** Whether `from`'s egress rules alone let it reach `to` (as if every ingress were open). */
  emits(from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
    return this.allowedBy(from, 'Egress', to, port, protocol);
  }

  /** Whether `from` can open a connection to `to` on `port`. */
  allows(from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
    return (
      this.allowedBy(from, 'Egress', to, port, protocol) &&
      this.allowedBy(to, 'Ingress', from, port, protocol)
    );
  }
}

let ipCounter = 10;
const podIp = () => `10.0.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 1}`;

/** The pods an overlay's objects create, plus the platform around them. */
function world(objs: K8sObject[], namespace: string) {
  const pods: Endpoint[] = [];
  for (const o of objs) {
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet')
      pods.push({
        name: o.metadata.name,
        namespace,
        labels: o.spec.template.metadata.labels,
        ip: podIp(),
        ports: Object.fromEntries(
          (
            o.spec.template.spec.containers as {
              ports?: { name?: string; containerPort: number }[];
            }[]
          )
            .flatMap((c) => c.ports ?? [])
            .filter((p) => p.name)
            .map((p) => [p.name!, p.containerPort]),
        ),
      });
    if (o.kind === 'Cluster')
      pods.push({
        name: o.metadata.name,
        namespace,
        labels: {
          'cnpg.io/cluster': o.metadata.name,
          'cnpg.io/podRole': 'instance',
          'cnpg.io/instanceRole': 'primary',
        },
        ip: podIp(),
      });
  }
  const platform = {
    gateway: {
      name: 'envoy',
      namespace: 'envoy-gateway-system',
      labels: { 'app.kubernetes.io/name': 'envoy' },
      ip: podIp(),
    },
    prometheus: {
      name: 'prometheus',
      namespace: 'monitoring',
      labels: { 'app.kubernetes.io/name': 'prometheus' },
      ip: podIp(),
    },
    dns: {
      name: 'coredns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns' },
      ip: podIp(),
    },
    operator: {
      name: 'cnpg-controller-manager',
      namespace: 'cnpg-system',
      labels: { 'app.kubernetes.io/name': 'cloudnative-pg' },
      ip: podIp(),
    },
    intruder: {
      name: 'intruder',
      namespace: 'default',
      labels: { 'app.kubernetes.io/name': 'api' },
      ip: podIp(),
    },
    keda: {
      name: 'keda-operator',
      namespace: 'keda',
      labels: { 'app.kubernetes.io/name': 'keda-operator' },
      ip: podIp(),
    },
    smtpRelay: { name: 'smtp relay', labels: {}, ip: '203.0.113.25' },
    internet: { name: 'internet', labels: {}, ip: '198.51.100.7' },
  } satisfies Record<string, Endpoint>;
  const namespaceLabels: Record<string, Record<string, string>> = {};
  for (const ns of [namespace, ...(Object.values(platform) as Endpoint[]).map((p) => p.namespace)])
    if (ns) namespaceLabels[ns] = { 'kubernetes.io/metadata.name': ns };
  const net = new Network(
    objs.filter((o) => o.kind === 'NetworkPolicy'),
    namespaceLabels,
  );
  const byRole = (role: string) => pods.filter((p) => p.labels['app.kubernetes.io/name'] === role);
  const db = (name: string) => pods.find((p) => p.labels['cnpg.io/cluster'] === name)!;
  return { pods, platform, net, byRole, db };
}

const ROLES = ['api', 'settlement', 'notifier', 'sweeper', 'webhooks', 'nats'] as const;
const INTENDED: Record<(typeof ROLES)[number], string[]> = {
  api: ['funding-db', 'identity-db'],
  settlement: ['funding-db'],
  // The notifier reads pledges and writes notifications in the funding database
  // (src/notify/worker.ts); mail addresses come from the api, not the identity database.
  notifier: ['funding-db'],
  sweeper: ['funding-db'],
  webhooks: ['funding-db'],
  nats: [],
};

describe.skipIf(!hasKubectl).each(Object.entries(OVERLAYS))(
  'NetworkPolicies of the %s overlay',
  (env, namespace) => {
    let w: ReturnType<typeof world>;
    beforeAll(() => {
      w = world(render(`overlays/${env}`), namespace);
    });

    it('let each role reach exactly its databases', () => {
      const reached: Record<string, string[]> = {};
      for (const role of ROLES) {
        const pods = w.byRole(role);
        expect(pods.length, role).toBeGreaterThan(0);
        for (const pod of pods) {
          const dbs = ['identity-db', 'funding-db']
            .filter((d) => w.net.allows(pod, w.db(d), 5432))
            .sort();
          // Every pod of a role (blue, green, canary, …) has the same edges.
          reached[role] ??= dbs;
          expect(dbs, pod.name).toEqual(reached[role]);
        }
      }
      expect(reached).toEqual(INTENDED);
    });

    it('enforce the same edges on both sides: each database admits only its roles, each role egresses only to its databases', () => {
      for (const role of ROLES) {
        for (const pod of w.byRole(role)) {
          const dbs = ['funding-db', 'identity-db'];
          expect(
            dbs.filter((d) => w.net.admits(pod, w.db(d), 5432)),
            `${pod.name}: database ingress`,
          ).toEqual(INTENDED[role]);
          expect(
            dbs.filter((d) => w.net.emits(pod, w.db(d), 5432)),
            `${pod.name}: egress`,
          ).toEqual(INTENDED[role]);
        }
      }
    });

    it('keep the databases apart and closed to everything else', () => {
      expect(w.net.allows(w.db('identity-db'), w.db('funding-db'), 5432)).toBe(false);
      expect(w.net.allows(w.db('funding-db'), w.db('identity-db'), 5432)).toBe(false);
      for (const outsider of [w.platform.gateway, w.platform.intruder, w.platform.prometheus]) {
        for (const d of ['identity-db', 'funding-db'])
          expect(w.net.allows(outsider, w.db(d), 5432), `${outsider.name} -> ${d}`).toBe(false);
      }
      // …but the operator manages them and Prometheus reads their exporter.
      for (const d of ['identity-db', 'funding-db']) {
        expect(w.net.allows(w.platform.operator, w.db(d), 8000)).toBe(true);
        expect(w.net.allows(w.platform.prometheus, w.db(d), 9187)).toBe(true);
      }
    });

    it('let only the Gateway and the notifier reach the api on its public port', () => {
      for (const api of w.byRole('api')) {
        const http = api.ports!.http!;
        expect(http, api.name).toBe(8080);
        expect(w.net.allows(w.platform.gateway, api, http)).toBe(true);
        expect(w.net.allows(w.platform.intruder, api, http)).toBe(false);
        expect(w.net.allows(w.platform.gateway, api, 5432)).toBe(false);
        for (const n of w.byRole('notifier')) expect(w.net.allows(n, api, http)).toBe(true);
        for (const other of ['settlement', 'sweeper', 'nats'])
          for (const p of w.byRole(other)) expect(w.net.allows(p, api, http), other).toBe(false);
      }
      // Workers serve no API: nothing in the cluster reaches their public
      // port (the kubelet's probes come from the node, which is always admitted).
      for (const role of ['settlement', 'notifier', 'sweeper']) {
        for (const p of w.byRole(role)) {
          for (const from of [w.platform.gateway, w.platform.prometheus, w.platform.intruder])
            expect(w.net.allows(from, p, p.ports!.http!), `${from.name} -> ${role}`).toBe(false);
          for (const other of w.pods.filter((o) => o !== p))
            expect(w.net.allows(other, p, p.ports!.http!), `${other.name} -> ${role}`).toBe(false);
        }
      }
    });

    it('let Prometheus (the monitoring namespace) scrape every MissionLink pod on its metrics port, and only there', () => {
      for (const role of ['api', 'settlement', 'notifier', 'sweeper']) {
        const pods = w.byRole(role);
        expect(pods.length, role).toBeGreaterThan(0);
        for (const p of pods) {
          const metrics = p.ports?.metrics;
          expect(metrics, `${p.name}: container port metrics`).toBeDefined();
          expect(metrics, p.name).not.toBe(p.ports!.http);
          expect(w.net.allows(w.platform.prometheus, p, metrics!), p.name).toBe(true);
          // /metrics is no longer served on the public port: Prometheus has no business there.
          expect(w.net.allows(w.platform.prometheus, p, p.ports!.http!), p.name).toBe(false);
          // Nobody else reaches the metrics port: not the Gateway, not another namespace,
          // not the other pods of this one.
          for (const from of [w.platform.gateway, w.platform.intruder, w.platform.dns])
            expect(w.net.allows(from, p, metrics!), `${from.name} -> ${p.name}`).toBe(false);
          for (const other of w.pods.filter((o) => o !== p))
            expect(w.net.allows(other, p, metrics!), `${other.name} -> ${p.name}`).toBe(false);
        }
      }
    });

    it('let the five roles use NATS, and NATS servers route to each other; KEDA and Prometheus read its monitoring port', () => {
      for (const n of w.byRole('nats')) {
        expect(w.net.allows(w.platform.keda, n, 8222)).toBe(true);
        expect(w.net.allows(w.platform.prometheus, n, 8222)).toBe(true);
        expect(w.net.allows(w.platform.intruder, n, 8222)).toBe(false);
        expect(w.net.allows(w.platform.keda, n, 4222)).toBe(false);
      }
      for (const role of ['api', 'settlement', 'notifier', 'sweeper', 'webhooks']) {
        for (const p of w.byRole(role))
          for (const n of w.byRole('nats')) expect(w.net.allows(p, n, 4222), role).toBe(true);
      }
      const [n1] = w.byRole('nats');
      expect(w.net.allows(n1!, n1!, 6222)).toBe(true);
      expect(w.net.allows(w.db('funding-db'), n1!, 4222)).toBe(false);
      expect(w.net.allows(w.platform.intruder, n1!, 4222)).toBe(false);
    });

    it('let only the notifier out to SMTP', () => {
      for (const n of w.byRole('notifier')) {
        for (const port of [587, 465, 25])
          expect(w.net.allows(n, w.platform.smtpRelay, port)).toBe(true);
        expect(w.net.allows(n, w.platform.internet, 443)).toBe(false);
        expect(w.net.allows(n, w.platform.intruder, 587)).toBe(false);
      }
      for (const role of ['api', 'settlement', 'sweeper', 'webhooks', 'nats'])
        for (const p of w.byRole(role))
          expect(w.net.allows(p, w.platform.smtpRelay, 587), role).toBe(false);
    });

    // Addresses a webhook URL (or a DNS answer for one) might point at, none public.
    const NOT_PUBLIC = [
      '10.40.64.5', // the VPC (nodes, pods)
      '10.0.0.1',
      '172.20.0.10', // the cluster's service range
      '192.168.1.1',
      '100.64.0.1', // carrier-grade NAT
      '169.254.169.254', // instance metadata
      '127.0.0.1',
      '0.0.0.1',
      '224.0.0.1',
      '198.18.0.1',
    ];
    const outside = (ip: string) => ({ name: ip, labels: {}, ip });

    it('let webhook deliveries out on 443 to public addresses only', () => {
      for (const p of w.byRole('webhooks')) {
        expect(w.net.allows(p, w.platform.internet, 443)).toBe(true);
        expect(w.net.allows(p, outside('203.0.113.80'), 443)).toBe(true);
        for (const port of [80, 8443, 22, 25, 5432])
          expect(w.net.allows(p, w.platform.internet, port), `${port}`).toBe(false);
        for (const ip of NOT_PUBLIC) expect(w.net.allows(p, outside(ip), 443), ip).toBe(false);
        // Nor into the cluster, whatever the port.
        for (const other of [...w.pods.filter((o) => o !== p), w.platform.intruder])
          expect(w.net.allows(p, other, 443), other.name).toBe(false);
      }
    });

    it('let the payment provider be called (443, public addresses) by the api and settlement only', () => {
      for (const role of ['api', 'settlement']) {
        for (const p of w.byRole(role)) {
          expect(w.net.allows(p, w.platform.internet, 443), role).toBe(true);
          expect(w.net.allows(p, w.platform.internet, 80), role).toBe(false);
          for (const ip of NOT_PUBLIC)
            expect(w.net.allows(p, outside(ip), 443), `${role} -> ${ip}`).toBe(false);
        }
      }
      for (const role of ['notifier', 'sweeper', 'nats'])
        for (const p of w.byRole(role))
          expect(w.net.allows(p, w.platform.internet, 443), role).toBe(false);
      expect(w.net.allows(w.db('funding-db'), w.platform.internet, 80)).toBe(false);
    });

    it('let every pod resolve names, and nothing else by default', () => {
      for (const p of w.pods) {
        expect(w.net.allows(p, w.platform.dns, 53, 'UDP'), p.name).toBe(true);
        expect(w.net.allows(p, w.platform.dns, 53, 'TCP'), p.name).toBe(true);
        expect(w.net.allows(p, w.platform.dns, 80), p.name).toBe(false);
        expect(w.net.allows(p, w.platform.intruder, 8080), p.name).toBe(false);
      }
    });
  },
);

describe('the NetworkPolicy evaluator itself', () => {
  it('matches label selectors and CIDRs', () => {
    expect(
      selects({ matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }] }, { a: 'x' }),
    ).toBe(true);
    expect(
      selects({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] }, { a: 'x' }),
    ).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, {})).toBe(false);
    expect(selects({}, { any: 'thing' })).toBe(true);
    expect(inCidr('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(inCidr('11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(inCidr('172.20.0.1', '172.16.0.0/12')).toBe(true);
    expect(inCidr('203.0.113.25', '0.0.0.0/0')).toBe(true);
  });

  it('treats unselected pods as open and selected pods as closed but for their rules', () => {
    const a: Endpoint = { name: 'a', namespace: 'n', labels: { app: 'a' }, ip: '10.0.0.1' };
    const b: Endpoint = { name: 'b', namespace: 'n', labels: { app: 'b' }, ip: '10.0.0.2' };
    const open = new Network([], {});
    expect(open.allows(a, b, 80)).toBe(true);
    const policy = (spec: unknown) =>
      ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'p', namespace: 'n' },
        spec,
      }) as K8sObject;
    const closed = new Network(
      [
        policy({
          podSelector: { matchLabels: { app: 'b' } },
          policyTypes: ['Ingress'],
          ingress: [
            { from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 80 }] },
          ],
        }),
      ],
      {},
    );
    expect(closed.allows(a, b, 80)).toBe(true);
    expect(closed.allows(a, b, 81)).toBe(false);
    expect(closed.allows(b, a, 80)).toBe(true);
  });

  it("resolves a named port against the destination pod's container ports", () => {
    const a: Endpoint = { name: 'a', namespace: 'n', labels: { app: 'a' }, ip: '10.0.0.1' };
    const b: Endpoint = {
      name: 'b',
      namespace: 'n',
      labels: { app: 'b' },
      ip: '10.0.0.2',
      ports: { metrics: 9464 },
    };
    const net = new Network(
      [
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'p', namespace: 'n' },
          spec: {
            podSelector: { matchLabels: { app: 'b' } },
            policyTypes: ['Ingress'],
            ingress: [{ ports: [{ port: 'metrics' }] }],
          },
        },
      ],
      {},
    );
    expect(net.allows(a, b, 9464)).toBe(true);
    expect(net.allows(a, b, 8080)).toBe(false);
    expect(net.allows({ ...a, ports: { metrics: 8080 } }, { ...b, ports: {} }, 8080)).toBe(false);
  });
});
