// Mails about a backer's money going back out, through the notifier's account
// mail queue, to a real SMTP server (smtp-server): one when a refund of unused
// cash completes (or the provider refuses it), one when a provider reversal
// took money or left something owed. Each is made once from its event (a
// redelivered event adds nothing), and retried while the mail server is down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { mailHeader, plainText } from '../../test/support/mail.ts';
import { SmtpSink, type ReceivedMail } from '../../test/support/smtp-sink.ts';
import type { CancelResult, PaymentProvider } from './provider.ts';
import { signWebhook, SIGNATURE_HEADER } from './provider.ts';
import { verifyWallet } from './verify.ts';

const SECRET = 'test-webhook-secret-0123456789'; // what createTestApp configures

let smtp: SmtpSink;
let t: TestApp;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  smtp = await SmtpSink.start();
  t = await createTestApp({ SMTP_URL: smtp.url });
  api = client(t.ml.http);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
});

const books = async () => {
  const report = await verifyLedger(t.db.pools.funding, [verifyPledges, verifyWallet]);
  expect(report.problems).toEqual([]);
};
/** Subjects are RFC 2047 encoded (Korean first): decoded. */
const subjectOf = (m: ReceivedMail) => mailHeader(m.raw, 'subject');

const mailsTo = (who: Caller, subject: RegExp) => smtp.mails.filter((m) => m.envelopeTo.includes(who.email) && subject.test(subjectOf(m)));
/** Waits for `n` mails to `who` whose subject matches. */
const waitForMails = (who: Caller, subject: RegExp, n = 1): Promise<ReceivedMail[]> =>
  eventually(async () => {
    const found = mailsTo(who, subject);
    return found.length >= n ? found : undefined;
  }, 15_000, 100);
async function refund(who: Caller, amount: number) {
  const res = await api.call('POST', '/api/v1/wallet/refunds', who, { amount });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.refund as { id: string; status: string };
}

async function reverse(chargeId: string, amount: number) {
  const body = JSON.stringify({ eventId: `evt_mail_rev_${chargeId}`, chargeId, status: 'reversed', amount });
  const res = await t.ml.http.inject({
    method: 'POST',
    url: '/api/v1/payments/webhook',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(SECRET, body) },
    payload: body,
  });
  expect(res.statusCode, res.payload).toBe(200);
}

/** Sends every refund_completed / reversed event of the outbox through the bus again (an at-least-once redelivery). */
async function redeliverWalletEvents() {
  const { rows } = await t.db.pools.funding.query<{ id: string; topic: string; key: string; payload: Record<string, unknown>; created_at: Date }>(
    `SELECT id, topic, key, payload, created_at FROM outbox WHERE topic IN ('wallet.refund_completed', 'wallet.reversed')`,
  );
  for (const r of rows) await t.ml.bus.publish({ id: r.id, topic: r.topic, key: r.key, payload: r.payload, createdAt: r.created_at.toISOString() });
  await t.ml.notifier!.runOnce();
}

describe('refund mails', () => {
  it('tell the backer once what was refunded, and what a refused refund gave back to the wallet', async () => {
    const alice = await api.signUp('Alice');
    await api.charge(alice, 10_000);
    const done = await refund(alice, 4_000);
    expect(done.status).toBe('succeeded');
    const [ok] = await waitForMails(alice, /./);
    expect(subjectOf(ok!)).toBe('[MissionLink] 환불 완료 / Refund completed — 4,000원');
    const text = plainText(ok!.raw);
    expect(text).toContain('결제 수단으로 환불된 금액: 4,000원');
    expect(text).toContain('Refunded to your payment method: 4,000 KRW');
    expect(text).not.toContain('Back in your wallet');

    // The provider refuses the next one for good: the money is back in the wallet, and the mail says so.
    const sandbox = t.ml.wallet!.provider;
    t.ml.wallet!.provider = {
      name: sandbox.name,
      createCharge: (c) => sandbox.createCharge(c),
      cancel: async (): Promise<CancelResult> => ({ status: 'failed', reason: 'the card issuer refused the cancellation' }),
    } satisfies PaymentProvider;
    try {
      expect((await refund(alice, 3_000)).status).toBe('failed');
    } finally {
      t.ml.wallet!.provider = sandbox;
    }
    const both = await waitForMails(alice, /./, 2);
    const refused = both.find((m) => m !== ok)!;
    expect(subjectOf(refused)).toBe('[MissionLink] 환불 실패 / Refund failed — 3,000원');
    expect(plainText(refused.raw)).toContain('Back in your wallet: 3,000 KRW');
    expect(plainText(refused.raw)).toContain('지갑으로 돌아온 금액: 3,000원');
    expect(await api.wallet(alice)).toMatchObject({ available: 6_000 });

    // Delivered again by the bus: no second mail.
    await redeliverWalletEvents();
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(alice, /./)).toHaveLength(2);
    expect(new Set(both.map((m) => m.messageId)).size).toBe(2);
    await books();
  });

  it('waits while the mail server is down, then sends the mail once', async () => {
    const bob = await api.signUp('Bob');
    await api.charge(bob, 8_000);
    await smtp.down();
    try {
      await refund(bob, 2_000);
      const row = await eventually(async () => {
        const { rows } = await t.db.pools.funding.query<{ status: string; attempts: number; last_error: string | null }>(
          `SELECT status, attempts, last_error FROM account_mails WHERE kind = 'refund_completed' AND user_id = $1`,
          [bob.id],
        );
        return rows[0] && rows[0].attempts > 0 ? rows[0] : undefined;
      }, 15_000, 100);
      expect(row).toMatchObject({ status: 'pending' });
      expect(row.last_error).toBeTruthy();
    } finally {
      await smtp.up();
    }
    // The retry is due (its backoff cut short), and goes through.
    await t.db.pools.funding.query(`UPDATE account_mails SET next_attempt_at = now() WHERE user_id = $1`, [bob.id]);
    const [mail] = await waitForMails(bob, /./);
    expect(subjectOf(mail!)).toContain('Refund completed — 2,000원');
    await t.ml.notifier!.runOnce();
    expect(mailsTo(bob, /./)).toHaveLength(1);
  });
});

describe('reversal mails', () => {
  it('tell the backer what a reversal took from the wallet and the pledges, and what is owed now', async () => {
    const carol = await api.signUp('Carol');
    const streamer = await api.signUp('Streamer');
    const handle = `rvm_${Date.now() % 1_000_000}`;
    await api.channel(streamer, handle);
    const charge = await api.charge(carol, 10_000);
    // 3,000 held on a mission not decided yet; 5,000 captured on one that succeeded.
    const open = await api.propose(carol, handle, 3_000);
    expect(open.status).toBe(201);
    const won = (await api.propose(carol, handle, 5_000)).body.mission.id as string;
    expect((await api.call('POST', `/api/v1/missions/${won}/accept`, streamer)).status).toBe(200);
    expect((await api.call('POST', `/api/v1/missions/${won}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
    await eventually(async () => (await api.mission(won)).settledAt);
    await reverse(charge.id as string, 10_000);
    expect(await api.wallet(carol)).toMatchObject({ available: 0, held: 0, owed: 5_000 });
    const [mail] = await waitForMails(carol, /Payment reversed/);
    expect(subjectOf(mail!)).toBe('[MissionLink] 결제 취소 반영 / Payment reversed — 10,000원');
    const text = plainText(mail!.raw);
    expect(text).toContain('Taken from your wallet: 5,000 KRW');
    expect(text).toContain('1 pledge(s) on missions not decided yet were cancelled (3,000 KRW)');
    expect(text).toContain('The remaining 5,000 KRW is now owed. You owe 5,000 KRW in all');
    expect(text).toContain('미납 금액이 되었습니다');
    await redeliverWalletEvents();
    expect(mailsTo(carol, /Payment reversed/)).toHaveLength(1);
    await books();
  });
});
