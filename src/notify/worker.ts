import client from 'prom-client';
import type { Bus } from '../platform/bus.ts';
import type { Pool, Queryable } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import { consumeOnce } from '../platform/outbox.ts';
import { EMAIL_VERIFICATION_REQUESTED, VERIFICATION_TTL_HOURS, type VerificationMail } from '../identity/index.ts';
import { backerTotals, missionHeadlines, type MissionHeadline } from '../missions/index.ts';
import { disabledWebhook, WEBHOOK_DISABLED, type WebhookDisabled } from '../webhooks/index.ts';
import { REFUND_COMPLETED, refundNotice, REVERSED, reversalNotice } from '../wallet/index.ts';
import { PermanentMailError, type Mailer } from './mailer.ts';
import { refundMail, resultMail, reversalMail, verificationMail, webhookDisabledMail } from './templates.ts';

/** The wallet's events that mail the backer (src/wallet: refunds.ts, reversals.ts). */

/**
 * Where the notifier learns what only the identity service knows (its
 * database in-process, its internal API in distributed mode): addresses,
 * names, and the links of verification mails. The funding database, where
 * the notifier keeps its work, holds user ids only.
 */
export interface AddressBook {
  addressOf(userId: string): Promise<{ email: string; displayName: string } | null>;
  /** Address and link of a verification that is still live; null when it was replaced, used or has expired. */
  verificationMail(userId: string, verificationId: string): Promise<VerificationMail | null>;
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

/** The two queues: result mails, and mails about an account (verification links, disabled webhooks, refunds, reversals). */
type MailTable = 'notifications' | 'account_mails';

type ResultRow = {
  id: string; user_id: string; outcome: string; pledged: number; captured: number; refunded: number; donated: number; attempts: number; old: boolean;
  /** What the mail names of its mission (missionHeadlines). */
  headline: MissionHeadline;
};
type AccountRow = { id: string; kind: string; user_id: string; ref: string; attempts: number; old: boolean };

/** Mails (result and account mails alike) by status, for the ops page. */
export async function mailCounts(c: Queryable): Promise<{ pending: number; sent: number; failed: number }> {
  const { rows } = await c.query<{ pending: number; sent: number; failed: number }>(
    `SELECT (SELECT count(*) FILTER (WHERE status = 'pending') FROM notifications)::int
              + (SELECT count(*) FILTER (WHERE status = 'pending') FROM account_mails)::int AS pending,
            (SELECT count(*) FILTER (WHERE status = 'sent') FROM notifications)::int
              + (SELECT count(*) FILTER (WHERE status = 'sent') FROM account_mails)::int AS sent,
            (SELECT count(*) FILTER (WHERE status = 'failed') FROM notifications)::int
              + (SELECT count(*) FILTER (WHERE status = 'failed') FROM account_mails)::int AS failed`,
  );
  const r = rows[0]!;
  return { pending: Number(r.pending), sent: Number(r.sent), failed: Number(r.failed) };
}

/**
 * Result mails: one row per backer per outcome, created exactly once from the
 * `mission.settled` event; account mails: one row per verification, disabled
 * webhook, completed refund and provider reversal, created exactly once from
 * its event (`user.email_verification_requested`, `webhook.disabled`,
 * `wallet.refund_completed`, `wallet.reversed`). Both are
 * then sent with retries and backoff. One bad address never blocks the others.
 */
export class Notifier {
  private readonly loop: PollingLoop;
  private readonly sent: client.Counter<'result'>;

  constructor(private readonly deps: NotifierDeps) {
    this.loop = new PollingLoop('notifier', () => this.runOnce(), deps.log, deps.pollMs ?? 1000);
    this.sent = new client.Counter({ name: 'missionlink_mails_total', help: 'Mails by result (sent, retry, failed, dropped)', labelNames: ['result'], registers: [deps.registry] });
    const pool = deps.pool;
    new client.Gauge({
      name: 'missionlink_mails_pending',
      help: 'Mails (results and account mails) waiting to be sent',
      registers: [deps.registry],
      async collect() {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT ((SELECT count(*) FROM notifications WHERE status = 'pending') + (SELECT count(*) FROM account_mails WHERE status = 'pending'))::int AS n`,
        );
        this.set(rows[0]!.n);
      },
    });
  }

  subscribe(): void {
    this.deps.bus.subscribe('notifier', ['mission.settled'], async (event) => {
      const { missionId, state } = event.payload as { missionId: string; state: string };
      await consumeOnce(this.deps.pool, 'notifier', event.id, async (c) => {
        const backers = await backerTotals(c, missionId);
        // UNIQUE (mission_id, user_id, outcome): one mail per backer per outcome.
        await c.query(
          `INSERT INTO notifications (id, mission_id, user_id, outcome, pledged, captured, refunded, donated, status)
           SELECT gen_random_uuid(), $1, b.user_id, $2, b.pledged, b.captured, b.refunded, b.donated, 'pending'
             FROM unnest($3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS b(user_id, pledged, captured, refunded, donated)
           ON CONFLICT (mission_id, user_id, outcome) DO NOTHING`,
          [missionId, state, backers.map((b) => b.backerId), backers.map((b) => b.pledged), backers.map((b) => b.captured), backers.map((b) => b.refunded), backers.map((b) => b.donated)],
        );
      });
      this.poke();
    });
    this.deps.bus.subscribe('notifier', [EMAIL_VERIFICATION_REQUESTED], async (event) => {
      // Ids only: the address and the link's token are asked of the identity
      // service when the mail is sent (EmailVerifications says why).
      const { userId, verificationId } = event.payload as { userId: string; verificationId: string };
      await consumeOnce(this.deps.pool, 'notifier', event.id, async (c) => {
        // UNIQUE (kind, ref): one mail per verification.
        await c.query(
          `INSERT INTO account_mails (id, kind, user_id, ref, status) VALUES (gen_random_uuid(), 'email_verification', $1, $2, 'pending')
           ON CONFLICT (kind, ref) DO NOTHING`,
          [userId, verificationId],
        );
      });
      this.poke();
    });
    this.deps.bus.subscribe('notifier', [WEBHOOK_DISABLED], async (event) => {
      // The owner of a webhook endpoint disabled after failing for days.
      const { ownerId, webhookId } = event.payload as unknown as WebhookDisabled;
      await consumeOnce(this.deps.pool, 'notifier', event.id, async (c) => {
        await c.query(
          `INSERT INTO account_mails (id, kind, user_id, ref, status) VALUES (gen_random_uuid(), 'webhook_disabled', $1, $2, 'pending')
           ON CONFLICT (kind, ref) DO NOTHING`,
          [ownerId, webhookId],
        );
      });
      this.poke();
    });
    // A backer's money going back out: a refund answered by the provider, a
    // reversal the provider made. One mail per refund, per reversal.
    const accountMail = (kind: 'refund_completed' | 'reversal', idOf: (payload: Record<string, unknown>) => unknown) =>
      async (event: { id: string; payload: Record<string, unknown> }) => {
        const userId = String(event.payload.userId);
        const ref = String(idOf(event.payload));
        await consumeOnce(this.deps.pool, 'notifier', event.id, async (c) => {
          await c.query(
            `INSERT INTO account_mails (id, kind, user_id, ref, status) VALUES (gen_random_uuid(), $1, $2, $3, 'pending')
             ON CONFLICT (kind, ref) DO NOTHING`,
            [kind, userId, ref],
          );
        });
        this.poke();
      };
    this.deps.bus.subscribe('notifier', [REFUND_COMPLETED], accountMail('refund_completed', (p) => p.refundId));
    this.deps.bus.subscribe('notifier', [REVERSED], accountMail('reversal', (p) => p.reversalId));
  }

  start(): void {
    this.loop.start();
  }

  poke(): void {
    this.loop.poke();
  }

  /** Sends the mails that are due; returns how many were tried. */
  async runOnce(batch = 20): Promise<number> {
    const [results, accounts] = await Promise.all([this.claimResults(batch), this.claimAccountMails(batch)]);
    if (results.length + accounts.length === 0) return 0;
    await Promise.all([
      this.whileClaimed('notifications', results, (n) => this.deliver(n)),
      this.whileClaimed('account_mails', accounts, (m) => this.deliverAccountMail(m)),
    ]);
    return results.length + accounts.length;
  }

  private async claimResults(batch: number): Promise<ResultRow[]> {
    const { rows } = await this.deps.pool.query<Omit<ResultRow, 'headline'> & { mission_id: string }>(
      `UPDATE notifications n SET claimed_until = now() + make_interval(secs => $3)
        -- = ANY(ARRAY(…)), not IN (…): see the outbox relay's claim (src/platform/outbox.ts).
        WHERE n.id = ANY (ARRAY(
          -- SKIP LOCKED: several notifiers may run; each mail is taken by one.
          SELECT id FROM notifications
           WHERE status = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED))
        RETURNING n.id, n.mission_id, n.user_id, n.outcome, n.pledged, n.captured, n.refunded, n.donated, n.attempts,
                  n.created_at < now() - make_interval(hours => $2) AS old`,
      [batch, GIVE_UP_HOURS, CLAIM_SECONDS],
    );
    if (rows.length === 0) return [];
    // What each mail names of its mission, from the missions module.
    const headlines = await missionHeadlines(this.deps.pool, [...new Set(rows.map((n) => n.mission_id))]);
    const none: MissionHeadline = { title: '', channel: '', unit: null, proofUrl: null, note: null, disputedAmount: 0, reviewed: false };
    return rows.map(({ mission_id, ...n }) => ({ ...n, headline: headlines.get(mission_id) ?? none }));
  }

  private async claimAccountMails(batch: number): Promise<AccountRow[]> {
    const { rows } = await this.deps.pool.query<AccountRow>(
      `UPDATE account_mails SET claimed_until = now() + make_interval(secs => $3)
        WHERE id = ANY (ARRAY(
          -- SKIP LOCKED: several notifiers may run; each mail is taken by one.
          SELECT id FROM account_mails
           WHERE status = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED))
        RETURNING id, kind, user_id, ref, attempts, created_at < now() - make_interval(hours => $2) AS old`,
      [batch, GIVE_UP_HOURS, CLAIM_SECONDS],
    );
    return rows;
  }

  /** Delivers each claimed mail, renewing the claims of those still in flight. */
  private async whileClaimed<R extends { id: string }>(table: MailTable, rows: R[], deliver: (row: R) => Promise<void>): Promise<void> {
    if (rows.length === 0) return;
    const inFlight = new Set(rows.map((n) => n.id));
    const renew = setInterval(() => {
      if (inFlight.size === 0) return;
      void this.deps.pool
        .query(
          `UPDATE ${table} SET claimed_until = now() + make_interval(secs => $2)
            WHERE id = ANY($1::uuid[]) AND status = 'pending' AND claimed_until IS NOT NULL`,
          [[...inFlight], CLAIM_SECONDS],
        )
        .catch(() => undefined);
    }, (CLAIM_SECONDS * 1000) / 3);
    renew.unref();
    try {
      await Promise.all(rows.map((n) => deliver(n).finally(() => inFlight.delete(n.id))));
    } finally {
      clearInterval(renew);
    }
  }

  private async deliver(n: ResultRow) {
    try {
      const to = await this.deps.addresses.addressOf(n.user_id);
      if (!to) throw new PermanentMailError('the user has no mail address');
      const { title, channel, unit, proofUrl, note, disputedAmount, reviewed } = n.headline;
      const content = resultMail({
        displayName: to.displayName, title, channel, outcome: n.outcome, pledged: n.pledged, captured: n.captured, refunded: n.refunded,
        donated: n.donated, unit, proofUrl, note, disputedAmount, reviewed,
      });
      await this.send('notifications', n.id, { to: to.email, ...content });
    } catch (err) {
      await this.failed('notifications', n, err);
    }
  }

  private async deliverAccountMail(m: AccountRow) {
    if (m.kind === 'webhook_disabled') return this.deliverWebhookDisabled(m);
    if (m.kind === 'refund_completed' || m.kind === 'reversal') return this.deliverMoneyMail(m);
    try {
      // Composed now, with a link recomputed by the identity service; null when
      // that verification was replaced, used or expired: a dead link is not sent.
      const mail = await this.deps.addresses.verificationMail(m.user_id, m.ref);
      if (!mail) {
        await this.deps.pool.query(
          `UPDATE account_mails SET status = 'dropped', claimed_until = NULL, last_error = 'the verification is no longer live' WHERE id = $1`,
          [m.id],
        );
        this.sent.inc({ result: 'dropped' });
        return;
      }
      const content = verificationMail({ displayName: mail.displayName, link: mail.link, validHours: VERIFICATION_TTL_HOURS });
      await this.send('account_mails', m.id, { to: mail.email, ...content });
    } catch (err) {
      await this.failed('account_mails', m, err);
    }
  }

  /** Tells a channel owner that a webhook endpoint was disabled (dropped when it was deleted meanwhile). */
  private async deliverWebhookDisabled(m: AccountRow) {
    try {
      const [hook, to] = await Promise.all([disabledWebhook(this.deps.pool, m.ref), this.deps.addresses.addressOf(m.user_id)]);
      if (!hook) {
        await this.deps.pool.query(
          `UPDATE account_mails SET status = 'dropped', claimed_until = NULL, last_error = 'the webhook is no longer disabled' WHERE id = $1`,
          [m.id],
        );
        this.sent.inc({ result: 'dropped' });
        return;
      }
      if (!to) throw new PermanentMailError('the user has no mail address');
      await this.send('account_mails', m.id, { to: to.email, ...webhookDisabledMail({ displayName: to.displayName, ...hook }) });
    } catch (err) {
      await this.failed('account_mails', m, err);
    }
  }

  /** Tells a backer that a refund was answered, or that the provider reversed a payment (the wallet module says what happened). */
  private async deliverMoneyMail(m: AccountRow) {
    try {
      const to = await this.deps.addresses.addressOf(m.user_id);
      if (!to) throw new PermanentMailError('the user has no mail address');
      let content: { subject: string; text: string; html: string };
      if (m.kind === 'refund_completed') {
        const r = await refundNotice(this.deps.pool, m.ref);
        if (!r) throw new PermanentMailError(`no completed refund ${m.ref}`);
        content = refundMail({ displayName: to.displayName, amount: r.amount, refunded: r.refunded, status: r.status });
      } else {
        const v = await reversalNotice(this.deps.pool, m.ref);
        if (!v) throw new PermanentMailError(`no reversal ${m.ref}`);
        content = reversalMail({ displayName: to.displayName, ...v });
      }
      await this.send('account_mails', m.id, { to: to.email, ...content });
    } catch (err) {
      await this.failed('account_mails', m, err);
    }
  }

  /** Sends one mail (its Message-ID is its row's id, the same on every resend) and records it sent. */
  private async send(table: MailTable, id: string, mail: { to: string; subject: string; text: string; html: string }) {
    await this.deps.mailer.send({ ...mail, messageId: `<${id}@${this.deps.domain ?? 'missionlink.local'}>` });
    await this.deps.hooks?.afterSend?.(id);
    await this.deps.pool.query(`UPDATE ${table} SET status = 'sent', sent_at = now(), attempts = attempts + 1, claimed_until = NULL WHERE id = $1`, [id]);
    this.sent.inc({ result: 'sent' });
  }

  /** Records a failed attempt: retried with backoff, or given up when permanent or too old. */
  private async failed(table: MailTable, n: { id: string; old: boolean }, err: unknown) {
    const permanent = err instanceof PermanentMailError || n.old;
    await this.deps.pool.query(
      `UPDATE ${table} SET attempts = attempts + 1, last_error = $2, claimed_until = NULL,
              status = CASE WHEN $3 THEN 'failed' ELSE 'pending' END,
              next_attempt_at = now() + make_interval(secs => least(5 * power(2, attempts), $4))
        WHERE id = $1`,
      [n.id, String((err as Error).message).slice(0, 500), permanent, MAX_BACKOFF_SECONDS],
    );
    this.sent.inc({ result: permanent ? 'failed' : 'retry' });
    this.deps.log.warn({ mail: n.id, table, permanent, err: (err as Error).message }, 'mail not sent');
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
