import client from 'prom-client';
import type { Bus } from '../platform/bus.ts';
import type { Pool } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import { consumeOnce } from '../platform/outbox.ts';
import { PermanentMailError, type Mailer } from './mailer.ts';
import { resultMail } from './templates.ts';

/** Where the notifier learns a user's mail address (the identity service). */
export interface AddressBook {
  addressOf(userId: string): Promise<{ email: string; displayName: string } | null>;
}

export interface NotifierHooks {
  /** After the mail server accepted a mail, before that is recorded (crash tests). */
  afterSend?: (notificationId: string) => Promise<void> | void;
}

export interface NotifierDeps {
  pool: Pool;
  bus: Bus;
  log: Logger;
  mailer: Mailer;
  addresses: AddressBook;
  registry: client.Registry;
  domain?: string;
  hooks?: NotifierHooks;
  pollMs?: number;
}

/** Retries keep going for this long before a mail is given up (API: at least 24 h). */
const GIVE_UP_HOURS = 48;
const MAX_BACKOFF_SECONDS = 300;
/**
 * How long a claimed mail stays with its notifier. The claim is renewed while
 * the send is in flight (an SMTP conversation may take longer), so it only
 * lapses when the notifier died; then another one (or the restarted one)
 * retries the mail this soon, with the same Message-ID.
 */
const CLAIM_SECONDS = 15;

/**
 * Result mails: one row per backer per outcome, created exactly once from the
 * `mission.settled` event; then sent with retries and backoff. One bad address
 * never blocks the others.
 */
export class Notifier {
  private readonly loop: PollingLoop;
  private readonly sent: client.Counter<'result'>;

  constructor(private readonly deps: NotifierDeps) {
    this.loop = new PollingLoop('notifier', () => this.runOnce(), deps.log, deps.pollMs ?? 1000);
    this.sent = new client.Counter({ name: 'missionlink_mails_total', help: 'Result mails by result (sent, retry, failed)', labelNames: ['result'], registers: [deps.registry] });
    const pool = deps.pool;
    new client.Gauge({
      name: 'missionlink_mails_pending',
      help: 'Result mails waiting to be sent',
      registers: [deps.registry],
      async collect() {
        const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE status = 'pending'`);
        this.set(rows[0]!.n);
      },
    });
  }

  subscribe(): void {
    this.deps.bus.subscribe('notifier', ['mission.settled'], async (event) => {
      const { missionId, state } = event.payload as { missionId: string; state: string };
      await consumeOnce(this.deps.pool, 'notifier', event.id, async (c) => {
        // UNIQUE (mission_id, user_id, outcome): one mail per backer per outcome.
        await c.query(
          `INSERT INTO notifications (id, mission_id, user_id, outcome, pledged, captured, refunded, status)
           SELECT gen_random_uuid(), $1, backer_id, $2, sum(amount), sum(captured_amount), sum(refunded_amount), 'pending'
             FROM pledges WHERE mission_id = $1 GROUP BY backer_id
           ON CONFLICT (mission_id, user_id, outcome) DO NOTHING`,
          [missionId, state],
        );
      });
      this.poke();
    });
  }

  start(): void {
    this.loop.start();
  }

  poke(): void {
    this.loop.poke();
  }

  /** Sends the mails that are due; returns how many were tried. */
  async runOnce(batch = 20): Promise<number> {
    const { rows } = await this.deps.pool.query<{
      id: string; user_id: string; outcome: string; pledged: number; captured: number; refunded: number; title: string; channel: string; attempts: number; old: boolean;
    }>(
      `UPDATE notifications n SET claimed_until = now() + make_interval(secs => $3)
         FROM missions m
        -- = ANY(ARRAY(…)), not IN (…): see the outbox relay's claim (src/platform/outbox.ts).
        WHERE m.id = n.mission_id AND n.id = ANY (ARRAY(
          -- SKIP LOCKED: several notifiers may run; each mail is taken by one.
          SELECT id FROM notifications
           WHERE status = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED))
        RETURNING n.id, n.user_id, n.outcome, n.pledged, n.captured, n.refunded, n.attempts, m.title, m.channel,
                  n.created_at < now() - make_interval(hours => $2) AS old`,
      [batch, GIVE_UP_HOURS, CLAIM_SECONDS],
    );
    if (rows.length === 0) return 0;
    const inFlight = new Set(rows.map((n) => n.id));
    const renew = setInterval(() => {
      if (inFlight.size === 0) return;
      void this.deps.pool
        .query(
          `UPDATE notifications SET claimed_until = now() + make_interval(secs => $2)
            WHERE id = ANY($1::uuid[]) AND status = 'pending' AND claimed_until IS NOT NULL`,
          [[...inFlight], CLAIM_SECONDS],
        )
        .catch(() => undefined);
    }, (CLAIM_SECONDS * 1000) / 3);
    renew.unref();
    try {
      await Promise.all(rows.map((n) => this.deliver(n).finally(() => inFlight.delete(n.id))));
    } finally {
      clearInterval(renew);
    }
    return rows.length;
  }

  private async deliver(n: { id: string; user_id: string; outcome: string; pledged: number; captured: number; refunded: number; title: string; channel: string; attempts: number; old: boolean }) {
    const { pool, log } = this.deps;
    try {
      const to = await this.deps.addresses.addressOf(n.user_id);
      if (!to) throw new PermanentMailError('the user has no mail address');
      const content = resultMail({ displayName: to.displayName, title: n.title, channel: n.channel, outcome: n.outcome, pledged: n.pledged, captured: n.captured, refunded: n.refunded });
      await this.deps.mailer.send({ to: to.email, ...content, messageId: `<${n.id}@${this.deps.domain ?? 'missionlink.local'}>` });
      await this.deps.hooks?.afterSend?.(n.id);
      await pool.query(`UPDATE notifications SET status = 'sent', sent_at = now(), attempts = attempts + 1, claimed_until = NULL WHERE id = $1`, [n.id]);
      this.sent.inc({ result: 'sent' });
    } catch (err) {
      const permanent = err instanceof PermanentMailError || n.old;
      await pool.query(
        `UPDATE notifications SET attempts = attempts + 1, last_error = $2, claimed_until = NULL,
                status = CASE WHEN $3 THEN 'failed' ELSE 'pending' END,
                next_attempt_at = now() + make_interval(secs => least(5 * power(2, attempts), $4))
          WHERE id = $1`,
        [n.id, String((err as Error).message).slice(0, 500), permanent, MAX_BACKOFF_SECONDS],
      );
      this.sent.inc({ result: permanent ? 'failed' : 'retry' });
      log.warn({ notification: n.id, permanent, err: (err as Error).message }, 'result mail not sent');
    }
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
