// What a wallet history row says, in plain words: what happened ("후원
// 보류", "환불"), to which mission (the server names it: `missionTitle`),
// the movement of `available` ("+9,000원"), and what else explains it ("스트리머
// 몫 1,000원", "12,000원 전달"). A row never reads "0원": a movement that left
// `available` as it was says what it did instead.
import { pts, signedWon, won } from './format.ts';
import type { Dict } from './i18n.ts';
import type { PointsEntry, WalletEntry } from './types.ts';

export interface EntryWords {
  /** What happened: "환불", "후원 확정". */
  label: string;
  /** The mission it belongs to, when there is one. */
  title: string | null;
  /** The movement of the balance ("+9,000원"), or null when it did not move. */
  amount: string | null;
  /** 'pos' | 'neg' | '' — the colour class of the amount. */
  sign: 'pos' | 'neg' | '';
  /** What explains the row besides the amount ("스트리머 몫 1,000원"). */
  notes: string[];
}

const signOf = (n: number): EntryWords['sign'] => (n > 0 ? 'pos' : n < 0 ? 'neg' : '');

/**
 * The words of one cash movement.
 * @example entryWords({ kind: 'partial_capture', amount: 9000, capturedAmount: 1000, … }, ko)
 *   // { label: '환불', amount: '+9,000원', notes: ['스트리머 몫 1,000원'], … }
 */
export function entryWords(e: WalletEntry, t: Dict): EntryWords {
  const w = t.wallet;
  const label = w.kinds[e.kind] ?? e.kind;
  const title = e.missionTitle ?? null;
  const captured = e.capturedAmount ?? 0;
  const notes: string[] = [];
  if (e.kind === 'partial_capture' && captured > 0) notes.push(w.keptShare(won(captured, t.lang)));
  if (e.amount !== 0)
    return { label, title, amount: signedWon(e.amount, t.lang), sign: signOf(e.amount), notes };
  // Nothing came back to `available`: say where the money went.
  if (e.kind === 'capture')
    notes.push(captured > 0 ? w.capturedAmount(won(captured, t.lang)) : w.captureNote);
  else if (e.kind === 'cash_refund_done' && captured > 0)
    notes.push(w.refundedToMethod(won(captured, t.lang)));
  else if (notes.length === 0) notes.push(w.noChange);
  return { label, title, amount: null, sign: '', notes };
}

/** The words of one points movement ("예측 참여", "−100P", the mission's title). */
export function pointsWords(e: PointsEntry, t: Dict): EntryWords {
  return {
    label: t.wallet.pointKinds[e.kind] ?? e.kind,
    title: e.missionTitle ?? null,
    amount: e.amount > 0 ? `+${pts(e.amount)}` : e.amount < 0 ? `−${pts(-e.amount)}` : pts(0),
    sign: signOf(e.amount),
    notes: [],
  };
}

/**
 * The newest page of a newest-first history merged in front of what is
 * loaded (rows never change). When every row of it is new, rows may be
 * missing between it and what is loaded: start over from it, cursor and all
 * (`restart`).
 */
export function mergeNewest<T extends { id: string }>(loaded: readonly T[], page: readonly T[]): { items: T[]; restart: boolean } {
  const seen = new Set(loaded.map((e) => e.id));
  const fresh = page.filter((e) => !seen.has(e.id));
  if (loaded.length === 0 || fresh.length === page.length) return { items: [...page], restart: true };
  return { items: [...fresh, ...loaded], restart: false };
}

/** An older page appended behind what is loaded, without the rows already there. */
export function appendOlder<T extends { id: string }>(loaded: readonly T[], page: readonly T[]): T[] {
  const seen = new Set(loaded.map((e) => e.id));
  return [...loaded, ...page.filter((e) => !seen.has(e.id))];
}
