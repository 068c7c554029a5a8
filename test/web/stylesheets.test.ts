// The web app's stylesheets parse as written: every block that opens closes.
// A lost "}" (as three merges once dropped in styles.css) silently nests every
// rule after it — and every stylesheet bundled after it — into the block above
// (a phone-only media query, say), so whole pages lose their styles.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const WEB = fileURLToPath(new URL('../../web/src/', import.meta.url));
const sheets = readdirSync(WEB, { recursive: true, encoding: 'utf8' }).filter((f) =>
  f.endsWith('.css'),
);

/** Line numbers where a top-level rule starts while a block is still open, and the depth at the end. */
function unclosed(css: string): { depth: number; nestedAt: number[] } {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  let depth = 0;
  let line = 1;
  const opened: { line: number; atRule: boolean }[] = [];
  const nestedAt: number[] = [];
  let selectorStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    if (ch === '{') {
      const selector = text.slice(selectorStart, i).trim();
      const atRule = selector.startsWith('@');
      // A style rule inside another style rule: not how these sheets are written.
      if (opened.length > 0 && !opened.at(-1)!.atRule && !/^(from|to|\d+%)/.test(selector))
        nestedAt.push(line);
      opened.push({ line, atRule: atRule || /keyframes/.test(selector) });
      depth++;
      selectorStart = i + 1;
    } else if (ch === '}') {
      opened.pop();
      depth--;
      selectorStart = i + 1;
    } else if (ch === ';') {
      selectorStart = i + 1;
    }
  }
  return { depth, nestedAt };
}

describe('web stylesheets', () => {
  it('finds the stylesheets', () => expect(sheets).toContain('styles.css'));
  for (const file of sheets) {
    it(`${file} closes every block and nests no rule in another`, () => {
      const { depth, nestedAt } = unclosed(readFileSync(path.join(WEB, file), 'utf8'));
      expect(
        nestedAt,
        `${file}: a rule opens inside another rule at lines ${nestedAt.join(', ')} (a missing "}" above?)`,
      ).toEqual([]);
      expect(depth, `${file}: ${depth} block(s) never closed`).toBe(0);
    });
  }
});
