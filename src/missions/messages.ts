// Backers' messages: stored with the channel's blocked words masked
// (API.md Part 2, "Messages, moderation").
import type { Queryable } from '../platform/db.ts';

/**
 * `message` with every occurrence of each blocked word, compared without
 * regard to case, replaced by as many `*` as the word has characters
 * (overlapping occurrences too). Words are matched as text, never as
 * patterns, character by character (code points).
 * @example maskBlockedWords('Bad WORDS here', ['word']) // 'Bad ****S here'
 */
export function maskBlockedWords(message: string, words: readonly string[]): string {
  const chars = [...message];
  const lower = chars.map((ch) => ch.toLowerCase());
  const masked = new Array<boolean>(chars.length).fill(false);
  for (const word of words) {
    const w = [...word].map((ch) => ch.toLowerCase());
    if (w.length === 0) continue;
    for (let i = 0; i + w.length <= lower.length; i++) {
      let k = 0;
      while (k < w.length && lower[i + k] === w[k]) k++;
      if (k === w.length) {
        for (let j = i; j < i + w.length; j++) masked[j] = true;
      }
    }
  }
  return chars.map((ch, i) => (masked[i] ? '*' : ch)).join('');
}

/**
 * The messages of a batch of pledges as they will be stored: masked with
 * the blocked words of each mission's channel (read only when some pledge
 * carries a message), null where there is none.
 */
export async function maskedMessages(q: Queryable, items: readonly { missionId: string; message?: string }[]): Promise<(string | null)[]> {
  if (!items.some((r) => r.message)) return items.map(() => null);
  const ids = [...new Set(items.filter((r) => r.message).map((r) => r.missionId))];
  const { rows } = await q.query<{ id: string; blocked_words: string[] }>(
    'SELECT m.id, c.blocked_words FROM missions m JOIN channels c ON c.handle = m.channel WHERE m.id = ANY ($1::uuid[])',
    [ids],
  );
  const words = new Map(rows.map((r) => [r.id, r.blocked_words]));
  return items.map((r) => (r.message ? maskBlockedWords(r.message, words.get(r.missionId) ?? []) : null));
}
