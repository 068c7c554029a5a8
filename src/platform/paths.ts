// Where the repository's own files are, for code that reads them at run time
// (migrations, SQL routines, the built web app, package.json, the database
// watchdog). Computed from this module's place, two folders below the root:
// src/platform/paths.ts when run from source, dist/server/cli.mjs when run
// from the bundle (scripts/build-server.mjs) — the same depth on purpose.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A path inside the repository. */
export const repoPath = (...parts: string[]): string => path.join(REPO_ROOT, ...parts);
