// An in-process SMTP server that records every message it accepts, and can
// go down (connections refused) and come back on the same port.
import { SMTPServer } from 'smtp-server';
import { freePort } from './nats.ts';

export interface ReceivedMail {
  /** The Message-ID header, angle brackets included. */
  messageId: string;
  to: string;
  subject: string;
  envelopeTo: string[];
  raw: string;
  at: number;
}

/** Header value of `name` in a raw message (folded lines joined). */
export function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}

/**
 * @example const smtp = await SmtpSink.start(); … SMTP_URL=smtp.url … smtp.mails
 */
export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  private server: SMTPServer | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink(await freePort());
    await sink.up();
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  get isUp(): boolean {
    return this.server !== undefined;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // On down(): conversations in progress get a 421 after this long.
      closeTimeout: 200,
      onData: (stream, session, done) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          this.mails.push({
            messageId: header(raw, 'Message-ID'),
            to: header(raw, 'To'),
            subject: header(raw, 'Subject'),
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            raw,
            at: Date.now(),
          });
          done();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops listening at once (new connections are refused); open ones are cut shortly after. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.down();
  }
}
