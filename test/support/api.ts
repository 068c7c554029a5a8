import type { App } from '../../src/platform/http.ts';

export interface Caller {
  token: string;
  id: string;
  email: string;
}

let counter = 0;

/**
 * Small helpers to drive the HTTP API in-process.
 * @example const api = client(t.ml.http); const alice = await api.signUp('Alice');
 */
export function client(http: App) {
  async function call(method: string, url: string, who?: Caller | null, body?: unknown, headers: Record<string, string> = {}) {
    const res = await http.inject({
      method: method as 'GET',
      url,
      headers: { ...(who ? { authorization: `Bearer ${who.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
    let json: any;
    try {
      json = res.json();
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, body: json, headers: res.headers };
  }
  return {
    call,
    async signUp(displayName: string): Promise<Caller> {
      const email = `${displayName.toLowerCase().replace(/\W/g, '')}-${process.pid}-${++counter}-${Date.now()}@example.kr`;
      const password = 'a long password';
      const reg = await call('POST', '/api/v1/auth/register', null, { email, password, displayName });
      if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
      const login = await call('POST', '/api/v1/auth/login', null, { email, password });
      if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
      return { token: login.body.accessToken, id: reg.body.user.id, email };
    },
    async charge(who: Caller, amount: number) {
      const r = await call('POST', '/api/v1/wallet/charges', who, { amount });
      if (r.status !== 201) throw new Error(`charge: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.charge;
    },
    async wallet(who: Caller) {
      return (await call('GET', '/api/v1/wallet', who)).body as { available: number; held: number; points: number; owed: number };
    },
    async channel(who: Caller, handle: string, settings?: Record<string, number>) {
      const r = await call('POST', '/api/v1/channels', who, { handle, displayName: handle, ...(settings ? { settings } : {}) });
      if (r.status !== 201) throw new Error(`channel: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.channel;
    },
    async propose(who: Caller, handle: string, amount: number, durationSeconds = 600, title = 'Clear the boss without dying') {
      return call('POST', `/api/v1/channels/${handle}/missions`, who, { title, amount, durationSeconds });
    },
    async mission(id: string) {
      return (await call('GET', `/api/v1/missions/${id}`)).body.mission;
    },
  };
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, ms = 10_000, every = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}
