import client from 'prom-client';
import { PermanentMailError, type AddressBook, type Mailer } from '../notify/index.ts';
import type { Pool } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import type { WithdrawalStatus } from './service.ts';

export interface WithdrawalMailContent {
  displayName: string;
  status: WithdrawalStatus;
  amount: number;
  fee: number;
  bankCode: string;
  accountLast4: string;
  failureReason: string | null;
}

const won = (n: number) => `${n.toLocaleString('ko-KR')}원`;
const krw = (n: number) => `${n.toLocaleString('en-US')} KRW`;
const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const KO: Record<WithdrawalStatus, string> = {
  REQUESTED: '출금 신청이 접수되어 운영자 검토를 기다리고 있습니다.',
  PROCESSING: '출금이 은행으로 송금 중입니다.',
  PAID: '출금이 완료되었습니다.',
  FAILED: '출금이 실패했습니다. 금액은 출금 가능 잔액으로 돌아왔습니다.',
  REJECTED: '출금 신청이 거절되었습니다. 금액은 출금 가능 잔액으로 돌아왔습니다.',
};
const EN: Record<WithdrawalStatus, string> = {
  REQUESTED: 'Your withdrawal was received and waits for review by an operator.',
  PROCESSING: 'Your withdrawal is on its way to your bank.',
  PAID: 'Your withdrawal was paid.',
  FAILED: 'Your withdrawal failed. The amount is withdrawable again.',
  REJECTED: 'Your withdrawal was rejected. The amount is withdrawable again.',
};
const KO_STATUS: Record<WithdrawalStatus, string> = { REQUESTED: '검토 대기', PROCESSING: '송금 중', PAID: '완료', FAILED: '실패', REJECTED: '거절됨' };

/** The mail of one state change of a withdrawal: Korean first, then English; text and HTML. */
export function withdrawalMail(m: WithdrawalMailContent): { subject: string; text: string; html: string } {
  const net = m.amount - m.fee;
  const subject = `[MissionLink] 출금 ${KO_STATUS[m.status]} / Withdrawal ${m.status} — ${won(m.amount)}`;
  const account = `${m.bankCode} ******${m.accountLast4}`;
  const ko = [
    `${m.displayName}님, ${KO[m.status]}`,
    `출금 신청 금액: ${won(m.amount)}`,
    `수수료: ${won(m.fee)}`,
    `입금될 금액: ${won(net)}`,
    `입금 계좌: ${account}`,
    ...(m.failureReason ? [`사유: ${m.failureReason}`] : []),
  ];
  const en = [
    `Hello ${m.displayName}. ${EN[m.status]}`,
    `Amount: ${krw(m.amount)}`,
    `Fee: ${krw(m.fee)}`,
    `To your bank: ${krw(net)}`,
    `Account: ${account}`,
    ...(m.failureReason ? [`Reason: ${m.failureReason}`] : []),
  ];
  const text = `${ko.join('\n')}\n\n---\n\n${en.join('\n')}\n`;
  const block = (lang: string, lines: string[]) => `<section lang="${lang}">${lines.map((l) => `<p style="margin:0 0 4px">${escape(l)}</p>`).join('')}</section>`;
  const html = `<!doctype html><html lang="ko"><body style="font-family:sans-serif">${block('ko', ko)}<hr>${block('en', en)}</body></html>`;
  return { subject, text, html };
}

const GIVE_UP_HOURS = 48;
const MAX_BACKOFF_SECONDS = 300;
const CLAIM_SECONDS = 30;

type MailRow = {
  id: string;
  user_id: string;
  withdrawal_status: WithdrawalStatus;
  amount: number;
  fee: number;
  bank_code: string;
  account_last4: string;
  failure_reason: string | null;
  old: boolean;
};

/**
 * Sends the streamer a mail for every state change of a withdrawal (rows of
 * withdrawal_mails, written in the change's transaction), with retries and
 * backoff for at least 24 hours, one Message-ID per mail however often it is
 * resent. Runs in the notifier role; addresses come from the identity
 * service (the funding database holds user ids only).
 * @example const mails = new WithdrawalMails({ pool, mailer, addresses, log }); mails.start();
 */
export class WithdrawalMails {
  private readonly loop: PollingLoop;
  private readonly sent?: client.Counter<'result'>;

  constructor(
    private readonly deps: { pool: Pool; mailer: Mailer; addresses: Pick<AddressBook, 'addressOf'>; log: Logger; registry?: client.Registry; domain?: string; pollMs?: number },
  ) {
    this.loop = new PollingLoop('withdrawal-mails', () => this.runOnce(), deps.log, deps.pollMs ?? 1000);
    if (deps.registry) {
      this.sent = new client.Counter({ name: 'missionlink_withdrawal_mails_total', help: 'Withdrawal mails by result (sent, retry, failed)', labelNames: ['result'], registers: [deps.registry] });
      for (const result of ['sent', 'retry', 'failed']) this.sent.inc({ result }, 0);
    }
  }

  start(): void {
    this.loop.start();
  }

  poke(): void {
    this.loop.poke();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Sends the mails that are due; returns how many were tried. */
  async runOnce(batch = 20): Promise<number> {
    const { rows } = await this.deps.pool.query<MailRow>(
      `WITH claimed AS (
         UPDATE withdrawal_mails SET claimed_until = now() + make_interval(secs => $3)
          WHERE id = ANY (ARRAY(
            -- SKIP LOCKED: several notifiers may run; each mail is taken by one.
            SELECT id FROM withdrawal_mails
             WHERE status = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
             ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED))
          RETURNING id, withdrawal_id, user_id, withdrawal_status, created_at < now() - make_interval(hours => $2) AS old)
       SELECT m.id, m.user_id, m.withdrawal_status, m.old, w.amount, w.fee, w.bank_code, w.account_last4,
              CASE WHEN m.withdrawal_status IN ('FAILED', 'REJECTED') THEN w.failure_reason END AS failure_reason
         FROM claimed m JOIN withdrawals w ON w.id = m.withdrawal_id`,
      [batch, GIVE_UP_HOURS, CLAIM_SECONDS],
    );
    await Promise.all(rows.map((m) => this.deliver(m)));
    return rows.length;
  }

  private async deliver(m: MailRow): Promise<void> {
    try {
      const to = await this.deps.addresses.addressOf(m.user_id);
      if (!to) throw new PermanentMailError('the user has no mail address');
      const content = withdrawalMail({
        displayName: to.displayName,
        status: m.withdrawal_status,
        amount: Number(m.amount),
        fee: Number(m.fee),
        bankCode: m.bank_code,
        accountLast4: m.account_last4,
        failureReason: m.failure_reason,
      });
      await this.deps.mailer.send({ to: to.email, ...content, messageId: `<${m.id}@${this.deps.domain ?? 'missionlink.local'}>` });
      await this.deps.pool.query(`UPDATE withdrawal_mails SET status = 'sent', sent_at = now(), attempts = attempts + 1, claimed_until = NULL WHERE id = $1`, [m.id]);
      this.sent?.inc({ result: 'sent' });
    } catch (err) {
      const permanent = err instanceof PermanentMailError || m.old;
      await this.deps.pool.query(
        `UPDATE withdrawal_mails SET attempts = attempts + 1, last_error = $2, claimed_until = NULL,
                status = CASE WHEN $3 THEN 'failed' ELSE 'pending' END,
                next_attempt_at = now() + make_interval(secs => least(5 * power(2, attempts), $4))
          WHERE id = $1`,
        [m.id, String((err as Error).message).slice(0, 500), permanent, MAX_BACKOFF_SECONDS],
      );
      this.sent?.inc({ result: permanent ? 'failed' : 'retry' });
      this.deps.log.warn({ mail: m.id, permanent, err: (err as Error).message }, 'withdrawal mail not sent');
    }
  }
}
