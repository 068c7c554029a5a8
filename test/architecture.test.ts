// The module boundaries of ARCHITECTURE.md, checked on the import statements
// of src/ (tests excluded: they may reach into any module and test/support):
// - a module uses another module only through its index.ts (platform/, the
//   shared layer, may be used file by file);
// - platform/ imports no domain module (nor the composition root above it);
// - the composition root (src/*.ts: app, cli, main) uses modules through
//   their index.ts too;
// - no import cycles between modules.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const PLATFORM = 'platform';
/** The composition root: the files directly in src/. */
const ROOT = '(root)';

interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|mjs|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [p] : [];
  });
}

/** Relative imports of a file: static (also type-only and re-exports), side-effect and dynamic. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gms),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => ({ from: file, to: path.resolve(path.dirname(file), s) }));
}

/** The module of a path under src/ (its first folder), ROOT for src/*.ts, null outside src/. */
function moduleOf(file: string): string | null {
  const rel = path.relative(SRC, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  return parts.length === 1 ? ROOT : parts[0]!;
}

const rel = (p: string) => path.relative(path.dirname(SRC), p);
const imports = sourceFiles(SRC).flatMap(importsOf);

/** What breaks the boundaries, one line each (empty when none does). */
function boundaryViolations(): string[] {
  const out: string[] = [];
  for (const { from, to } of imports) {
    const a = moduleOf(from)!;
    const b = moduleOf(to);
    if (a === PLATFORM && b !== PLATFORM) out.push(`${rel(from)} → ${rel(to)}: platform/ imports nothing above it`);
    else if (b !== null && b !== a && b !== PLATFORM && b !== ROOT && path.basename(to) !== 'index.ts') {
      out.push(`${rel(from)} → ${rel(to)}: another module's internals (use src/${b}/index.ts)`);
    } else if (b === ROOT && a !== ROOT) out.push(`${rel(from)} → ${rel(to)}: a module imports the composition root`);
  }
  return out;
}

/** Cycles in the graph of modules (an edge A → B: some file of A imports B), each as A → … → A. */
function moduleCycles(): string[] {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of imports) {
    const a = moduleOf(from)!;
    const b = moduleOf(to);
    if (b === null || a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)!.add(b);
  }
  const cycles = new Set<string>();
  const visit = (node: string, trail: string[]) => {
    const at = trail.indexOf(node);
    if (at >= 0) {
      // Named from its smallest module, so one cycle is reported once.
      const loop = trail.slice(at);
      const start = loop.indexOf([...loop].sort()[0]!);
      const named = [...loop.slice(start), ...loop.slice(0, start)];
      cycles.add([...named, named[0]].join(' → '));
      return;
    }
    for (const next of edges.get(node) ?? []) visit(next, [...trail, node]);
  };
  for (const node of edges.keys()) visit(node, []);
  return [...cycles].sort();
}

describe('module boundaries', () => {
  it('finds the imports it checks', () => {
    // A scan that found nothing would pass everything.
    expect(imports.length).toBeGreaterThan(100);
    expect(imports.some((i) => rel(i.to) === path.join('src', 'missions', 'index.ts'))).toBe(true);
  });

  it('modules use each other only through their index.ts, and platform/ imports no domain module', () => {
    expect(boundaryViolations()).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    expect(moduleCycles()).toEqual([]);
  });
});
