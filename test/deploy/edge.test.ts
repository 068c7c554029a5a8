// The edge (deploy/cluster/edge, deploy/base/gateway/ops.yaml): the pinned
// CRD schemas catch what they should; the EnvoyProxy gives an internet-facing
// NLB with IP targets that keeps client addresses; cert-manager answers
// challenges through the Gateway; and the ops SecurityPolicy, evaluated with
// real tokens signed by the app's own KeyRing and checked with jose against
// the published JWKS, admits only an admin's token.
import { exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_AUDIENCE, ISSUER, KeyRing } from '../../src/identity/keys.ts';
import { validatePinned } from './crd-schema.ts';
import { CLUSTERS, haveTool, OVERLAYS, render, validateModel, type K8sObject } from './support.ts';

const hasKubectl = haveTool('kubectl', 'rendering the edge', 'install kubectl');

interface Provider {
  name: string;
  issuer?: string;
  audiences?: string[];
  remoteJWKS: { uri: string; backendRefs?: unknown[] };
}
interface Claim {
  name: string;
  valueType?: 'String' | 'StringArray';
  values: string[];
}

/**
 * What Envoy Gateway answers for a request under `policy` (jwt + authorization):
 * 401 without a token or with one its providers reject, then the first
 * authorization rule whose principal matches decides, else the default action.
 */
async function decide(
  policy: K8sObject,
  jwks: { keys: unknown[] },
  token: string | undefined,
): Promise<200 | 401 | 403> {
  if (!token) return 401;
  const providers = policy.spec.jwt.providers as Provider[];
  let verified: { provider: string; payload: JWTPayload } | undefined;
  for (const p of providers) {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
        issuer: p.issuer,
        audience: p.audiences,
      });
      verified = { provider: p.name, payload };
      break;
    } catch {
      /* the next provider */
    }
  }
  if (!verified) return 401;
  const authz = policy.spec.authorization as {
    defaultAction?: 'Allow' | 'Deny';
    rules: {
      action: 'Allow' | 'Deny';
      principal: { jwt?: { provider: string; claims?: Claim[] } };
    }[];
  };
  for (const rule of authz.rules) {
    const jwt = rule.principal.jwt;
    if (!jwt || jwt.provider !== verified.provider) continue;
    const ok = (jwt.claims ?? []).every((c) => {
      const v = verified.payload[c.name];
      return (c.valueType ?? 'String') === 'StringArray'
        ? Array.isArray(v) && c.values.some((x) => v.includes(x))
        : typeof v === 'string' && c.values.includes(v);
    });
    if (ok) return rule.action === 'Allow' ? 200 : 403;
  }
  return (authz.defaultAction ?? 'Deny') === 'Allow' ? 200 : 403;
}

describe('pinned CRD schemas (Envoy Gateway, cert-manager, KEDA)', () => {
  const policy = (): K8sObject => ({
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'SecurityPolicy',
    metadata: { name: 'p', namespace: 'x' },
    spec: {
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'ops' }],
      jwt: { providers: [{ name: 'a', remoteJWKS: { uri: 'http://api/.well-known/jwks.json' } }] },
    },
  });

  it('accepts a valid object and evaluates its CEL rules', () => {
    const result = validatePinned(policy())!;
    expect(result.errors).toEqual([]);
    expect(result.evaluated).toBeGreaterThan(3);
  });

  it('rejects unknown fields, wrong enums, missing required fields and broken CEL rules', () => {
    const unknown = policy();
    unknown.spec.jwt.providers[0].remoteJWKs = unknown.spec.jwt.providers[0].remoteJWKS;
    expect(validatePinned(unknown)!.errors.join()).toMatch(/remoteJWKs: unknown field/);
    const badEnum = policy();
    badEnum.spec.authorization = { defaultAction: 'Maybe', rules: [] };
    expect(validatePinned(badEnum)!.errors.join()).toMatch(/defaultAction.*not in/);
    const missing = policy();
    delete missing.spec.jwt.providers[0].name;
    expect(validatePinned(missing)!.errors.join()).toMatch(/missing required name/);
    const both = policy();
    both.spec.jwt.providers[0].localJWKS = { type: 'Inline', inline: '{}' };
    expect(validatePinned(both)!.errors.join()).toMatch(/cannot both be specified/);
    const wrongKind = policy();
    wrongKind.spec.targetRefs[0].kind = 'Service';
    expect(validatePinned(wrongKind)!.errors.join()).toMatch(/targetRefs\[\*\]\.kind/);
  });

  it('validates through validateModel for the pinned groups', async () => {
    expect(await validateModel(policy())).toBeUndefined();
    const issuer: K8sObject = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: 'x' },
      spec: {
        acme: { server: 'https://example', privateKeySecretRef: { name: 'k' }, solverz: [] },
      },
    };
    expect(await validateModel(issuer)).toMatch(/solverz: unknown field/);
  });
});

describe.skipIf(!hasKubectl).each(Object.entries(OVERLAYS))(
  'the edge of the %s cluster',
  (env, ns) => {
    let cluster: K8sObject[];
    let app: K8sObject[];
    const find = (objs: K8sObject[], kind: string, name?: string) =>
      objs.find((o) => o.kind === kind && (!name || o.metadata.name === name))!;
    beforeAll(() => {
      cluster = render(CLUSTERS[env as keyof typeof CLUSTERS]);
      app = render(`overlays/${env}`);
    });

    it('has the GatewayClass, its EnvoyProxy and the ClusterIssuer in Git, each valid against its pinned schema', async () => {
      for (const [kind, name] of [
        ['GatewayClass', 'eg'],
        ['EnvoyProxy', 'missionlink-edge'],
        ['ClusterIssuer', 'letsencrypt'],
        ['Gateway', 'missionlink'],
      ] as const) {
        const o = find(cluster, kind, name);
        expect(o, kind).toBeDefined();
        expect(await validateModel(o), kind).toBeUndefined();
      }
      const cls = find(cluster, 'GatewayClass', 'eg');
      const proxy = find(cluster, 'EnvoyProxy');
      expect(cls.spec.parametersRef).toEqual({
        group: 'gateway.envoyproxy.io',
        kind: 'EnvoyProxy',
        name: proxy.metadata.name,
        namespace: proxy.metadata.namespace,
      });
      expect(find(cluster, 'Gateway').spec.gatewayClassName).toBe('eg');
    });

    it('asks the AWS Load Balancer Controller for an internet-facing NLB with IP targets that keeps client addresses', () => {
      const svc = find(cluster, 'EnvoyProxy').spec.provider.kubernetes.envoyService;
      expect(svc.type).toBe('LoadBalancer');
      expect(svc.loadBalancerClass).toBe('service.k8s.aws/nlb');
      expect(svc.annotations).toMatchObject({
        'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
        'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
      });
      expect(
        svc.annotations['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes'],
      ).toMatch(/(^|,)preserve_client_ip\.enabled=true(,|$)/);
      const deployment = find(cluster, 'EnvoyProxy').spec.provider.kubernetes.envoyDeployment;
      expect(deployment.replicas).toBeGreaterThanOrEqual(2);
    });

    it('issues the Gateway’s certificate from the ClusterIssuer, answering HTTP-01 on the Gateway’s plain-HTTP listener', () => {
      const gateway = find(cluster, 'Gateway');
      expect(gateway.metadata.annotations?.['cert-manager.io/cluster-issuer']).toBe('letsencrypt');
      const [solver] = find(cluster, 'ClusterIssuer').spec.acme.solvers;
      expect(solver.http01.gatewayHTTPRoute.parentRefs).toEqual([
        expect.objectContaining({
          kind: 'Gateway',
          name: gateway.metadata.name,
          namespace: 'edge',
          sectionName: 'http',
        }),
      ]);
      const http = gateway.spec.listeners.find((l: { name: string }) => l.name === 'http');
      expect(http.allowedRoutes.namespaces.from).toBe('Same');
    });

    it('admits the app namespace’s routes on HTTPS by label; the hostnames match the overlay’s routes', () => {
      const gateway = find(cluster, 'Gateway');
      const nsObj = find(cluster, 'Namespace', ns);
      const hosts = new Set<string>();
      for (const l of gateway.spec.listeners.filter(
        (x: { protocol: string }) => x.protocol === 'HTTPS',
      )) {
        expect(l.allowedRoutes.namespaces.from, l.name).toBe('Selector');
        for (const [k, v] of Object.entries(l.allowedRoutes.namespaces.selector.matchLabels))
          expect(nsObj.metadata.labels?.[k], `${l.name}: ${k}`).toBe(v);
        hosts.add(l.hostname);
      }
      const routeHosts = new Set(
        app.filter((o) => o.kind === 'HTTPRoute').flatMap((r) => r.spec.hostnames as string[]),
      );
      expect([...routeHosts].sort()).toEqual([...hosts].sort());
      for (const r of app.filter((o) => o.kind === 'HTTPRoute'))
        for (const p of r.spec.parentRefs) expect(p.namespace, r.metadata.name).toBe('edge');
    });

    it('checks tokens for the ops API against this namespace’s api JWKS, with the app’s issuer and audience', () => {
      const policy = find(app, 'SecurityPolicy', 'ops-admin');
      expect(policy.spec.targetRefs).toEqual([
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'ops' },
      ]);
      const [provider] = policy.spec.jwt.providers as Provider[];
      expect(provider!.issuer).toBe(ISSUER);
      expect(provider!.audiences).toEqual([API_AUDIENCE]);
      const uri = new URL(provider!.remoteJWKS.uri);
      expect(uri.hostname).toBe(`api.${ns}.svc.cluster.local`);
      expect(uri.pathname).toBe('/.well-known/jwks.json');
      expect(provider!.remoteJWKS.backendRefs).toEqual([
        { group: '', kind: 'Service', name: 'api', port: 80 },
      ]);
      const svc = find(app, 'Service', 'api');
      expect(
        svc.spec.ports.find((p: { port: number }) => p.port === Number(uri.port || 80))?.name,
      ).toBe('http');
    });

    it('lets only an admin’s valid token through to the ops API (app-signed tokens, real signatures)', async () => {
      const policy = find(app, 'SecurityPolicy', 'ops-admin');
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const ring = await KeyRing.fromJwks([
        { ...(await exportJWK(privateKey)), kid: 'k1' } as never,
      ]);
      const token = (roles: string[] | undefined, audience = API_AUDIENCE) =>
        ring.sign('user-1', audience, 900, roles ? { roles } : {});
      expect(await decide(policy, ring.jwks, await token(['viewer', 'admin']))).toBe(200);
      expect(await decide(policy, ring.jwks, await token(['viewer', 'streamer']))).toBe(403);
      // Tokens without the claim (what the app issues until it adds `roles`) are refused.
      expect(await decide(policy, ring.jwks, await token(undefined))).toBe(403);
      expect(await decide(policy, ring.jwks, undefined)).toBe(401);
      // The internal audience, or another key, is no way in.
      expect(await decide(policy, ring.jwks, await token(['admin'], 'missionlink-internal'))).toBe(
        401,
      );
      const other = await KeyRing.fromJwks([
        {
          ...(await exportJWK(
            (await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })).privateKey,
          )),
          kid: 'k2',
        } as never,
      ]);
      expect(
        await decide(
          policy,
          ring.jwks,
          await other.sign('user-1', API_AUDIENCE, 900, { roles: ['admin'] }),
        ),
      ).toBe(401);
    });
  },
);
