import http from 'node:http';

/** One parsed server-sent event. */
export interface SseEvent {
  id: number | null;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  data: any;
  /** Date.now() when the event's last line arrived. */
  at: number;
}

/**
 * Incremental parser of a text/event-stream (the subset MissionLink sends:
 * `id:`, `event:`, `data:`, `retry:` and `:` comments). Feed it chunks; it
 * calls back per complete event and per comment line.
 * @example const p = new SseParser((e) => events.push(e)); p.push(chunk);
 */
export class SseParser {
  private buffer = '';
  private id: number | null = null;
  private event = 'message';
  private data: string[] = [];

  constructor(
    private readonly onEvent: (e: SseEvent) => void,
    private readonly onComment: (text: string) => void = () => undefined,
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length) {
        const text = this.data.join('\n');
        let data: unknown = text;
        try {
          data = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        this.onEvent({ id: this.id, event: this.event, data, at: Date.now() });
      }
      this.id = null;
      this.event = 'message';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) {
      this.onComment(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.id = Number(value);
    else if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

export interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: SseEvent[];
  comments: string[];
  /** True once the server ended or dropped the stream. */
  closed(): boolean;
  /** Resolves with the first received event (old or new) matching `pred`. */
  waitFor(pred: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>;
  /** Resolves once `n` events have been received in all. */
  waitForCount(n: number, ms?: number): Promise<SseEvent[]>;
  close(): void;
}

/**
 * Opens an SSE stream on a real socket and records what arrives.
 * @example const s = await openSse(`${base}/api/v1/missions/${id}/events`); await s.waitFor((e) => e.event === 'pledge');
 */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const comments: string[] = [];
    let ended = false;
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const w of [...waiters]) w();
    };
    const parser = new SseParser(
      (e) => {
        events.push(e);
        wake();
      },
      (c) => {
        comments.push(c);
        wake();
      },
    );
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.push(chunk));
      const end = () => {
        ended = true;
        wake();
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      const until = <T>(check: () => T | undefined, ms: number, what: string) =>
        new Promise<T>((ok, fail) => {
          const test = () => {
            const v = check();
            if (v !== undefined) {
              cleanup();
              ok(v);
            } else if (ended) {
              cleanup();
              fail(new Error(`stream closed while waiting for ${what}`));
            }
          };
          const timer = setTimeout(() => {
            cleanup();
            fail(new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(events.map((e) => [e.id, e.event]))}`));
          }, ms);
          const cleanup = () => {
            clearTimeout(timer);
            waiters.delete(test);
          };
          waiters.add(test);
          test();
        });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        comments,
        closed: () => ended,
        waitFor: (pred, ms = 10_000) => until(() => events.find(pred), ms, 'matching event'),
        waitForCount: (n, ms = 10_000) => until(() => (events.length >= n ? events.slice() : undefined), ms, `${n} events`),
        close: () => {
          req.destroy();
          res.destroy();
        },
      });
    });
    req.on('error', reject);
  });
}
