// The supply chain: Kyverno's verifyImages policy covers every MissionLink
// image the overlays run and trusts exactly the signers CI uses (fixtures
// that pass and fail: GitHub Actions on main, the Jenkins KMS key; not a fork,
// a pull request or another workflow); and the Jenkins pipeline does the same
// steps as the GitHub workflow on a hardened Kubernetes agent pod.
// (Groovy itself is not parsed here: see deploy/README.md, "Supply chain".)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  haveTool,
  OVERLAYS,
  podSpecOf,
  render,
  REPO_ROOT,
  validateModel,
  type K8sObject,
} from './support.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are arbitrary JSON
type Json = any;

const hasKubectl = haveTool('kubectl', 'rendering the Kyverno policies', 'install kubectl');
const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

/** Kyverno's wildcard match (`*` any run of characters, `?` one). */
const wildcard = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

interface Signature {
  keyless?: { issuer: string; subject: string };
  kms?: string;
}

describe.skipIf(!hasKubectl)('image verification (Kyverno verifyImages)', () => {
  let policy: K8sObject;
  let rule: {
    match: {
      any: {
        resources: { kinds: string[]; namespaceSelector: { matchLabels: Record<string, string> } };
      }[];
    };
    verifyImages: Record<string, Json>[];
  };
  beforeAll(() => {
    policy = render('cluster/kyverno').find(
      (o) => o.metadata.name === 'missionlink-verify-images',
    )!;
    rule = policy.spec.rules[0];
  });
  const verify = () => rule.verifyImages[0]!;
  const covered = (image: string) =>
    verify().imageReferences.some((p: string) => wildcard(p, image));
  /** Whether a signature satisfies the attestors (count of entries must match). */
  const accepted = (sig: Signature) =>
    verify().attestors.every((a: { count?: number; entries: Record<string, Json>[] }) => {
      const ok = a.entries.filter(
        (e) =>
          (e.keyless &&
            sig.keyless &&
            e.keyless.issuer === sig.keyless.issuer &&
            wildcard(e.keyless.subject, sig.keyless.subject)) ||
          (e.keys && sig.kms && e.keys.kms === sig.kms),
      ).length;
      return ok >= (a.count ?? a.entries.length);
    });

  it('is valid, enforced, required, and pins what it verified by digest', async () => {
    expect(await validateModel(policy)).toBeUndefined();
    expect(verify()).toMatchObject({
      failureAction: 'Enforce',
      required: true,
      mutateDigest: true,
      verifyDigest: true,
    });
    expect(rule.match.any[0]!.resources.kinds).toEqual(['Pod']);
  });

  it.each(Object.entries(OVERLAYS))(
    'covers every MissionLink image of the %s overlay, in its namespace',
    (env, ns) => {
      const objs = render(`overlays/${env}`);
      const images = objs
        .filter((o) => o.kind === 'Deployment')
        .flatMap((d) => podSpecOf(d).containers.map((c: { image: string }) => c.image));
      expect(images.length).toBeGreaterThan(0);
      for (const image of images) expect(covered(image), image).toBe(true);
      const nsObj = render(`cluster/${env}`).find(
        (o) => o.kind === 'Namespace' && o.metadata.name === ns,
      )!;
      for (const [k, v] of Object.entries(
        rule.match.any[0]!.resources.namespaceSelector.matchLabels,
      ))
        expect(nsObj.metadata.labels?.[k]).toBe(v);
      expect(covered('docker.io/library/nginx:1.27')).toBe(false);
      expect(covered('ghcr.io/evil/missionlink:sha-1')).toBe(false);
    },
  );

  it('accepts the signatures CI makes and nothing else', () => {
    const wf = parse(read('.github/workflows/ci.yml'));
    expect(wf.jobs.image.if).toContain("github.ref == 'refs/heads/main'");
    const github = (subject: string) => ({
      keyless: { issuer: 'https://token.actions.githubusercontent.com', subject },
    });
    const main =
      'https://github.com/missionlink/missionlink/.github/workflows/ci.yml@refs/heads/main';
    expect(accepted(github(main))).toBe(true);
    expect(accepted({ kms: 'awskms:///alias/missionlink-image-signing' })).toBe(true);
    expect(read('Jenkinsfile')).toContain(
      "SIGNING_KEY = 'awskms:///alias/missionlink-image-signing'",
    );
    for (const bad of [
      'https://github.com/missionlink/missionlink/.github/workflows/ci.yml@refs/pull/7/merge',
      'https://github.com/someone/missionlink/.github/workflows/ci.yml@refs/heads/main',
      'https://github.com/missionlink/missionlink/.github/workflows/other.yml@refs/heads/main',
    ])
      expect(accepted(github(bad)), bad).toBe(false);
    expect(accepted({ keyless: { issuer: 'https://accounts.google.com', subject: main } })).toBe(
      false,
    );
    expect(accepted({ kms: 'awskms:///alias/someone-else' })).toBe(false);
    expect(accepted({})).toBe(false);
  });
});

describe('the Jenkins pipeline', () => {
  const jenkinsfile = read('Jenkinsfile');
  const stages = [...jenkinsfile.matchAll(/stage\('([^']+)'\)/g)].map((m) => m[1]);

  it('runs the same steps as the GitHub workflow, in order, images only from main', () => {
    expect(stages).toEqual([
      'Test',
      'Build and push',
      'Scan',
      'Sign',
      'Deploy dev',
      'Dev healthy',
      'Propose prod',
    ]);
    const body = (name: string) => {
      const start = jenkinsfile.indexOf(`stage('${name}')`);
      const next = stages[stages.indexOf(name) + 1];
      return jenkinsfile.slice(start, next ? jenkinsfile.indexOf(`stage('${next}')`) : undefined);
    };
    expect(body('Test')).toContain('bash .ci/run');
    for (const s of stages.slice(1)) expect(body(s!), s).toContain("when { branch 'main' }");
    expect(body('Build and push')).toContain('buildctl-daemonless.sh build');
    expect(body('Scan')).toMatch(
      /trivy image --severity CRITICAL,HIGH --ignore-unfixed --exit-code 1 "\$\{IMAGE\}@\$\{DIGEST\}"/,
    );
    expect(body('Sign')).toContain('cosign sign --yes --key "${SIGNING_KEY}" "${IMAGE}@${DIGEST}"');
    expect(body('Deploy dev')).toContain(
      'kustomize edit set image "missionlink=${IMAGE}:${TAG}@${DIGEST}"',
    );
    expect(body('Dev healthy')).toContain(
      'argocd app wait missionlink-dev --grpc-web --health --sync',
    );
    expect(body('Propose prod')).toContain('gh pr create');
    // Balanced braces: a cheap guard against a truncated edit.
    expect((jenkinsfile.match(/{/g) ?? []).length).toBe((jenkinsfile.match(/}/g) ?? []).length);
    expect(jenkinsfile).toContain("yamlFile 'deploy/jenkins/agent-pod.yaml'");
  });

  it('builds on a valid agent pod: one container per tool, rootless BuildKit, nothing privileged', async () => {
    const pod = parse(read('deploy/jenkins/agent-pod.yaml')) as K8sObject;
    pod.metadata.name = 'agent';
    expect(await validateModel(pod)).toBeUndefined();
    const containers = pod.spec.containers as {
      name: string;
      image: string;
      securityContext?: Record<string, Json>;
    }[];
    const used = [...jenkinsfile.matchAll(/container\('([^']+)'\)/g)].map((m) => m[1]);
    for (const name of used)
      expect(
        containers.map((c) => c.name),
        name,
      ).toContain(name);
    for (const c of containers) {
      expect(c.securityContext?.privileged, c.name).not.toBe(true);
      expect(c.image, c.name).toMatch(/:[\w.-]+$/);
      expect(c.image, c.name).not.toMatch(/:latest$/);
    }
    const buildkit = containers.find((c) => c.name === 'buildkit')!;
    expect(buildkit.image).toMatch(/-rootless$/);
    expect(buildkit.securityContext).toMatchObject({ runAsUser: 1000, runAsNonRoot: true });
    expect(pod.spec.volumes.some((v: { hostPath?: unknown }) => v.hostPath)).toBe(false);
    expect(JSON.stringify(pod)).not.toContain('docker.sock');
  });
});
