// The fetch-based twin of api.ts: drives MissionLink processes over real HTTP
// (a base URL instead of an in-process Fastify), plus a server-sent events
// client that resumes with Last-Event-ID like a browser does.
import { SseParser, type SseEvent } from './sse.ts';

export type { SseEvent };

export interface Caller {
  token: string;
  id: string;
  email: string;
  displayName: string;
}

export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  body: any;
  headers: Headers;
}

let counter = 0;

/**
 * A client for one MissionLink base URL (or a function choosing one per call,
 * e.g. alternating between api processes). `call` resolves with any HTTP
 * answer and rejects only when no answer came (refused, reset, timed out).
 * @example const api = httpClient('http://127.0.0.1:8080'); const alice = await api.signUp('Alice');
 */
export function httpClient(base: string | (() => string), opts: { timeoutMs?: number } = {}) {
  const baseOf = typeof base === 'string' ? () => base : base;
  async function call(method: string, path: string, who?: Caller | null, body?: unknown, headers: Record<string, string> = {}, at?: string): Promise<Answer> {
    const res = await fetch(`${at ?? baseOf()}${path}`, {
      method,
      headers: {
        ...(who ? { authorization: `Bearer ${who.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  }
  const must = (what: string, r: Answer, status: number) => {
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return {
    call,
    async signUp(displayName: string, at?: string): Promise<Caller> {
      const email = `${displayName.toLowerCase().replace(/\W/g, '')}-${process.pid}-${++counter}-${Date.now()}@example.kr`;
      const password = 'a long password';
      const reg = must('register', await call('POST', '/api/v1/auth/register', null, { email, password, displayName }, {}, at), 201);
      const login = must('login', await call('POST', '/api/v1/auth/login', null, { email, password }, {}, at), 200);
      return { token: login.accessToken, id: reg.user.id, email, displayName };
    },
    async charge(who: Caller, amount: number, at?: string) {
      return must('charge', await call('POST', '/api/v1/wallet/charges', who, { amount }, {}, at), 201).charge;
    },
    async wallet(who: Caller, at?: string): Promise<{ available: number; held: number; points: number }> {
      return must('wallet', await call('GET', '/api/v1/wallet', who, undefined, {}, at), 200);
    },
    async channel(who: Caller, handle: string, settings?: Record<string, number>, at?: string) {
      return must('channel', await call('POST', '/api/v1/channels', who, { handle, displayName: handle, ...(settings ? { settings } : {}) }, {}, at), 201).channel;
    },
    async propose(who: Caller, handle: string, amount: number, durationSeconds = 600, title = 'Clear the boss without dying', at?: string) {
      return call('POST', `/api/v1/channels/${handle}/missions`, who, { title, amount, durationSeconds }, {}, at);
    },
    async mission(id: string, at?: string) {
      return must('mission', await call('GET', `/api/v1/missions/${id}`, null, undefined, {}, at), 200).mission;
    },
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

/**
 * A server-sent events client over fetch. Collects every event; when the
 * stream drops it reconnects with `Last-Event-ID`, as EventSource does.
 * @example const sse = SseClient.open(`${url}/api/v1/missions/${id}/events`); … sse.close();
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  reconnects = 0;
  private lastId: number | null = null;
  private readonly abort = new AbortController();
  private connected: Promise<void>;
  private onConnected!: () => void;

  private constructor(private readonly url: string) {
    this.connected = new Promise((r) => (this.onConnected = r));
    void this.loop();
  }

  static open(url: string): SseClient {
    return new SseClient(url);
  }

  /** Resolves once the first connection answered 200. */
  ready(ms = 10_000): Promise<void> {
    return Promise.race([this.connected, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`SSE ${this.url} did not connect`)), ms).unref())]);
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const res = await fetch(this.url, {
          headers: { accept: 'text/event-stream', ...(this.lastId !== null ? { 'last-event-id': String(this.lastId) } : {}) },
          signal: this.abort.signal,
        });
        if (res.status !== 200 || !res.body) throw new Error(`SSE answered ${res.status}`);
        this.onConnected();
        const decoder = new TextDecoder();
        const parser = new SseParser((e) => {
          if (e.id !== null) this.lastId = e.id;
          this.events.push(e);
        });
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.push(decoder.decode(chunk, { stream: true }));
      } catch {
        // dropped or refused: retry below
      }
      if (this.abort.signal.aborted) return;
      this.reconnects++;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  close(): void {
    this.abort.abort();
  }
}
