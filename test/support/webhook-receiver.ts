// A real HTTP server on 127.0.0.1 that receives webhooks and records each
// request as it arrived (headers and the raw body), and can answer with any
// status, answer slowly, hang, go down (connections refused) and come back on
// the same port.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** What the receiver does with a request: answer (after `delayMs`) or never answer. */
export type Behaviour = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

/**
 * @example const r = await WebhookReceiver.start(); … url: r.url('/hook') … r.received
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Decides each answer; by default 204. */
  behaviour: (req: Received) => Behaviour = () => ({ status: 204 });
  /** Requests being handled now (the most seen at once in `maxConcurrent`). */
  concurrent = 0;
  maxConcurrent = 0;
  private server: http.Server | undefined;
  private readonly hung = new Set<http.ServerResponse>();

  private constructor(public port: number) {}

  static async start(port = 0): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(port);
    await r.up();
    return r;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Requests carrying this `webhook-id`. */
  withId(id: string): Received[] {
    return this.received.filter((r) => r.headers['webhook-id'] === id);
  }

  /** Listens (again) on its port. */
  async up(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got: Received = { path: req.url ?? '', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(got);
        this.concurrent++;
        this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
        res.on('close', () => {
          this.concurrent--;
          this.hung.delete(res);
        });
        const b = this.behaviour(got);
        if (b === 'hang') {
          this.hung.add(res);
          return;
        }
        setTimeout(() => {
          res.writeHead(b.status, { 'content-type': 'text/plain', ...b.headers });
          res.end(b.body ?? '');
        }, b.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every connection: deliveries find the port refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const res of this.hung) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stop(): Promise<void> {
    return this.down();
  }
}
