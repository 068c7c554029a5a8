import { describe, expect, it } from 'vitest';
import { refundMail, resultMail, reversalMail } from './templates.ts';

const base = { displayName: 'Ann', title: 'Thirty kills', channel: 'ch', outcome: 'FAILED', pledged: 30_000, captured: 1_200, refunded: 28_800 };

describe('result mails', () => {
  it('say what the backer chose on failure, in both languages', () => {
    expect(resultMail(base).text).toContain('실패 시 선택: 실패하면 환불');
    expect(resultMail(base).text).toContain('Your choice on failure: refund');
    const donated = resultMail({ ...base, donated: 30_000, captured: 30_000, refunded: 0 });
    expect(donated.text).toContain('실패 시 선택: 실패해도 후원');
    expect(donated.text).toContain('Your choice on failure: give it anyway');
    const mixed = resultMail({ ...base, donated: 10_000 });
    expect(mixed.text).toContain('10,000원은 실패해도 후원, 나머지는 환불');
    expect(mixed.text).toContain('give 10,000 KRW anyway, refund the rest');
  });

  it('name the units reached of a per-unit mission, and escape everything in HTML', () => {
    const m = resultMail({ ...base, title: '<b>30</b> kills', unit: { label: '킬', maxUnits: 30, units: 12 } });
    expect(m.text).toContain('달성: 12 / 30 킬');
    expect(m.text).toContain('Reached: 12 / 30 킬');
    expect(m.html).not.toContain('<b>30</b>');
    expect(resultMail(base).text).not.toContain('달성');
  });
});

describe('refund and reversal mails', () => {
  it('say what went back to the payment method and what to the wallet, in both languages', () => {
    const part = refundMail({ displayName: 'Ann', amount: 10_000, refunded: 6_000, status: 'partially_succeeded' });
    expect(part.subject).toBe('[MissionLink] 환불 일부 완료 / Refund partly completed — 10,000원');
    expect(part.text).toContain('결제 수단으로 환불된 금액: 6,000원');
    expect(part.text).toContain('Back in your wallet: 4,000 KRW');
    expect(refundMail({ displayName: 'Ann', amount: 10_000, refunded: 10_000, status: 'succeeded' }).text).not.toContain('지갑으로 돌아온');
  });

  it('name a dispute, mention what is owed only when something is, and escape everything in HTML', () => {
    const base = { displayName: '<i>Ann</i>', chargeAmount: 10_000, amount: 10_000, fromWallet: 10_000, fromPledges: 0, voidedPledges: 0, owed: 0, owedNow: 0 };
    const plain = reversalMail({ ...base, dispute: false });
    expect(plain.text).toContain('(a cancellation)');
    expect(plain.text).not.toContain('owed');
    expect(plain.html).not.toContain('<i>Ann</i>');
    const dispute = reversalMail({ ...base, dispute: true, fromWallet: 4_000, owed: 6_000, owedNow: 7_000 });
    expect(dispute.text).toContain('분쟁(차지백)으로');
    expect(dispute.text).toContain('The remaining 6,000 KRW is now owed. You owe 7,000 KRW in all');
  });
});
