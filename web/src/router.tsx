// A tiny history-API router: the server answers every app route with
// index.html, and this picks the page.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();
const notify = () => {
  for (const fn of listeners) fn();
};
window.addEventListener('popstate', notify);

const subscribe = (fn: () => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

/** The current path and query, e.g. "/c/cooking_kim?x=1". */
export function useLocation(): { pathname: string; search: string } {
  const href = useSyncExternalStore(
    subscribe,
    () => window.location.pathname + window.location.search,
  );
  const url = new URL(href, window.location.origin);
  return { pathname: url.pathname, search: url.search };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
  if (!opts.replace) window.scrollTo(0, 0);
}

export function Link({
  to,
  onClick,
  ...rest
}: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey)
      return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}

export interface Route {
  name: string;
  params: Record<string, string>;
}

const ROUTES: [string, RegExp, string[]][] = [
  ['home', /^\/$/, []],
  ['signin', /^\/signin\/?$/, []],
  ['signup', /^\/signup\/?$/, []],
  ['wallet', /^\/wallet\/?$/, []],
  ['me', /^\/me\/?$/, []],
  ['studio', /^\/studio\/?$/, []],
  ['webhooks', /^\/studio\/webhooks\/?$/, []],
  ['overlay-settings', /^\/studio\/overlay\/?$/, []],
  ['ops', /^\/ops\/?$/, []],
  ['verify-email', /^\/verify-email\/?$/, []],
  ['channel', /^\/c\/([^/]+)\/?$/, ['handle']],
  ['overlay', /^\/overlay\/([^/]+)\/?$/, ['handle']],
];

export function matchRoute(pathname: string): Route {
  for (const [name, re, keys] of ROUTES) {
    const m = re.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    keys.forEach((k, i) => {
      params[k] = decodeURIComponent(m[i + 1] ?? '');
    });
    return { name, params };
  }
  return { name: 'notfound', params: {} };
}
