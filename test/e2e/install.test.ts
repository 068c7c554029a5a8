// The README's install promise: `npm ci` installs everything the tests need
// (deploy/iac is a workspace of the root), on every Node version `engines`
// names — which is only true if every installed package supports all of them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- package.json is arbitrary JSON

/** Every package.json under a node_modules folder, nested ones included. */
function* installedPackages(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const folder = path.join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      yield* installedPackages(folder);
      continue;
    }
    const manifest = path.join(folder, 'package.json');
    if (existsSync(manifest)) yield manifest;
    const nested = path.join(folder, 'node_modules');
    if (existsSync(nested)) yield* installedPackages(nested);
  }
}

describe('installation', () => {
  const root = readJson(path.join(ROOT, 'package.json'));
  const supported: string = root.engines.node;

  it('runs on the Node.js in use, and every installed package supports every Node.js version engines names', () => {
    expect(semver.satisfies(process.version, supported), `${process.version} is outside engines ${supported}`).toBe(true);
    const narrower: string[] = [];
    for (const manifest of installedPackages(path.join(ROOT, 'node_modules'))) {
      const pkg = readJson(manifest);
      const range = pkg.engines?.node;
      if (typeof range === 'string' && !semver.subset(supported, range, { includePrerelease: false })) {
        narrower.push(`${pkg.name}@${pkg.version} needs node ${range}`);
      }
    }
    expect(narrower).toEqual([]);
  });

  it('installs the infrastructure-as-code package with the root (an npm workspace), on the same Node.js range', () => {
    expect(root.workspaces).toContain('deploy/iac');
    const iac = readJson(path.join(ROOT, 'deploy/iac/package.json'));
    expect(iac.engines.node).toBe(supported);
    const fromIac = createRequire(path.join(ROOT, 'deploy/iac/index.ts'));
    expect(() => fromIac.resolve('@pulumi/pulumi')).not.toThrow();
    // One lockfile for both: a second one would be a second install step.
    expect(existsSync(path.join(ROOT, 'deploy/iac/package-lock.json'))).toBe(false);
  });
});
