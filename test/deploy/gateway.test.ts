// Routes requests through the rendered Gateway and HTTPRoutes with the
// Gateway API's matching rules (listener by hostname; within the attached
// routes the most specific match wins: exact path, then regular expression
// (Envoy Gateway's order), then the longest path prefix, then method, then the
// most header matches, then the most query-parameter matches), and checks
// where each request lands: canary by header or query parameter, a weighted
// split otherwise, nothing internal exposed, the ops API on its own route.
// The Gateway lives in the cluster's `edge` namespace (deploy/cluster/<env>)
// and admits a route only when the route's namespace passes the listener's
// allowedRoutes (here: the label missionlink.io/gateway-access=true).
import { beforeAll, describe, expect, it } from 'vitest';
import { CLUSTERS, haveTool, OVERLAYS, render, type K8sObject } from './support.ts';

const hasKubectl = haveTool(
  'kubectl',
  'evaluating the Gateway API routes of the rendered overlays',
  'install kubectl',
);

interface Request {
  host: string;
  port?: number;
  path: string;
  method?: string;
  headers?: Record<string, string>;
}

interface PathMatch {
  type?: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value?: string;
}

interface Match {
  path?: PathMatch;
  method?: string;
  headers?: { type?: string; name: string; value: string }[];
  queryParams?: { type?: string; name: string; value: string }[];
}

interface Landing {
  route: string;
  backends: Record<string, number>;
  filters: { type: string; [k: string]: unknown }[];
  timeouts?: { request?: string };
}

function pathMatches(m: PathMatch | undefined, path: string): boolean {
  const type = m?.type ?? 'PathPrefix';
  const value = m?.value ?? '/';
  if (type === 'Exact') return path === value;
  if (type === 'RegularExpression') return new RegExp(value).test(path);
  if (value === '/') return true;
  const prefix = value.replace(/\/$/, '');
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Sort key: larger is more specific. */
function specificity(m: Match): number[] {
  const type = m.path?.type ?? 'PathPrefix';
  return [
    type === 'Exact' ? 2 : type === 'RegularExpression' ? 1 : 0,
    type === 'PathPrefix' ? (m.path?.value ?? '/').length : 0,
    m.method ? 1 : 0,
    m.headers?.length ?? 0,
    m.queryParams?.length ?? 0,
  ];
}

interface Listener {
  name: string;
  port: number;
  hostname?: string;
  allowedRoutes?: {
    namespaces?: {
      from?: 'Same' | 'All' | 'Selector';
      selector?: { matchLabels?: Record<string, string> };
    };
  };
}

/** Whether `listener` of `gateway` admits a route from namespace `ns` (Gateway API allowedRoutes). */
function admits(objs: K8sObject[], gateway: K8sObject, listener: Listener, ns: string): boolean {
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return ns === gateway.metadata.namespace;
  const labels =
    objs.find((o) => o.kind === 'Namespace' && o.metadata.name === ns)?.metadata.labels ?? {};
  return Object.entries(listener.allowedRoutes!.namespaces!.selector?.matchLabels ?? {}).every(
    ([k, v]) => labels[k] === v,
  );
}

function route(objs: K8sObject[], req: Request): Landing | 'no listener' | 'no route' {
  const gateway = objs.find((o) => o.kind === 'Gateway')!;
  const port = req.port ?? 443;
  const listener = (gateway.spec.listeners as Listener[]).find(
    (l) => l.port === port && (l.hostname === undefined || l.hostname === req.host),
  );
  if (!listener) return 'no listener';
  const url = new URL(`https://${req.host}${req.path}`);
  const headers = Object.fromEntries(
    Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const candidates: { key: number[]; order: number; landing: Landing }[] = [];
  let order = 0;
  for (const r of objs.filter((o) => o.kind === 'HTTPRoute')) {
    const ns = r.metadata.namespace!;
    const attached = (
      r.spec.parentRefs as { name: string; namespace?: string; sectionName?: string }[]
    ).some(
      (p) =>
        p.name === gateway.metadata.name &&
        (p.namespace ?? ns) === gateway.metadata.namespace &&
        (!p.sectionName || p.sectionName === listener.name) &&
        admits(objs, gateway, listener, ns),
    );
    if (!attached || !(r.spec.hostnames ?? [req.host]).includes(req.host)) continue;
    for (const rule of r.spec.rules) {
      const matches: Match[] = rule.matches?.length
        ? rule.matches
        : [{ path: { type: 'PathPrefix', value: '/' } }];
      for (const m of matches) {
        order++;
        const ok =
          pathMatches(m.path, url.pathname) &&
          (!m.method || m.method === (req.method ?? 'GET')) &&
          (m.headers ?? []).every((h) => headers[h.name.toLowerCase()] === h.value) &&
          (m.queryParams ?? []).every((q) => url.searchParams.get(q.name) === q.value);
        if (!ok) continue;
        const backends: Record<string, number> = {};
        for (const b of rule.backendRefs ?? []) backends[b.name] = b.weight ?? 1;
        candidates.push({
          key: specificity(m),
          order,
          landing: {
            route: r.metadata.name,
            backends,
            filters: rule.filters ?? [],
            timeouts: rule.timeouts,
          },
        });
      }
    }
  }
  candidates.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return b.key[i]! - a.key[i]!;
    return a.order - b.order;
  });
  return candidates[0]?.landing ?? 'no route';
}

describe.skipIf(!hasKubectl).each(Object.entries(OVERLAYS))(
  'Gateway routes of the %s overlay',
  (env) => {
    let objs: K8sObject[];
    let app: K8sObject[];
    let hosts: { app: string; api: string; overlay: string };
    beforeAll(() => {
      app = render(`overlays/${env}`);
      objs = [...render(CLUSTERS[env as keyof typeof CLUSTERS]), ...app];
      const suffix = env === 'prod' ? 'missionlink.example' : 'dev.missionlink.example';
      hosts = { app: `app.${suffix}`, api: `api.${suffix}`, overlay: `overlay.${suffix}` };
    });
    const go = (req: Request) => route(objs, req);

    it('serves app, api and overlay hosts from one Gateway in the platform’s namespace, over TLS', () => {
      expect(app.filter((o) => o.kind === 'Gateway')).toEqual([]);
      const gateways = objs.filter((o) => o.kind === 'Gateway');
      expect(gateways).toHaveLength(1);
      expect(gateways[0]!.metadata.namespace).toBe('edge');
      const https = gateways[0]!.spec.listeners.filter(
        (l: { protocol: string }) => l.protocol === 'HTTPS',
      );
      expect(https.map((l: { hostname: string }) => l.hostname).sort()).toEqual(
        Object.values(hosts).sort(),
      );
      for (const l of https) {
        expect(l.port).toBe(443);
        expect(l.tls.mode).toBe('Terminate');
        expect(l.tls.certificateRefs[0].name).toBeTruthy();
      }
    });

    it('redirects plain HTTP to HTTPS on every host', () => {
      for (const host of Object.values(hosts)) {
        const landing = go({ host, port: 80, path: '/api/v1/me' }) as Landing;
        expect(landing.filters).toEqual([
          { type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } },
        ]);
      }
    });

    it('sends API traffic through a weighted split: mostly stable, a little canary', () => {
      const landing = go({
        host: hosts.api,
        path: '/api/v1/missions/123/pledges',
        method: 'POST',
      }) as Landing;
      expect(Object.keys(landing.backends).sort()).toEqual(['api', 'api-canary']);
      expect(landing.backends.api).toBeGreaterThan(landing.backends['api-canary']!);
      expect(landing.backends['api-canary']).toBeGreaterThan(0);
      expect((go({ host: hosts.api, path: '/.well-known/jwks.json' }) as Landing).backends).toEqual(
        landing.backends,
      );
    });

    it('sends `x-canary: always` and `?version=v2` to the canary only', () => {
      for (const host of [hosts.api, hosts.app]) {
        expect(
          (go({ host, path: '/api/v1/me', headers: { 'X-Canary': 'always' } }) as Landing).backends,
        ).toEqual({ 'api-canary': 1 });
        expect(
          (go({ host, path: '/api/v1/channels/abc/missions?version=v2' }) as Landing).backends,
        ).toEqual({ 'api-canary': 1 });
        expect(
          (go({ host, path: '/api/v1/me', headers: { 'x-canary': 'never' } }) as Landing).backends,
        ).not.toEqual({ 'api-canary': 1 });
        expect((go({ host, path: '/api/v1/me?version=v1' }) as Landing).backends).not.toEqual({
          'api-canary': 1,
        });
      }
    });

    it('serves the web app, channel pages and the overlay from the stable api', () => {
      for (const path of ['/', '/c/streamer', '/overlay/streamer', '/assets/app.js'])
        expect((go({ host: hosts.app, path }) as Landing).backends, path).toEqual({ api: 1 });
      for (const path of [
        '/overlay/streamer',
        '/assets/app.js',
        '/favicon.svg',
        '/api/v1/channels/streamer',
        '/api/v1/missions/0192',
      ])
        expect((go({ host: hosts.overlay, path }) as Landing).backends, path).toEqual({ api: 1 });
      // The overlay host reads; it does not take pledges or sign anyone in.
      expect(go({ host: hosts.overlay, path: '/api/v1/wallet' })).toBe('no route');
      expect(
        go({ host: hosts.overlay, path: '/api/v1/missions/0192/pledges', method: 'POST' }),
      ).toBe('no route');
      expect(go({ host: hosts.api, path: '/' })).toBe('no route');
    });

    it('attaches routes only from namespaces labelled for the Gateway', () => {
      const intruder = structuredClone(
        app.find((o) => o.kind === 'HTTPRoute' && o.metadata.name === 'api')!,
      );
      intruder.metadata = { name: 'intruder', namespace: 'intruder' };
      intruder.spec.rules = [
        {
          matches: [{ path: { type: 'Exact', value: '/api/v1/me' } }],
          backendRefs: [{ name: 'evil', port: 80 }],
        },
      ];
      const namespace = (labels: Record<string, string>) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'intruder', labels },
      });
      const withIntruder = (labels: Record<string, string>) => [
        ...objs,
        namespace(labels),
        intruder,
      ];
      expect(
        (route(withIntruder({}), { host: hosts.api, path: '/api/v1/me' }) as Landing).route,
      ).toBe('api');
      expect(
        (
          route(withIntruder({ 'missionlink.io/gateway-access': 'true' }), {
            host: hosts.api,
            path: '/api/v1/me',
          }) as Landing
        ).route,
      ).toBe('intruder');
      // The plain-HTTP listener takes routes from the edge namespace only.
      const http = structuredClone(intruder);
      http.spec.parentRefs = [{ name: 'missionlink', namespace: 'edge', sectionName: 'http' }];
      http.spec.hostnames = [hosts.api];
      const redirected = route(
        [...objs, namespace({ 'missionlink.io/gateway-access': 'true' }), http],
        {
          host: hosts.api,
          port: 80,
          path: '/api/v1/me',
        },
      ) as Landing;
      expect(redirected.route).toBe('https-redirect');
    });

    it('sends every ops API request, whatever its method or headers, to the ops route (the admin-only SecurityPolicy’s target)', () => {
      for (const host of [hosts.app, hosts.api]) {
        for (const [path, method, headers] of [
          ['/api/v1/ops/withdrawals', 'GET', {}],
          ['/api/v1/ops/withdrawals/0192/approve', 'POST', {}],
          ['/api/v1/ops/users/1/release-holds', 'POST', { 'x-canary': 'always' }],
          ['/api/v1/ops/missions/1/resolve?version=v2', 'POST', {}],
          ['/api/v1/ops', 'GET', {}],
        ] as const) {
          const landing = go({ host, path, method, headers }) as Landing;
          expect(landing.route, `${host}${path}`).toBe('ops');
          expect(landing.backends, `${host}${path}`).toEqual({ api: 1 });
        }
        // A lookalike path is not the ops API (and not covered by the policy).
        expect((go({ host, path: '/api/v1/opsx' }) as Landing).route).not.toBe('ops');
      }
      expect(go({ host: hosts.overlay, path: '/api/v1/ops/withdrawals' })).toBe('no route');
    });

    it('keeps live event streams open (no request timeout)', () => {
      for (const host of Object.values(hosts)) {
        for (const path of ['/api/v1/channels/streamer/events', '/api/v1/missions/0192/events']) {
          const landing = go({ host, path }) as Landing;
          expect(landing.backends, `${host}${path}`).toEqual({ api: 1 });
          expect(landing.timeouts?.request, `${host}${path}`).toBe('0s');
        }
      }
    });

    // Defence in depth: with METRICS_PORT set the app answers 404 for /metrics
    // on the port the Gateway reaches anyway (the next test keeps the Gateway
    // off the metrics port).
    it('never exposes the internal identity API or the metrics', () => {
      for (const host of Object.values(hosts)) {
        for (const path of ['/internal/v1/users/42', '/metrics', '/metrics/', '/internal']) {
          const landing = go({ host, path, headers: { 'x-canary': 'always' } }) as Landing;
          expect(landing.filters, `${host}${path}`).toEqual([
            {
              type: 'URLRewrite',
              urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/not-routed' } },
            },
          ]);
        }
      }
    });

    it('never sends a request to a metrics port: every backend port targets the public `http` port', () => {
      const services = new Map(
        objs.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s]),
      );
      for (const r of objs.filter((o) => o.kind === 'HTTPRoute')) {
        for (const rule of r.spec.rules) {
          for (const b of rule.backendRefs ?? []) {
            const port = (
              services.get(b.name)?.spec.ports as
                { name: string; port: number; targetPort?: unknown }[] | undefined
            )?.find((p) => p.port === b.port);
            const id = `${r.metadata.name} -> ${b.name}:${b.port}`;
            expect(port?.name, id).toBe('http');
            expect(port?.targetPort, id).toBe('http');
          }
        }
      }
    });

    it('routes only to Services that exist, on their port', () => {
      const services = new Map(
        app.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s]),
      );
      const listeners = new Set(
        objs.find((o) => o.kind === 'Gateway')!.spec.listeners.map((l: { name: string }) => l.name),
      );
      for (const r of objs.filter((o) => o.kind === 'HTTPRoute')) {
        for (const p of r.spec.parentRefs)
          expect(listeners.has(p.sectionName), `${r.metadata.name} -> ${p.sectionName}`).toBe(true);
        for (const rule of r.spec.rules) {
          for (const b of rule.backendRefs ?? []) {
            const svc = services.get(b.name);
            expect(svc, `${r.metadata.name} -> ${b.name}`).toBeDefined();
            expect(svc!.spec.ports.map((p: { port: number }) => p.port)).toContain(b.port);
          }
        }
      }
    });
  },
);
