import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { api, getSession, subscribeSession, type Session } from './api.ts';
import type { Page } from './types.ts';
import { appendOlder, mergeNewest } from './wallet-history.ts';

export function useSession(): Session {
  return useSyncExternalStore(subscribeSession, getSession);
}

// One shared clock for every countdown on the page.
const clockListeners = new Set<() => void>();
let now = Date.now();
let clock: ReturnType<typeof setInterval> | undefined;
function subscribeClock(fn: () => void) {
  clockListeners.add(fn);
  if (!clock) {
    now = Date.now();
    clock = setInterval(() => {
      now = Date.now();
      for (const l of clockListeners) l();
    }, 250);
  }
  return () => {
    clockListeners.delete(fn);
    if (clockListeners.size === 0) {
      clearInterval(clock);
      clock = undefined;
    }
  };
}

/** Milliseconds since the epoch, re-rendering four times a second. */
export function useNow(): number {
  return useSyncExternalStore(subscribeClock, () => now);
}

/**
 * Runs `fn` now and every `ms` while the tab is visible (and again at once
 * when it becomes visible). `fn` may change between renders.
 */
export function usePolling(fn: () => Promise<unknown> | void, ms: number, enabled = true): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      clearTimeout(timer);
      if (stopped) return;
      if (document.visibilityState !== 'hidden') {
        try {
          await ref.current();
        } catch {
          // The next tick tries again.
        }
      }
      if (!stopped) timer = setTimeout(() => void tick(), ms);
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') void tick();
    };
    document.addEventListener('visibilitychange', onVisible);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [ms, enabled]);
}

/** Tracks an async action: busy flag, last error, and a success message. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(async (fn: () => Promise<string | null | void>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const msg = await fn();
      if (mounted.current) setDone(msg ?? null);
      return true;
    } catch (err) {
      if (mounted.current) setError(err);
      return false;
    } finally {
      if (mounted.current) setBusy(false);
    }
  }, []);
  const reset = useCallback(() => {
    setError(null);
    setDone(null);
  }, []);
  return { busy, error, done, run, reset, setError };
}

/** Sets the document title for the page. */
export function useTitle(title: string | null): void {
  useEffect(() => {
    if (title) document.title = `${title} · MissionLink`;
  }, [title]);
}

/**
 * A newest-first history read a page at a time from `path` (an API list with
 * `limit` and `cursor`): `refresh` merges the newest page in front
 * (mergeNewest), `loadMore` appends the next older one. `items` is null until
 * the first refresh.
 */
export function useHistoryPages<T extends { id: string }>(path: string, limit = 20) {
  const [items, setItems] = useState<T[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const itemsRef = useRef<T[] | null>(null);
  itemsRef.current = items;
  const refresh = useCallback(async () => {
    const page = await api<Page<T>>('GET', `${path}?limit=${limit}`);
    const merged = mergeNewest(itemsRef.current ?? [], page.items);
    setItems(merged.items);
    if (merged.restart) setCursor(page.nextCursor);
  }, [path, limit]);
  const loadMore = useCallback(async () => {
    if (!cursor) return;
    const page = await api<Page<T>>('GET', `${path}?limit=${limit}&cursor=${encodeURIComponent(cursor)}`);
    setItems((old) => appendOlder(old ?? [], page.items));
    setCursor(page.nextCursor);
  }, [path, limit, cursor]);
  return { items, cursor, refresh, loadMore };
}
