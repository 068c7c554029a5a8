// The OBS overlay's options, read from its URL's query string and written
// back by the Studio's overlay settings page. Pure (no DOM): the parser never
// throws, and a value it does not know falls back to its default, so a typo in
// a browser source's URL still gives a working overlay.
//
//   /overlay/:handle?position=bottom-right&theme=light&scale=1.5
//     &widgets=board,alerts&sound=on&volume=40&tts=off&duration=8

export const POSITIONS = [
  'top-left',
  'top-right',
  'bottom-left',
  'bottom-right',
  'top',
  'bottom',
] as const;
export type Position = (typeof POSITIONS)[number];

/** dark and light cards, or no card at all (outlined text over the video). */
export const THEMES = ['dark', 'light', 'transparent'] as const;
export type Theme = (typeof THEMES)[number];

/** board: the missions with totals and countdowns; alerts: pledge alerts and outcome banners. */
export const WIDGETS = ['board', 'alerts', 'prediction', 'units'] as const;
export type Widget = (typeof WIDGETS)[number];

/** The message the overlay takes, in preview only, from the Studio's "send a test alert" (postMessage, same origin). */
export const TEST_ALERT_MESSAGE = 'missionlink:overlay-test-alert';

export const SCALE_MIN = 0.5;
export const SCALE_MAX = 2;
export const DURATION_MIN = 2;
export const DURATION_MAX = 20;

export interface OverlayOptions {
  position: Position;
  theme: Theme;
  /** Zoom of everything shown, SCALE_MIN–SCALE_MAX. */
  scale: number;
  /** Which widgets show, in WIDGETS order, never empty. */
  widgets: Widget[];
  /** The alert chime. */
  sound: boolean;
  /** 0–100, for the chime and the spoken message. */
  volume: number;
  /** Read each pledge's message aloud (speechSynthesis, when the browser has it). */
  tts: boolean;
  /** Seconds each alert or banner stays, DURATION_MIN–DURATION_MAX. */
  duration: number;
  /** The Studio's preview: a sample mission when none is active, test alerts on request. */
  preview: boolean;
}

export const DEFAULT_OPTIONS: Readonly<OverlayOptions> = Object.freeze({
  position: 'top-left',
  theme: 'dark',
  scale: 1,
  widgets: [...WIDGETS],
  sound: true,
  volume: 70,
  tts: false,
  duration: 6,
  preview: false,
});

const oneOf = <T extends string>(list: readonly T[], raw: string | null, fallback: T): T => {
  const v = raw?.trim().toLowerCase();
  return (list as readonly string[]).includes(v ?? '') ? (v as T) : fallback;
};

const ON = ['on', '1', 'true', 'yes'];
const OFF = ['off', '0', 'false', 'no'];
const flag = (raw: string | null, fallback: boolean): boolean => {
  const v = raw?.trim().toLowerCase() ?? '';
  if (ON.includes(v)) return true;
  if (OFF.includes(v)) return false;
  return fallback;
};

/**
 * A decimal number within [min, max]: outside it the nearest bound (scale=5 →
 * 2), not a number at all → the fallback. Rounded to `step`.
 */
const bounded = (
  raw: string | null,
  min: number,
  max: number,
  fallback: number,
  step: number,
): number => {
  const v = raw?.trim() ?? '';
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(v)) return fallback;
  const n = Math.min(max, Math.max(min, Number(v)));
  return Math.round(n / step) * step;
};

/** Fixes float noise from rounding to a step (1.1500000000000001 → 1.15). */
const tidy = (n: number) => Number(n.toFixed(4));

/** The options of an overlay URL's query string (with or without the leading "?"). */
export function parseOverlayOptions(search: string | URLSearchParams): OverlayOptions {
  const q = typeof search === 'string' ? new URLSearchParams(search) : search;
  const listed = (q.get('widgets') ?? '')
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter((w): w is Widget => (WIDGETS as readonly string[]).includes(w));
  const widgets = WIDGETS.filter((w) => listed.includes(w));
  return {
    position: oneOf(POSITIONS, q.get('position'), DEFAULT_OPTIONS.position),
    theme: oneOf(THEMES, q.get('theme'), DEFAULT_OPTIONS.theme),
    scale: tidy(bounded(q.get('scale'), SCALE_MIN, SCALE_MAX, DEFAULT_OPTIONS.scale, 0.05)),
    widgets: widgets.length > 0 ? widgets : [...DEFAULT_OPTIONS.widgets],
    sound: flag(q.get('sound'), DEFAULT_OPTIONS.sound),
    volume: bounded(q.get('volume'), 0, 100, DEFAULT_OPTIONS.volume, 1),
    tts: flag(q.get('tts'), DEFAULT_OPTIONS.tts),
    duration: bounded(q.get('duration'), DURATION_MIN, DURATION_MAX, DEFAULT_OPTIONS.duration, 1),
    preview: flag(q.get('preview'), false),
  };
}

/**
 * The query string (without "?") for `opts`, naming only what differs from
 * the defaults, in a fixed order: the defaults give "". `lang` (ko/en) is the
 * overlay's language (see i18n.ts); Korean is the default.
 */
export function overlayQuery(opts: Partial<OverlayOptions>, lang: 'ko' | 'en' = 'ko'): string {
  // Through the parser, so what is written is always what the overlay reads back.
  const o = parseOverlayOptions(
    new URLSearchParams({
      position: opts.position ?? '',
      theme: opts.theme ?? '',
      scale: opts.scale === undefined ? '' : String(opts.scale),
      widgets: (opts.widgets ?? []).join(','),
      sound: opts.sound === undefined ? '' : opts.sound ? 'on' : 'off',
      volume: opts.volume === undefined ? '' : String(opts.volume),
      tts: opts.tts === undefined ? '' : opts.tts ? 'on' : 'off',
      duration: opts.duration === undefined ? '' : String(opts.duration),
      preview: opts.preview ? 'on' : '',
    }),
  );
  const d = DEFAULT_OPTIONS;
  const q: [string, string][] = [];
  if (o.position !== d.position) q.push(['position', o.position]);
  if (o.theme !== d.theme) q.push(['theme', o.theme]);
  if (o.scale !== d.scale) q.push(['scale', String(o.scale)]);
  if (o.widgets.join(',') !== d.widgets.join(',')) q.push(['widgets', o.widgets.join(',')]);
  if (o.sound !== d.sound) q.push(['sound', o.sound ? 'on' : 'off']);
  // The volume matters only for what makes a sound.
  if (o.volume !== d.volume && (o.sound || o.tts)) q.push(['volume', String(o.volume)]);
  if (o.tts !== d.tts) q.push(['tts', o.tts ? 'on' : 'off']);
  if (o.duration !== d.duration) q.push(['duration', String(o.duration)]);
  if (lang === 'en') q.push(['lang', 'en']);
  if (o.preview) q.push(['preview', 'on']);
  // Commas stay readable (URLSearchParams would write %2C).
  return q.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/g, ',')}`).join('&');
}

/** The overlay's full address for a channel, e.g. https://…/overlay/cooking_kim?theme=light. */
export function overlayUrl(
  origin: string,
  handle: string,
  opts: Partial<OverlayOptions>,
  lang: 'ko' | 'en' = 'ko',
): string {
  const query = overlayQuery(opts, lang);
  return `${origin}/overlay/${encodeURIComponent(handle)}${query ? `?${query}` : ''}`;
}

/** Text fit to be spoken: no masked words (the runs of * that blocked words become), no runs of spaces. */
export function speakable(text: string): string {
  return text
    .replace(/\*+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
