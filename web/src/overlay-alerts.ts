// The overlay's alert queue: one alert on screen at a time, in arrival order,
// each shown once. An alert is known by its live event id and by what it is
// about (a pledge id, a mission's outcome), so neither a stream that resumes
// after Last-Event-ID nor a fact that arrives twice (a decision, then its
// settlement) can show it again. Each alert may ring the chime and read its
// text aloud (speechSynthesis, where the browser has it).
import { useCallback, useEffect, useRef, useState } from 'react';
import chimeUrl from './assets/chime.wav';
import { speakable } from './overlay-options.ts';

export interface AlertItem {
  /** What the alert is about, e.g. "pledge:<id>" or "outcome:<mission>:SUCCEEDED". */
  key: string;
  /** The live event that brought it (0 when none, e.g. a test alert). */
  eventId: number;
  /** Read aloud when TTS is on (null: nothing to read). */
  speech: string | null;
}

export interface AlertSettings {
  /** How long an alert stays when no other waits, in ms. */
  durationMs: number;
  sound: boolean;
  /** 0–100. */
  volume: number;
  tts: boolean;
  /** BCP 47 language of the spoken text. */
  speechLang: string;
}

/** An alert on screen; `leaving` for its last EXIT_MS (the exit animation). */
export type Shown<T> = T & { leaving: boolean; shownMs: number };

/** The exit animation's length (CSS .overlay-alert.leaving). */
export const EXIT_MS = 400;
/** A breath between two alerts, so one never seems to turn into the next. */
const GAP_MS = 250;
/** While others wait, an alert stays this share of its time (but at least MIN_BUSY_MS). */
const BUSY_SHARE = 0.6;
const MIN_BUSY_MS = 2000;
/** A spoken message never holds the queue longer than this. */
const SPEECH_MAX_MS = 20_000;
/** How many keys and event ids are remembered (oldest forgotten first). */
const MAX_SEEN = 5000;

/** A set that forgets its oldest half when it grows past MAX_SEEN. */
class Seen<K> {
  private set = new Set<K>();
  has(k: K) {
    return this.set.has(k);
  }
  add(k: K) {
    this.set.add(k);
    if (this.set.size > MAX_SEEN) this.set = new Set([...this.set].slice(-MAX_SEEN / 2));
  }
}

/**
 * Speaks `text`; resolves when it ends, fails, or could not have taken longer
 * (some browsers never say), and at once where there is no speechSynthesis.
 */
function speak(text: string, volume: number, lang: string): { done: Promise<void>; cancel(): void } {
  const synth = typeof window !== 'undefined' ? window.speechSynthesis : undefined;
  if (!synth || typeof SpeechSynthesisUtterance === 'undefined' || !text)
    return { done: Promise.resolve(), cancel: () => undefined };
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    // About 12 characters a second, plus a start-up allowance.
    const cap = setTimeout(resolve, Math.min(SPEECH_MAX_MS, 2000 + text.length * 120));
    finish = () => {
      clearTimeout(cap);
      resolve();
    };
  });
  try {
    const u = new SpeechSynthesisUtterance(text);
    u.lang = lang;
    u.volume = Math.max(0, Math.min(1, volume / 100));
    u.addEventListener('end', finish);
    u.addEventListener('error', finish);
    synth.speak(u);
  } catch {
    finish();
  }
  return {
    done,
    cancel: () => {
      try {
        synth.cancel();
      } catch {
        // Nothing to stop.
      }
      finish();
    },
  };
}

/**
 * The queue. `enqueue` returns false for an alert already shown or waiting;
 * `drop` takes one out (waiting: it never shows; on screen: it leaves now and
 * stops speaking), e.g. when the channel owner hides its message. Settings
 * are read when each alert starts, so changing them never disturbs the one on
 * screen.
 */
export function useAlertQueue<T extends AlertItem>(
  settings: AlertSettings,
): { current: Shown<T> | null; enqueue(item: T): boolean; drop(key: string): void } {
  const [current, setCurrent] = useState<Shown<T> | null>(null);
  const queue = useRef<T[]>([]);
  const busy = useRef(false);
  const keys = useRef(new Seen<string>());
  const events = useRef(new Seen<number>());
  const settingsRef = useRef(settings);
  settingsRef.current = settings;
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  const speech = useRef<{ cancel(): void } | null>(null);
  /** The alert on screen, and how to cut it short. */
  const onScreen = useRef<{ key: string; cut(): void } | null>(null);
  const audio = useRef<HTMLAudioElement | null>(null);
  const alive = useRef(true);

  const later = useCallback((ms: number) => {
    return new Promise<void>((resolve) => {
      const id = setTimeout(() => {
        timers.current.delete(id);
        resolve();
      }, ms);
      timers.current.add(id);
    });
  }, []);

  const chime = useCallback((volume: number) => {
    try {
      audio.current ??= new Audio(chimeUrl);
      const a = audio.current;
      a.volume = Math.max(0, Math.min(1, volume / 100));
      a.currentTime = 0;
      // Refused autoplay (a browser without OBS's flags) or no audio device: silence.
      void a.play()?.catch(() => undefined);
    } catch {
      // No audio at all.
    }
  }, []);

  const showNext = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      while (alive.current && queue.current.length > 0) {
        const item = queue.current.shift()!;
        const s = settingsRef.current;
        const ms =
          queue.current.length > 0
            ? Math.max(MIN_BUSY_MS, Math.round(s.durationMs * BUSY_SHARE))
            : s.durationMs;
        setCurrent({ ...item, leaving: false, shownMs: ms });
        if (s.sound && s.volume > 0) chime(s.volume);
        let spoken: Promise<void> = Promise.resolve();
        const text = s.tts && item.speech ? speakable(item.speech) : '';
        if (text && s.volume > 0) {
          const said = speak(text, s.volume, s.speechLang);
          speech.current = said;
          spoken = said.done;
        }
        const cut = new Promise<void>((resolve) => {
          onScreen.current = {
            key: item.key,
            cut: () => {
              speech.current?.cancel();
              resolve();
            },
          };
        });
        await Promise.race([Promise.all([later(Math.max(0, ms - EXIT_MS)), spoken]), cut]);
        speech.current = null;
        onScreen.current = null;
        if (!alive.current) return;
        setCurrent((c) => (c && c.key === item.key ? { ...c, leaving: true } : c));
        await later(EXIT_MS);
        setCurrent(null);
        await later(GAP_MS);
      }
    } finally {
      busy.current = false;
    }
  }, [chime, later]);

  const enqueue = useCallback(
    (item: T): boolean => {
      if (keys.current.has(item.key)) return false;
      if (item.eventId > 0 && events.current.has(item.eventId)) return false;
      keys.current.add(item.key);
      if (item.eventId > 0) events.current.add(item.eventId);
      queue.current.push(item);
      void showNext();
      return true;
    },
    [showNext],
  );

  const drop = useCallback((key: string) => {
    keys.current.add(key);
    const i = queue.current.findIndex((q) => q.key === key);
    if (i >= 0) queue.current.splice(i, 1);
    else if (onScreen.current?.key === key) onScreen.current.cut();
  }, []);

  useEffect(() => {
    alive.current = true;
    const pending = timers.current;
    return () => {
      alive.current = false;
      for (const id of pending) clearTimeout(id);
      pending.clear();
      // A loop waiting on a cleared timer never resumes: let the next mount start one.
      busy.current = false;
      speech.current?.cancel();
      audio.current?.pause();
    };
  }, []);

  return { current, enqueue, drop };
}
