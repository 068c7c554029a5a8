// The API client and the session. The access token lives in memory only; the
// refresh token is the httpOnly `ml_refresh` cookie the server sets, so a
// reload signs back in with POST /api/v1/auth/refresh and nothing readable
// by scripts is ever stored.
import type { Me, TokenPair } from './types.ts';

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { path: string; message: string }[];
}

/** An answer that was not 2xx, with its RFC 9457 problem body. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

/** A network failure (no answer at all). */
export class OfflineError extends Error {
  constructor() {
    super('network error');
    this.name = 'OfflineError';
  }
}

// ---- session state -------------------------------------------------------

export type SessionStatus = 'loading' | 'anonymous' | 'signed-in';
export interface Session {
  status: SessionStatus;
  me: Me | null;
}

let token: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let session: Session = { status: 'loading', me: null };
const listeners = new Set<() => void>();

export function getSession(): Session {
  return session;
}
export function subscribeSession(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function setSession(next: Session) {
  session = next;
  for (const fn of listeners) fn();
}

function setToken(pair: TokenPair | null) {
  clearTimeout(refreshTimer);
  token = pair?.accessToken ?? null;
  if (pair) {
    // Refresh a minute before expiry (and never sooner than in 5 s).
    const inMs = Math.max(5, pair.expiresIn - 60) * 1000;
    refreshTimer = setTimeout(() => void refresh(), inMs);
  }
}

let refreshing: Promise<boolean> | null = null;

/**
 * Trades the session cookie for a new token pair. Tabs of one browser share
 * the cookie, and each refresh spends it, so refreshes are serialised across
 * tabs with a Web Lock: a tab never presents a token another tab just spent.
 */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const run = async () => {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        credentials: 'same-origin',
      });
      if (!res.ok) return false;
      setToken((await res.json()) as TokenPair);
      return true;
    };
    try {
      const ok = navigator.locks
        ? await navigator.locks.request('missionlink-refresh', run)
        : await run();
      if (!ok) {
        setToken(null);
        if (session.status !== 'anonymous') setSession({ status: 'anonymous', me: null });
      }
      return ok;
    } catch {
      // Offline: keep the session we have and try again soon.
      if (token) {
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(() => void refresh(), 10_000);
      }
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// ---- requests --------------------------------------------------------------

export interface RequestOptions {
  body?: unknown;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/**
 * Calls the API and returns the parsed JSON; throws ApiError (with the
 * problem body) for non-2xx answers and OfflineError when there is none.
 * A 401 with a token triggers one refresh and one retry.
 * @example const wallet = await api<Wallet>('GET', '/api/v1/wallet');
 */
export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const send = () => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    return fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  };
  let res: Response;
  try {
    res = await send();
    if (res.status === 401 && token && !path.startsWith('/api/v1/auth/')) {
      if (await refresh()) res = await send();
    }
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new OfflineError();
  }
  const text = res.status === 204 ? '' : await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const p = (data && typeof data === 'object' ? data : {}) as Partial<Problem>;
    throw new ApiError({ ...p, title: p.title ?? res.statusText, status: res.status });
  }
  return data as T;
}

/** A fresh Idempotency-Key (one per user action, reused only by its retries). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ---- session actions -------------------------------------------------------

async function loadMe(): Promise<void> {
  const me = await api<Me>('GET', '/api/v1/me');
  setSession({ status: 'signed-in', me });
}

let booted: Promise<void> | null = null;

/** On page load: resume the session from the cookie, if there is one. */
export function bootSession(): Promise<void> {
  booted ??= (async () => {
    try {
      if (await refresh()) await loadMe();
      else setSession({ status: 'anonymous', me: null });
    } catch {
      setSession({ status: 'anonymous', me: null });
    }
  })();
  return booted;
}

/** Reloads the signed-in user (roles and channel change when a channel is made). */
export async function reloadMe(): Promise<void> {
  if (token) await loadMe();
}

export async function signIn(email: string, password: string): Promise<void> {
  const pair = await api<TokenPair>('POST', '/api/v1/auth/login', { body: { email, password } });
  setToken(pair);
  await loadMe();
}

export async function signUp(email: string, password: string, displayName: string): Promise<void> {
  await api('POST', '/api/v1/auth/register', { body: { email, password, displayName } });
  await signIn(email, password);
}

export async function signOut(): Promise<void> {
  try {
    await api('POST', '/api/v1/auth/logout');
  } finally {
    setToken(null);
    setSession({ status: 'anonymous', me: null });
  }
}
