import type { Dict, Lang } from './i18n.ts';

/** Groups digits by thousands: 26650 → "26,650" (exact, no rounding). */
export function groupDigits(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** KRW, exactly: 26650 → "26,650원". */
export function won(n: number): string {
  return `${groupDigits(n)}원`;
}

/** A signed KRW movement: +10,000원 / −3,000원. */
export function signedWon(n: number): string {
  return n > 0 ? `+${won(n)}` : n < 0 ? `−${won(-n)}` : won(0);
}

/** Channel points: 1000 → "1,000P". */
export function pts(n: number): string {
  return `${groupDigits(n)}P`;
}

/** Basis points as a percentage: 1250 → "12.5%". */
export function percentOfBps(bps: number): string {
  return `${Number((bps / 100).toFixed(2))}%`;
}

const two = (n: number) => String(n).padStart(2, '0');

/**
 * A countdown: "4:05", "1:02:03", or with days "2일 03:04:05" / "2d 03:04:05".
 * Never negative.
 */
export function countdown(ms: number, t: Dict): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) return `${d}${t.duration.d} ${two(h)}:${two(m)}:${two(s)}`;
  if (h > 0) return `${h}:${two(m)}:${two(s)}`;
  return `${m}:${two(s)}`;
}

/** A duration in words: 3600 → "1시간" / "1h". */
export function durationWords(seconds: number, t: Dict): string {
  const parts: string[] = [];
  let rest = seconds;
  const units: [number, string][] = [
    [86400, t.duration.d],
    [3600, t.duration.h],
    [60, t.duration.m],
    [1, t.duration.s],
  ];
  for (const [size, label] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${label}`);
    rest -= n * size;
  }
  return parts.length ? parts.join(' ') : `0${t.duration.s}`;
}

export function dateTime(iso: string, lang: Lang): string {
  const d = new Date(iso);
  return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(d);
}

export function fullDateTime(iso: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'medium',
  }).format(new Date(iso));
}
