// Light or dark: the system's preference (prefers-color-scheme) until the
// person picks one with the header's switch; the pick persists in
// localStorage. The theme is <html data-theme>, which styles.css reads.
import { useSyncExternalStore } from 'react';

export type Theme = 'light' | 'dark';
const STORAGE_KEY = 'missionlink.theme';

function stored(): Theme | null {
  try {
    const v = window.localStorage.getItem(STORAGE_KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null;
  }
}

const dark = () =>
  typeof window.matchMedia === 'function' && window.matchMedia('(prefers-color-scheme: dark)');

function systemTheme(): Theme {
  const q = dark();
  return q && q.matches ? 'dark' : 'light';
}

let current: Theme = stored() ?? systemTheme();
const listeners = new Set<() => void>();

function apply(): void {
  document.documentElement.dataset.theme = current;
  for (const fn of listeners) fn();
}

/** Sets <html data-theme> (call once at start) and follows the system until a pick is stored. */
export function applyTheme(): void {
  apply();
  const q = dark();
  if (!q) return;
  q.addEventListener('change', () => {
    if (stored()) return;
    current = systemTheme();
    apply();
  });
}

export function setTheme(theme: Theme): void {
  current = theme;
  try {
    window.localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Storage may be disabled; the switch still works for this page.
  }
  apply();
}

const subscribe = (fn: () => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

export function useTheme(): Theme {
  return useSyncExternalStore(subscribe, () => current);
}
