// Where the server bundle lives (scripts/build-server.mjs writes it) and
// whether it is newer than every file it was made from.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE = path.join(root, 'dist', 'server', 'cli.mjs');

/** The newest modification time (ms) of the TypeScript files under a folder. */
function newestSource(dir) {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) max = Math.max(max, newestSource(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

/** True when the bundle exists and no server source (nor package.json) changed after it was built. */
export function bundleIsFresh() {
  if (!existsSync(BUNDLE)) return false;
  const built = statSync(BUNDLE).mtimeMs;
  return built > newestSource(path.join(root, 'src')) && built > statSync(path.join(root, 'package.json')).mtimeMs;
}
