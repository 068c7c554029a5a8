/**
 * Small JSON calls to the server under test (setup steps of scenarios:
 * channels, charges, missions). Loopback only.
 */
import { assertLoopback } from './load.ts';

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- scenario code reads arbitrary JSON
  body: any;
}

/**
 * One request; throws unless the status is `expect` (when given).
 * @example const m = await call(url, 'POST', '/api/v1/channels', token, { handle, displayName }, 201);
 */
export async function call(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  token?: string,
  body?: unknown,
  expect?: number,
): Promise<ApiAnswer> {
  assertLoopback(baseUrl);
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const answer = { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  if (expect !== undefined && res.status !== expect)
    throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return answer;
}

/** A streamer's channel with one ACTIVE mission, proposed by `backerToken`. */
export async function activeMission(
  baseUrl: string,
  streamerToken: string,
  backerToken: string,
  handle: string,
): Promise<string> {
  await call(
    baseUrl,
    'POST',
    '/api/v1/channels',
    streamerToken,
    { handle, displayName: handle, settings: { missionMinAmount: 1 } },
    201,
  );
  await call(baseUrl, 'POST', '/api/v1/wallet/charges', backerToken, { amount: 1_000_000 }, 201);
  const proposed = await call(
    baseUrl,
    'POST',
    `/api/v1/channels/${handle}/missions`,
    backerToken,
    // A day: its prediction stays open for 30 minutes, far beyond any run.
    { title: 'Benchmark mission', amount: 1_000, durationSeconds: 86_400 },
    201,
  );
  const id = proposed.body.mission.id as string;
  await call(baseUrl, 'POST', `/api/v1/missions/${id}/accept`, streamerToken, undefined, 200);
  return id;
}

/** VmRSS of a process in MiB, from /proc (null off Linux). */
export async function rssMiB(pid: number): Promise<number | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const line = (await readFile(`/proc/${pid}/status`, 'utf8'))
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** The soft limit on open files of a process (null when unknown). */
export async function openFilesLimit(pid: number | 'self'): Promise<number | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const line = (await readFile(`/proc/${pid}/limits`, 'utf8'))
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}
