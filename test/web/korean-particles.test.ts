// Korean particles after an amount: every won amount ends in 원, a syllable
// with a final consonant, so it takes 을/이/은/과/으로 — never 를/가/는/와/로
// ("1,000원를" is a mistake a Korean reader sees at once). Walks every
// sentence function of the Korean dictionary, each argument made up from its
// parameter's name: an amount unless the name says a share, a count, a label
// or a title.
import { describe, expect, it } from 'vitest';
import { DICTS } from '../../web/src/i18n.ts';

/** [path, function] for every function in the dictionary, however deep. */
function sentences(node: unknown, path: string[] = []): [string, (...args: unknown[]) => unknown][] {
  if (typeof node === 'function') return [[path.join('.'), node as (...args: unknown[]) => unknown]];
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => sentences(v, [...path, k]));
}

const WRONG = /원(를|가|는|와|로)(?![가-힣])/;

/** The parameter names of a dictionary function (arrow functions with plain parameters). */
function params(fn: (...args: unknown[]) => unknown): string[] {
  const m = /^\(?([^)=]*)\)?\s*=>/.exec(fn.toString());
  return m ? m[1]!.split(',').map((p) => p.trim().split(/[\s:=]/)[0]!).filter(Boolean) : [];
}

/** A made-up argument for a parameter called `name`. */
function argFor(name: string, amount: string): unknown {
  if (/keep|share|percent|bps/i.test(name)) return '10%';
  if (/^(n|units|max|count|days|hours|minutes|seconds|total)$/i.test(name)) return 3;
  if (/label/i.test(name)) return '킬';
  if (/title|name|handle|url|reason|status|when|time|date|code|bank|lang|what/i.test(name)) return '노래';
  return amount;
}

describe('Korean particles after amounts', () => {
  const all = sentences(DICTS.ko);

  it('finds the sentences to check', () => {
    expect(all.length).toBeGreaterThan(100);
  });

  it('puts 을/이/은/과/으로 after every amount', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, fn] of all) {
      for (const amount of ['1,000원', '500원']) {
        let text: unknown;
        try {
          text = fn(...params(fn).map((p) => argFor(p, amount)));
        } catch {
          continue; // takes something other than text (an object, a number it formats)
        }
        if (typeof text !== 'string') continue;
        checked++;
        if (WRONG.test(text)) wrong.push(`${path}: ${text}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });
});
