import { z } from 'zod';
import { problemResponses } from './http.ts';

/** A KRW or points amount: a positive safe integer within [min, max]. */
export const amount = (min: number, max: number) =>
  z
    .number()
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

// Query strings tolerate unknown parameters (cache-busters, tracking); bodies do not.
export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be an id');

// User-visible text (contract 1.1). Names, titles and messages are shown on
// other people's screens (channel pages, OBS overlays), so what is stored must
// look like what it is: PostgreSQL keeps it unchanged (no NUL, no lone
// surrogate that would silently become U+FFFD), and nothing in it may reorder
// or hide characters to pass one name off as another.
/** A UTF-16 surrogate without its other half (String.prototype.isWellFormed, before TypeScript's lib knows it). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /\p{Cc}/u;
const CONTROL_BUT_LINE_BREAKS = /(?![\n\r])\p{Cc}/u;
const LINE_BREAK = /[\n\r\u0085\u2028\u2029]/u;
/** Bidi embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069). */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;
/**
 * Characters that draw nothing: zero-width spaces and joiners, direction
 * marks (LRM, RLM, ALM), word joiner, BOM, soft hyphen, Hangul fillers,
 * variation selectors, tags… (Unicode's Default_Ignorable_Code_Point).
 */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
/**
 * The invisible characters a single line may still hold, because they are
 * part of what is seen rather than a way to hide something:
 * - a zero-width joiner inside an emoji sequence (👨‍👩‍👧, 🧑🏽‍💻, ❤️‍🔥): between
 *   two emoji only, so it cannot split "Mina" into a look-alike "Mi‍na";
 * - a variation selector right after a visible character (❤️, 1️⃣);
 * - the tags of a subdivision flag (🏴 + tag letters + cancel tag);
 * - a zero-width non-joiner between Arabic-script letters, where Persian and
 *   Urdu spelling needs it (می‌خواهم).
 * Other uses of joiners (e.g. in Indic scripts) are refused in single-line
 * text; multi-line text allows them.
 */
const VISIBLE_IN_CONTEXT =
  /(?<=\p{Extended_Pictographic}[\p{Emoji_Modifier}\uFE0F]?)\u200D(?=\p{Extended_Pictographic})|(?<=[^\p{Default_Ignorable_Code_Point}\s])[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]|\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}|(?<=\p{Script=Arabic}\p{M}*)\u200C(?=\p{Script=Arabic})/gu;

/** Lengths count characters (code points), as people and PostgreSQL do — not UTF-16 units. */
const lengthOf = (s: string) => [...s].length;

function textProblem(s: string, { min, max, multiline }: { min: number; max: number; multiline: boolean }): string | undefined {
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode text';
  const length = lengthOf(s);
  if (length < min) return min === 1 ? 'must not be empty' : `must be at least ${min} characters`;
  if (length > max) return `must be at most ${max} characters`;
  if (!multiline && LINE_BREAK.test(s)) return 'must be a single line';
  if ((multiline ? CONTROL_BUT_LINE_BREAKS : CONTROL).test(s)) return 'must not contain control characters';
  if (BIDI_CONTROL.test(s)) return 'must not contain bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069)';
  if (!multiline && INVISIBLE.test(s.replace(VISIBLE_IN_CONTEXT, ''))) {
    return 'must not contain invisible characters (zero-width spaces or joiners, direction marks, fillers)';
  }
  return undefined;
}

/**
 * The one schema of user-visible text — display names, titles, descriptions,
 * messages, notes, reasons: well-formed Unicode without control characters
 * or bidi overrides/isolates, `min`–`max` characters (code points).
 * Single-line text (the default: names, titles) is trimmed first, as it always
 * was, and refuses line breaks and invisible characters except where they
 * shape emoji or Arabic-script spelling (see VISIBLE_IN_CONTEXT).
 * Multi-line text (descriptions, messages) is kept as sent and may hold
 * line breaks (LF, CR, U+2028/U+2029) and joiners; tabs are control characters.
 * @example body: z.strictObject({ displayName: userText({ min: 1, max: 50 }), description: userText({ max: 2000, multiline: true }).optional() })
 */
export function userText({ min = 0, max, multiline = false }: { min?: number; max: number; multiline?: boolean }) {
  const base = multiline ? z.string() : z.string().trim();
  return base
    .superRefine((s, ctx) => {
      const problem = textProblem(s, { min, max, multiline });
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      ...(min > 0 ? { minLength: min } : {}),
      maxLength: max,
      description: multiline
        ? 'Text: well-formed Unicode, no control characters except line breaks, no bidi overrides or isolates'
        : 'One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed',
    });
}

/** Body of POSTs that take none: empty, or `{}`. */
export const NoBody = z.strictObject({}).optional();

/** Error responses of a route, documented as application/problem+json. */
export const problems = problemResponses;
