/**
 * Test accounts for the benchmarks, created through the public API.
 */
import { assertLoopback } from './load.ts';

export interface BenchUser {
  email: string;
  password: string;
}

/** The password every benchmark account uses (length matters to argon2 only marginally). */
export const BENCH_PASSWORD = 'bench-password-0123';

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * Registers `count` distinct accounts.
 * @example const users = await registerUsers(server.url, 64);
 */
export async function registerUsers(
  baseUrl: string,
  count: number,
  concurrency = 4,
): Promise<BenchUser[]> {
  assertLoopback(baseUrl);
  const run = Date.now().toString(36);
  const users = Array.from({ length: count }, (_, i) => ({
    email: `bench-${run}-${i}@bench.test`,
    password: BENCH_PASSWORD,
  }));
  await pool(users, concurrency, async (u) => {
    const res = await post(`${baseUrl}/api/v1/auth/register`, {
      ...u,
      displayName: u.email.split('@')[0],
    });
    if (res.status !== 201)
      throw new Error(`register ${u.email}: ${res.status} ${JSON.stringify(res.json)}`);
  });
  return users;
}

/** Signs every user in once; returns their access tokens in order. */
export async function accessTokens(
  baseUrl: string,
  users: BenchUser[],
  concurrency = 4,
): Promise<string[]> {
  assertLoopback(baseUrl);
  return pool(users, concurrency, async (u) => {
    const res = await post(`${baseUrl}/api/v1/auth/login`, u);
    const token = (res.json as { accessToken?: string } | undefined)?.accessToken;
    if (res.status !== 200 || !token)
      throw new Error(`login ${u.email}: ${res.status} ${JSON.stringify(res.json)}`);
    return token;
  });
}
