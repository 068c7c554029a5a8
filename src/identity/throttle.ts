import type { Pool, Queryable } from '../platform/db.ts';

/**
 * Failed-login throttling in fixed windows, stored in the identity database so
 * every api process shares it. Two limits:
 *  - per account *and* address: a password-guesser is stopped quickly, but only
 *    from its own address, so it cannot lock the real owner out;
 *  - per address: one address guessing across many accounts is stopped too.
 * Successful logins and registrations are never counted. Attempts on one
 * account from one address run one at a time (see `serialise`); the
 * per-address limit is not serialised and may be overshot by the attempts in
 * flight at the moment it is reached.
 */
export const LIMITS = [
  { scope: 'account', maxFailures: 10, windowSeconds: 900 },
  { scope: 'ip', maxFailures: 100, windowSeconds: 900 },
] as const;

export type Scope = (typeof LIMITS)[number]['scope'];
export interface Blocked {
  scope: Scope;
  retryAfter: number;
}

function keysFor(email: string, ip: string): Record<Scope, string> {
  return { account: `acct-ip:${email}|${ip}`, ip: `ip:${ip}` };
}

export interface ThrottleRow {
  key: string;
  failures: number;
  age: number;
}

export interface ThrottleState {
  blocked: Blocked | null;
  accountFailures: boolean;
}

/** The columns `evaluate` needs, from `login_throttle t`. */
export const THROTTLE_COLUMNS = 't.key, t.failures, extract(epoch FROM now() - t.window_start)::float8 AS age';

export class LoginThrottle {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly pool: Pool) {}

  /**
   * Runs the attempts on one account from one address one after another, so a
   * burst of parallel guesses cannot all pass the check before the first
   * failure is counted. Waiters hold no database connection (the password
   * hash takes a while). The queue is per process: with several api processes
   * a burst may overshoot the limit by at most one attempt per extra process.
   * @example await throttle.serialise(email, ip, () => tryLogin());
   */
  async serialise<T>(email: string, ip: string, attempt: () => Promise<T>): Promise<T> {
    const key = keysFor(email, ip).account;
    const run = (this.queues.get(key) ?? Promise.resolve()).then(attempt);
    const settled = run.catch(() => undefined);
    this.queues.set(key, settled);
    try {
      return await run;
    } finally {
      // The last one out removes the queue.
      if (this.queues.get(key) === settled) this.queues.delete(key);
    }
  }

  /** Seconds to wait, and which limit says so, or null when a login may be tried. */
  async blocked(q: Queryable, email: string, ip: string): Promise<Blocked | null> {
    return (await this.state(q, email, ip)).blocked;
  }

  /** `blocked`, plus whether this account has failures counted from this address. */
  async state(q: Queryable, email: string, ip: string): Promise<ThrottleState> {
    const { rows } = await q.query<ThrottleRow>({
      name: 'throttle-state',
      text: `SELECT ${THROTTLE_COLUMNS} FROM login_throttle t WHERE t.key = ANY($1)`,
      values: [this.keys(email, ip)],
    });
    return this.evaluate(rows, email, ip);
  }

  /** The rows `state` reads, for a caller that reads them in a statement of its own. */
  keys(email: string, ip: string): string[] {
    return Object.values(keysFor(email, ip));
  }

  /** `state` from rows read elsewhere (THROTTLE_COLUMNS of login_throttle t, for `keys`). */
  evaluate(rows: ThrottleRow[], email: string, ip: string): ThrottleState {
    const keys = keysFor(email, ip);
    const accountFailures = rows.some((r) => r.key === keys.account);
    for (const limit of LIMITS) {
      const row = rows.find((r) => r.key === keys[limit.scope]);
      if (row && row.age < limit.windowSeconds && row.failures >= limit.maxFailures) {
        return { blocked: { scope: limit.scope, retryAfter: Math.max(1, Math.ceil(limit.windowSeconds - row.age)) }, accountFailures };
      }
    }
    return { blocked: null, accountFailures };
  }

  async recordFailure(q: Queryable, email: string, ip: string): Promise<void> {
    const keys = keysFor(email, ip);
    for (const limit of LIMITS) {
      // One statement: a new window starts when the old one is over.
      await q.query(
        `INSERT INTO login_throttle AS t (key, failures, window_start) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.window_start < now() - make_interval(secs => $2) THEN 1 ELSE t.failures + 1 END,
           window_start = CASE WHEN t.window_start < now() - make_interval(secs => $2) THEN now() ELSE t.window_start END`,
        [keys[limit.scope], limit.windowSeconds],
      );
    }
  }

  /** A successful login clears the account's counter for that address. */
  async recordSuccess(q: Queryable, email: string, ip: string): Promise<void> {
    await q.query('DELETE FROM login_throttle WHERE key = $1', [keysFor(email, ip).account]);
  }

  /** Drops windows that ended long ago. */
  async prune(): Promise<void> {
    await this.pool.query(`DELETE FROM login_throttle WHERE window_start < now() - interval '1 day'`);
  }
}
