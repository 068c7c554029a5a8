#!/usr/bin/env node
// Bundles the server's TypeScript (src/cli.ts and everything it imports, not
// node_modules) into one ES module, dist/server/cli.mjs, with esbuild (the
// compiler tsx runs on). bin/missionlink.js runs the bundle when it is newer
// than every source file, and the sources through tsx otherwise: loading one
// file instead of ~200 transpiled ones takes about half the CPU of a start.
//
//   node scripts/build-server.mjs              build now
//   node scripts/build-server.mjs --if-needed  build only when a source is newer (npm prestart)
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE, bundleIsFresh } from '../bin/bundle.js';

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.argv.includes('--if-needed') && bundleIsFresh()) process.exit(0);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // Without esbuild the sources run through tsx: slower to start, same behaviour.
  console.warn('missionlink: esbuild is not installed; the server runs from its TypeScript sources');
  process.exit(0);
}

// Several `npm start`s may build at once (tests do): each writes its own file
// and renames it into place, so nobody loads a half-written bundle.
const started = Date.now();
const tmp = `${BUNDLE}.${process.pid}-${started}.tmp.mjs`;
mkdirSync(path.dirname(BUNDLE), { recursive: true });
try {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/cli.ts'],
    outfile: tmp,
    bundle: true,
    // Dependencies stay imports, resolved from node_modules as before.
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Readable as it is (not minified; esbuild names each module's source
    // in a comment), so stack traces point at recognisable code.
    sourcemap: false,
    logLevel: 'warning',
  });
  renameSync(tmp, BUNDLE);
} catch (err) {
  console.error(`missionlink: bundling the server failed: ${err?.message ?? err}; it runs from its TypeScript sources`);
  // Not fatal: bin/missionlink.js falls back to the sources.
} finally {
  if (existsSync(tmp)) rmSync(tmp, { force: true });
}
if (process.argv.includes('--verbose')) console.log(`missionlink: server bundled into ${path.relative(root, BUNDLE)} in ${Date.now() - started} ms`);
