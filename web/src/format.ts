import { langNow, type Dict, type Lang } from './i18n.ts';

/** Groups digits by thousands: 26650 → "26,650" (exact, no rounding). */
export function groupDigits(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * KRW, exactly, as readers of the page's language write it: 26650 →
 * "26,650원" in Korean, "₩26,650" in English. Components re-render on a
 * language switch (useT), and with them every amount.
 */
export function won(n: number, lang: Lang = langNow()): string {
  return lang === 'en' ? `₩${groupDigits(n)}` : `${groupDigits(n)}원`;
}

/** A signed KRW movement: +10,000원 / −3,000원 (+₩10,000 / −₩3,000). */
export function signedWon(n: number, lang: Lang = langNow()): string {
  return n > 0 ? `+${won(n, lang)}` : n < 0 ? `−${won(-n, lang)}` : won(0, lang);
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

/** A moment in the reader's zone, on the 24-hour clock like every time the app shows: "12월 7일 17:37" / "7 Dec, 17:37". */
export function dateTime(iso: string, lang: Lang): string {
  const d = new Date(iso);
  return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(d);
}

export function fullDateTime(iso: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'medium',
  }).format(new Date(iso));
}

/** Korea Standard Time is UTC+9 all year. */
const KST_OFFSET_MS = 9 * 3600_000;
const DAY_MS = 86_400_000;

/** The calendar day in Korea at `ms`, as YYYY-MM-DD (what the daily points count). */
export function kstDay(ms: number): string {
  return new Date(ms + KST_OFFSET_MS).toISOString().slice(0, 10);
}

/** The next midnight in Korea after `ms` (when the next daily points claim opens). */
export function nextKstMidnight(ms: number): number {
  return (Math.floor((ms + KST_OFFSET_MS) / DAY_MS) + 1) * DAY_MS - KST_OFFSET_MS;
}

/** A moment shown in Korean time whatever the browser's zone: "12월 8일 00:00" / "8 Dec, 00:00". */
export function kstDateTime(ms: number, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
    timeZone: 'Asia/Seoul',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(ms));
}

const axisFormats = new Map<string, Intl.DateTimeFormat>();
function axisFormat(lang: Lang, parts: 'date' | 'time' | 'both', seconds = false): Intl.DateTimeFormat {
  const key = `${lang}:${parts}:${seconds}`;
  let f = axisFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
      timeZone: 'Asia/Seoul',
      ...(parts !== 'time' ? { month: lang === 'ko' ? 'long' : 'short', day: 'numeric' } : {}),
      ...(parts !== 'date'
        ? { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}), hourCycle: 'h23' }
        : {}),
    });
    axisFormats.set(key, f);
  }
  return f;
}

/**
 * Labels of a time axis in Korean time and the reader's language, never the
 * browser's US default ("12/7/26 12:31am"): whole days as "12월 7일" / "7 Dec";
 * otherwise "14:30" (with seconds when ticks are less than a minute apart),
 * with the day in front where it starts or changes ("12월 7일 14:30" /
 * "7 Dec, 14:30").
 * @example timeAxisLabels([1765085400, 1765085460], 60, 'ko') // ['12월 7일 14:30', '14:31']
 */
export function timeAxisLabels(seconds: number[], stepSeconds: number, lang: Lang): string[] {
  if (stepSeconds >= 86_400) return seconds.map((s) => axisFormat(lang, 'date').format(s * 1000));
  const withSeconds = stepSeconds < 60;
  let day = '';
  return seconds.map((s) => {
    const ms = s * 1000;
    const d = kstDay(ms);
    const withDay = d !== day;
    day = d;
    return axisFormat(lang, withDay ? 'both' : 'time', withSeconds).format(ms);
  });
}

/** A moment in Korean time with the date and seconds: "2026년 12월 7일 14:30:05" / "7 Dec 2026, 14:30:05". */
export function kstFullDateTime(iso: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
    timeZone: 'Asia/Seoul',
    dateStyle: 'long',
    timeStyle: 'medium',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

/** Full-width digits (what some Korean keyboards type) as ASCII ones. */
const asciiDigits = (s: string) => s.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));

/** A run of digits grouped by thousands, of any length ("1234567" → "1,234,567"). */
const groupRun = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * What an amount input shows after an edit: only its digits (no leading
 * zeros), grouped by thousands, with the caret after as many digits as it
 * followed before. Deleting just a separator (Backspace or Delete on a comma)
 * deletes the digit beyond it instead, so the key never seems to do nothing.
 * `prev` is the text before the edit, `next` the input's raw text after it,
 * `caret` where the browser put the caret in `next`.
 * @example amountEdit('1,000', '10,000', 2, 'insertText') // { text: '10,000', caret: 2 }
 */
export function amountEdit(
  prev: string,
  next: string,
  caret: number = next.length,
  inputType = '',
): { text: string; caret: number } {
  let raw = asciiDigits(next);
  let at = Math.max(0, Math.min(caret, raw.length));
  const digitsOf = (s: string) => s.replace(/\D/g, '');
  if (digitsOf(raw) === digitsOf(asciiDigits(prev)) && raw.length < prev.length) {
    if (inputType === 'deleteContentBackward') {
      const before = raw.slice(0, at);
      const i = before.search(/\d(?=\D*$)/);
      if (i >= 0) {
        raw = raw.slice(0, i) + raw.slice(i + 1);
        at = i;
      }
    } else if (inputType === 'deleteContentForward') {
      const j = raw.slice(at).search(/\d/);
      if (j >= 0) raw = raw.slice(0, at + j) + raw.slice(at + j + 1);
    }
  }
  const all = digitsOf(raw);
  let before = digitsOf(raw.slice(0, at)).length;
  const digits = all.replace(/^0+(?=\d)/, '');
  before = Math.max(0, before - (all.length - digits.length));
  const text = groupRun(digits);
  let pos = 0;
  for (let seen = 0; pos < text.length && seen < before; pos++) if (/\d/.test(text[pos]!)) seen++;
  return { text, caret: pos };
}

/** An amount's text as an amount input shows it: "10000" → "10,000" (digits only). */
export function groupedAmountText(text: string): string {
  return amountEdit(text, text).text;
}

/** Parses a KRW or points amount typed by a person ("26,650" works too). */
export function parseAmount(text: string): number {
  const cleaned = text.replace(/[,\s원₩Pp]/g, '');
  if (!/^\d+$/.test(cleaned)) return NaN;
  return Number(cleaned);
}
