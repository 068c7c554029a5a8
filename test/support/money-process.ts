// Helpers for crash tests of the money flow against real `missionlink start`
// processes (see process.ts for spawning and clean-up): a look into the
// embedded funding database of a DATA_DIR, waiting for a crash point to fire,
// and `missionlink ledger verify`.
import pg from 'pg';
import { expect } from 'vitest';
import { httpClient, type HttpClient } from './http-client.ts';
import { dataDirSecrets, embeddedPgPort, runCommand, sleep, spawnServer, tempDataDir, type Exit, type ServerProcess } from './process.ts';
import { SmtpSink } from './smtp-sink.ts';

/**
 * One DATA_DIR, one SMTP server, and the `missionlink start` process
 * currently running on them: started (with a crash point armed or not),
 * stopped and started again on the same data. The caller stops the SMTP
 * servers of its stages (`Stage.sinks`) when its tests are done.
 * @example const stage = await Stage.create({ WITHDRAWAL_FEE_KRW: '500' }); await stage.start('payouts.beforeProviderCall');
 */
export class Stage {
  /** Every stage's SMTP server, for the test file's afterAll. */
  static readonly sinks: SmtpSink[] = [];
  srv: ServerProcess | undefined;
  readonly api: HttpClient;
  private constructor(
    readonly dataDir: string,
    readonly smtp: SmtpSink,
    private readonly extraEnv: Record<string, string>,
  ) {
    this.api = httpClient(() => this.srv!.url, { timeoutMs: 30_000 });
  }

  /** A fresh DATA_DIR and SMTP server; `env` is added to every start. */
  static async create(env: Record<string, string> = {}): Promise<Stage> {
    const smtp = await SmtpSink.start();
    Stage.sinks.push(smtp);
    return new Stage(await tempDataDir(), smtp, env);
  }

  get env(): Record<string, string> {
    return { MIN_WINDOW_SECONDS: '1', SMTP_URL: this.smtp.url, LOG_LEVEL: 'warn', ...this.extraEnv };
  }

  /** Starts `missionlink start` on the DATA_DIR, with `crashAt` armed if given. */
  async start(crashAt?: string): Promise<ServerProcess> {
    this.srv = await spawnServer({ dataDir: this.dataDir, env: { ...this.env, MISSIONLINK_CRASH_AT: crashAt } });
    await this.srv.waitReady(60_000);
    return this.srv;
  }

  /** SIGTERM, and the process must be gone within 15 s. */
  async stop(): Promise<void> {
    const exit = await this.srv!.signal('SIGTERM', 15_000);
    expect(exit.timedOut, this.srv!.stderr()).toBe(false);
  }

  query<T = Record<string, number>>(sql: string, params: unknown[] = []) {
    return fundingQuery<T>(this.dataDir, sql, params);
  }
}

/**
 * A client of the funding database of a running embedded server (as its own
 * least-privilege role), for assertions the API does not expose.
 */
export async function fundingDb(dataDir: string): Promise<pg.Client> {
  const [port, secrets] = await Promise.all([embeddedPgPort(dataDir), dataDirSecrets(dataDir)]);
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'missionlink_funding',
    password: secrets.fundingPassword,
    database: 'funding',
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  return client;
}

/** Runs one query against the funding database of `dataDir` and returns its rows (numbers as numbers). */
export async function fundingQuery<T = Record<string, number>>(dataDir: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = await fundingDb(dataDir);
  try {
    const { rows } = await client.query(sql, params);
    return rows.map((r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) && k !== 'id' ? Number(v) : v])),
    ) as T[];
  } finally {
    await client.end();
  }
}

/**
 * Waits until the process killed itself at its armed crash point (SIGKILL);
 * throws with its output if it exits otherwise or not at all.
 */
export async function crashed(srv: ServerProcess, point: string, ms = 60_000): Promise<Exit> {
  const exit = await Promise.race([srv.exited, sleep(ms).then(() => undefined)]);
  const output = `--- stdout ---\n${srv.stdout().slice(-3000)}\n--- stderr ---\n${srv.stderr().slice(-3000)}`;
  if (!exit) throw new Error(`the process did not reach crash point ${point} within ${ms} ms\n${output}`);
  if (exit.signal !== 'SIGKILL' || !srv.stderr().includes(`crash point ${point.split(':')[0]} reached`)) {
    throw new Error(`the process ended with ${JSON.stringify(exit)}, not at crash point ${point}\n${output}`);
  }
  return exit;
}

export interface LedgerReport {
  ok: boolean;
  accounts: number;
  transfers: number;
  problems: { check: string; detail: string }[];
}

/** `missionlink ledger verify` on a stopped DATA_DIR: its exit code and parsed report. */
export async function ledgerVerify(dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; report: LedgerReport; output: string }> {
  const run = await runCommand({ dataDir, args: ['ledger', 'verify'], env: { LOG_LEVEL: 'warn', ...env } }, 60_000);
  const output = `${run.stdout}\n${run.stderr}`;
  // The report is pretty-printed JSON after any log lines.
  const start = run.stdout.search(/^\{$/m);
  if (start < 0) throw new Error(`ledger verify printed no report (exit ${run.code})\n${output}`);
  return { code: run.code, report: JSON.parse(run.stdout.slice(start)) as LedgerReport, output };
}

/** Polls `check` until it returns a truthy value; throws naming `what` (and the last value) after `ms`. */
export async function until<T>(what: string, check: () => Promise<T>, ms = 60_000, every = 250): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      last = err as T;
    }
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms (last: ${String(last instanceof Error ? last.message : JSON.stringify(last))})`);
    await sleep(every);
  }
}

/** Decodes RFC 2047 encoded-words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) of a mail header. */
export function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, enc: string, text: string) => {
      if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    });
}
