import { createHash } from 'node:crypto';
import { AppError } from './errors.ts';

/**
 * A UUID derived from its parts (sha256, RFC 9562 version-8 layout). Used for
 * ledger transfers whose id must be the same however often a step is retried.
 * @example deterministicId('signup-points', userId)
 */
export function deterministicId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Opaque cursor of keyset pagination: (created_at, id) of the last item, with
 * created_at as PostgreSQL's full-precision text (select `created_at::text`).
 */
export function encodeCursor(createdAtText: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAtText, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } | null {
  try {
    const [at, id, ...rest] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    // Only what encodeCursor writes: anything else would reach PostgreSQL as an
    // invalid timestamp or uuid (a 500) instead of being a 400.
    if (rest.length || typeof at !== 'string' || typeof id !== 'string' || !isCursorTimestamp(at) || !CURSOR_ID.test(id)) return null;
    return { createdAt: at, id };
  } catch {
    return null;
  }
}

/**
 * The cursor of a page request, decoded; null for the first page. A cursor
 * that encodeCursor did not write is a 400 on `cursor`.
 */
export function parseCursor(cursor: string | undefined): { createdAt: string; id: string } | null {
  if (!cursor) return null;
  const c = decodeCursor(cursor);
  if (!c) throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
  return c;
}

/**
 * One page of rows fetched with `LIMIT limit + 1` in (created_at, id)
 * order: the first `limit`, mapped, and the cursor after the last when more
 * exist. Each row carries its id and `created_at::text AS at_text`.
 */
export function pageOf<R extends { id: string; at_text: string }, T>(rows: R[], limit: number, map: (r: R) => T): { items: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(map), nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null };
}

const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// PostgreSQL's timestamptz text output (ISO DateStyle), e.g. `2025-01-31 23:59:59.123456+00`.
const CURSOR_AT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2})(?::\d{2}){0,2})$/;

function isCursorTimestamp(at: string): boolean {
  const m = CURSOR_AT.exec(at);
  if (!m) return false;
  const [y, mo, d, h, mi, s, tz] = m.slice(1).map(Number) as number[];
  const leap = (y! % 4 === 0 && y! % 100 !== 0) || y! % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo! - 1];
  return y! >= 1 && days !== undefined && d! >= 1 && d! <= days && h! <= 23 && mi! <= 59 && s! <= 59 && (Number.isNaN(tz) || tz! <= 15);
}
