#!/usr/bin/env node
// Builds the browser app (web/ → web/dist/) with Vite's JavaScript API.
//
//   node scripts/build-web.mjs              build now
//   node scripts/build-web.mjs --if-needed  build only when web/dist is older
//                                           than a source file (npm prestart)
//
// With --if-needed and no Vite installed (dependencies installed without the
// dev ones), an existing build is kept and a missing one is reported: the
// server then answers the app's pages with a 503 that says what to run.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = path.join(root, 'web');
const dist = path.join(web, 'dist');
const ifNeeded = process.argv.includes('--if-needed');

/** The newest modification time (ms) of a file or of every file under a folder. */
function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(p)) max = Math.max(max, newest(path.join(p, entry)));
  return max;
}

function upToDate() {
  const built = path.join(dist, 'index.html');
  if (!existsSync(built)) return false;
  const sources = Math.max(
    newest(path.join(web, 'src')),
    newest(path.join(web, 'index.html')),
    newest(path.join(web, 'public')),
    newest(path.join(web, 'vite.config.ts')),
  );
  return statSync(built).mtimeMs > sources;
}

if (ifNeeded && upToDate()) {
  process.exit(0);
}

let vite;
try {
  vite = await import('vite');
} catch {
  const msg =
    'missionlink: the web app cannot be built: Vite is not installed (run `npm ci` with dev dependencies, then `npm run build:web`)';
  if (ifNeeded) {
    console.warn(
      existsSync(path.join(dist, 'index.html')) ? `${msg}; serving the existing web/dist` : msg,
    );
    process.exit(0);
  }
  console.error(msg);
  process.exit(1);
}

// Several `npm start`s may build at once (tests do): each builds into its own
// folder and swaps it in, so a server never reads a half-written web/dist.
const started = Date.now();
const out = path.join(web, `.dist-${process.pid}-${started}`);
try {
  await vite.build({
    configFile: path.join(web, 'vite.config.ts'),
    root: web,
    logLevel: process.env.npm_lifecycle_event === 'prestart' ? 'warn' : 'info',
    build: { outDir: out, emptyOutDir: true },
  });
  const old = path.join(web, `.dist-old-${process.pid}-${started}`);
  try {
    renameSync(dist, old);
  } catch (err) {
    if (err?.code !== 'ENOENT') throw err;
  }
  try {
    renameSync(out, dist);
  } catch (err) {
    // Another build swapped its (identical) output in first.
    if (!existsSync(path.join(dist, 'index.html'))) throw err;
  }
  rmSync(old, { recursive: true, force: true });
} catch (err) {
  console.error(`missionlink: building the web app failed: ${err?.message ?? err}`);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (!process.exitCode)
  console.log(`missionlink: web app built into web/dist in ${Date.now() - started} ms`);
