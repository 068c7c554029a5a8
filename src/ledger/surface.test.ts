// src/ledger/index.ts is the only way into the ledger: no file outside the
// module imports its other files (accounts, transfers, verify), so the SQL
// functions of src/ledger/sql/ are reached through one surface.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LEDGER = path.join(ROOT, 'src/ledger');

async function* sources(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && !e.name.startsWith('.') && p !== LEDGER) yield* sources(p);
    } else if (/\.(ts|tsx|mts|js|mjs)$/.test(e.name)) {
      yield p;
    }
  }
}

describe('the ledger’s surface', () => {
  it('is imported only through src/ledger/index.ts', async () => {
    const offenders: string[] = [];
    for (const top of ['src', 'test', 'bench', 'scripts', 'bin']) {
      for await (const file of sources(path.join(ROOT, top))) {
        const text = await readFile(file, 'utf8');
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
          const target = path.resolve(path.dirname(file), m[1]!);
          if (m[1]!.startsWith('.') && path.dirname(target) === LEDGER && path.basename(target) !== 'index.ts') {
            offenders.push(`${path.relative(ROOT, file)} imports ${m[1]}`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
