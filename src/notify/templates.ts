export interface ResultMail {
  displayName: string;
  title: string;
  channel: string;
  outcome: string;
  pledged: number;
  captured: number;
  refunded: number;
  /** What of `pledged` the backer chose to give even on failure (DONATE); 0 when none. */
  donated?: number;
  /** A per-unit mission's unit and the units reached. */
  unit?: { label: string; maxUnits: number; units: number } | null;
  /** The owner's proof link and note, when the decision carried them. */
  proofUrl?: string | null;
  note?: string | null;
  /** Pledged KRW of the backers who disputed the decision (0 or absent: none). */
  disputedAmount?: number;
  /** True when an admin decided the outcome after a review of the disputes. */
  reviewed?: boolean;
}

const won = (n: number) => `${n.toLocaleString('ko-KR')}원`;
const krw = (n: number) => `${n.toLocaleString('en-US')} KRW`;

const KO_OUTCOME: Record<string, string> = {
  SUCCEEDED: '성공',
  FAILED: '실패',
  REJECTED: '거절됨',
  EXPIRED: '기간 만료',
  CANCELLED: '취소됨',
};

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The result mail of one backer: Korean first, then English; text and HTML. */
export function resultMail(m: ResultMail): { subject: string; text: string; html: string } {
  const subject = `[MissionLink] "${m.title}" — ${m.outcome} (${KO_OUTCOME[m.outcome] ?? m.outcome})`;
  const ko = [
    `${m.displayName}님, 후원하신 미션의 결과입니다.`,
    `미션: ${m.title} (채널 ${m.channel})`,
    `결과: ${KO_OUTCOME[m.outcome] ?? m.outcome}`,
    ...(m.unit ? [`달성: ${m.unit.units} / ${m.unit.maxUnits} ${m.unit.label}`] : []),
    `후원 금액: ${won(m.pledged)}`,
    `실패 시 선택: ${m.donated ? (m.donated === m.pledged ? '실패해도 후원' : `${won(m.donated)}은 실패해도 후원, 나머지는 환불`) : '실패하면 환불'}`,
    `스트리머에게 전달된 금액: ${won(m.captured)}`,
    `환불된 금액: ${won(m.refunded)}`,
    ...(m.proofUrl ? [`증빙: ${m.proofUrl}`] : []),
    ...(m.note ? [`스트리머의 메모: ${m.note}`] : []),
    ...(m.reviewed
      ? [`검토: 후원자들의 이의 제기(${won(m.disputedAmount ?? 0)})로 운영자가 검토한 뒤 결과를 확정했습니다.`]
      : m.disputedAmount
        ? [`이의 제기: ${won(m.disputedAmount)}의 후원이 이의를 제기했으나 검토 기준에 미치지 못했습니다.`]
        : []),
  ];
  const en = [
    `Hello ${m.displayName}, here is the result of a mission you backed.`,
    `Mission: ${m.title} (channel ${m.channel})`,
    `Outcome: ${m.outcome}`,
    ...(m.unit ? [`Reached: ${m.unit.units} / ${m.unit.maxUnits} ${m.unit.label}`] : []),
    `You pledged: ${krw(m.pledged)}`,
    `Your choice on failure: ${m.donated ? (m.donated === m.pledged ? 'give it anyway' : `give ${krw(m.donated)} anyway, refund the rest`) : 'refund'}`,
    `Captured for the streamer: ${krw(m.captured)}`,
    `Refunded to your wallet: ${krw(m.refunded)}`,
    ...(m.proofUrl ? [`Proof: ${m.proofUrl}`] : []),
    ...(m.note ? [`The streamer's note: ${m.note}`] : []),
    ...(m.reviewed
      ? [`Review: backers disputed the decision (${krw(m.disputedAmount ?? 0)}); an operator reviewed it and set this outcome.`]
      : m.disputedAmount
        ? [`Disputes: ${krw(m.disputedAmount)} of pledges disputed the decision, below the review threshold.`]
        : []),
  ];
  const text = `${ko.join('\n')}\n\n---\n\n${en.join('\n')}\n`;
  const block = (lang: string, lines: string[]) =>
    `<section lang="${lang}">${lines.map((l, i) => (i === 0 ? `<p>${escape(l)}</p>` : `<p style="margin:0">${escape(l)}</p>`)).join('')}</section>`;
  const html = `<!doctype html><html lang="ko"><body style="font-family:sans-serif">${block('ko', ko)}<hr>${block('en', en)}</body></html>`;
  return { subject, text, html };
}

export interface VerificationMailContent {
  displayName: string;
  /** Absolute link to the web app's confirmation page, token included. */
  link: string;
  /** How long the link works. */
  validHours: number;
}

/**
 * The mail that verifies an address: Korean first, then English. The link
 * stands alone on its line in the text part (mail clients make it clickable
 * whole), and is the only link in the HTML part.
 */
export function verificationMail(m: VerificationMailContent): { subject: string; text: string; html: string } {
  const subject = '[MissionLink] 이메일 주소를 확인해 주세요 / Verify your email address';
  const ko = [
    `${m.displayName}님, 아래 링크를 열면 이 이메일 주소가 확인됩니다.`,
    m.link,
    `링크는 ${m.validHours}시간 동안 한 번만 쓸 수 있으며, 새 메일을 요청하면 이전 링크는 더 이상 쓸 수 없습니다.`,
    '직접 요청하지 않았다면 이 메일을 무시하세요. 링크를 열지 않으면 아무 일도 일어나지 않습니다.',
  ];
  const en = [
    `Hello ${m.displayName}, open the link below to verify this email address.`,
    m.link,
    `The link works once, for ${m.validHours} hours; asking for a new mail makes this link stop working.`,
    'If you did not ask for this, ignore this mail: nothing happens unless the link is opened.',
  ];
  const text = `${ko.join('\n\n')}\n\n---\n\n${en.join('\n\n')}\n`;
  const block = (lang: string, lines: string[], label: string) =>
    `<section lang="${lang}">${lines
      .map((l) => (l === m.link ? `<p><a href="${escape(m.link)}">${escape(label)}</a></p>` : `<p>${escape(l)}</p>`))
      .join('')}</section>`;
  const html = `<!doctype html><html lang="ko"><body style="font-family:sans-serif">${block('ko', ko, '이메일 주소 확인하기')}<hr>${block('en', en, 'Verify my email address')}</body></html>`;
  return { subject, text, html };
}

export interface WebhookDisabledMailContent {
  displayName: string;
  channel: string;
  url: string;
  /** How long it failed before it was disabled. */
  days: number;
}

/** The mail to a channel owner whose webhook endpoint was disabled after failing for days. */
export function webhookDisabledMail(m: WebhookDisabledMailContent): { subject: string; text: string; html: string } {
  const subject = '[MissionLink] 웹훅이 꺼졌습니다 / A webhook was disabled';
  const ko = [
    `${m.displayName}님, 채널 ${m.channel}의 웹훅 ${m.url} 이(가) ${m.days}일 동안 한 번도 응답하지 않아(2xx 아님) 꺼졌습니다.`,
    '전송 기록은 스튜디오의 "웹훅" 페이지에서 볼 수 있습니다. 받는 쪽을 고친 뒤 그 페이지에서 테스트 전송을 하세요. 테스트가 성공하면 웹훅이 다시 켜집니다.',
  ];
  const en = [
    `Hello ${m.displayName}, the webhook ${m.url} of your channel ${m.channel} was disabled: it did not answer with a 2xx for ${m.days} days.`,
    'Its delivery attempts are on the Studio\'s "Webhooks" page. Once the receiver works again, send a test from that page: a successful test turns the webhook back on.',
  ];
  const text = `${ko.join('\n\n')}\n\n---\n\n${en.join('\n\n')}\n`;
  const block = (lang: string, lines: string[]) => `<section lang="${lang}">${lines.map((l) => `<p>${escape(l)}</p>`).join('')}</section>`;
  const html = `<!doctype html><html lang="ko"><body style="font-family:sans-serif">${block('ko', ko)}<hr>${block('en', en)}</body></html>`;
  return { subject, text, html };
}

export interface RefundMailContent {
  displayName: string;
  /** What the user asked to refund. */
  amount: number;
  /** What the provider gave back to the payment method. */
  refunded: number;
  status: 'succeeded' | 'partially_succeeded' | 'failed';
}

const KO_REFUND: Record<RefundMailContent['status'], string> = { succeeded: '완료', partially_succeeded: '일부 완료', failed: '실패' };
const EN_REFUND: Record<RefundMailContent['status'], string> = { succeeded: 'completed', partially_succeeded: 'partly completed', failed: 'failed' };

/** The mail to a backer whose refund of unused cash was answered by the payment provider. */
export function refundMail(m: RefundMailContent): { subject: string; text: string; html: string } {
  const back = m.amount - m.refunded;
  const subject = `[MissionLink] 환불 ${KO_REFUND[m.status]} / Refund ${EN_REFUND[m.status]} — ${won(m.amount)}`;
  const ko = [
    `${m.displayName}님, 요청하신 환불(${won(m.amount)})이 ${m.status === 'failed' ? '결제사에서 거절되었습니다.' : m.status === 'succeeded' ? '완료되었습니다.' : '일부만 완료되었습니다.'}`,
    `결제 수단으로 환불된 금액: ${won(m.refunded)}`,
    ...(back > 0 ? [`지갑으로 돌아온 금액: ${won(back)} (다시 후원하거나 나중에 다시 환불을 요청할 수 있습니다)`] : []),
    '카드사에 따라 결제 수단에 반영되기까지 며칠이 걸릴 수 있습니다.',
  ];
  const en = [
    `Hello ${m.displayName}, your refund of ${krw(m.amount)} ${m.status === 'failed' ? 'was refused by the payment provider.' : m.status === 'succeeded' ? 'is complete.' : 'went through only in part.'}`,
    `Refunded to your payment method: ${krw(m.refunded)}`,
    ...(back > 0 ? [`Back in your wallet: ${krw(back)} (pledge it, or ask for a refund again later)`] : []),
    'Your card issuer may take a few days to show it.',
  ];
  const text = `${ko.join('\n')}\n\n---\n\n${en.join('\n')}\n`;
  const block = (lang: string, lines: string[]) => `<section lang="${lang}">${lines.map((l) => `<p style="margin:0 0 4px">${escape(l)}</p>`).join('')}</section>`;
  const html = `<!doctype html><html lang="ko"><body style="font-family:sans-serif">${block('ko', ko)}<hr>${block('en', en)}</body></html>`;
  return { subject, text, html };
}

export interface ReversalMailContent {
  displayName: string;
  /** The charge that was reversed, and how much of it. */
  chargeAmount: number;
  amount: number;
  /** Taken from the wallet (available cash, then what voided pledges freed). */
  fromWallet: number;
  fromPledges: number;
  voidedPledges: number;
  /** What this reversal left owed, and what is owed now in all. */
  owed: number;
  owedNow: number;
  /** A dispute (chargeback) rather than a cancellation. */
  dispute: boolean;
}

/** The mail to a backer whose payment the provider reversed (a cancellation made at the provider, a chargeback). */
export function reversalMail(m: ReversalMailContent): { subject: string; text: string; html: string } {
  const subject = `[MissionLink] 결제 취소 반영 / Payment reversed — ${won(m.amount)}`;
  const ko = [
    `${m.displayName}님, 결제사가 ${won(m.chargeAmount)} 결제 중 ${won(m.amount)}을 ${m.dispute ? '분쟁(차지백)으로' : '취소로'} 되돌렸다고 알려 와 지갑에 반영했습니다.`,
    `지갑에서 차감된 금액: ${won(m.fromWallet)}`,
    ...(m.voidedPledges > 0 ? [`이를 위해 결과가 나지 않은 미션의 후원 ${m.voidedPledges}건(${won(m.fromPledges)})이 취소되었습니다.`] : []),
    ...(m.owed > 0 ? [`부족한 ${won(m.owed)}은 미납 금액이 되었습니다. 현재 미납 금액: ${won(m.owedNow)}. 다음 충전에서 먼저 차감됩니다.`] : []),
    '직접 취소하지 않았다면 고객센터로 문의해 주세요.',
  ];
  const en = [
    `Hello ${m.displayName}, the payment provider reversed ${krw(m.amount)} of your ${krw(m.chargeAmount)} payment (${m.dispute ? 'a dispute, or chargeback' : 'a cancellation'}); your wallet reflects it.`,
    `Taken from your wallet: ${krw(m.fromWallet)}`,
    ...(m.voidedPledges > 0 ? [`To cover it, ${m.voidedPledges} pledge(s) on missions not decided yet were cancelled (${krw(m.fromPledges)}).`] : []),
    ...(m.owed > 0 ? [`The remaining ${krw(m.owed)} is now owed. You owe ${krw(m.owedNow)} in all; your next charge pays it back first.`] : []),
    'If you did not cancel this payment, please contact support.',
  ];
  const text = `${ko.join('\n')}\n\n---\n\n${en.join('\n')}\n`;
  const block = (lang: string, lines: string[]) => `<section lang="${lang}">${lines.map((l) => `<p style="margin:0 0 4px">${escape(l)}</p>`).join('')}</section>`;
  const html = `<!doctype html><html lang="ko"><body style="font-family:sans-serif">${block('ko', ko)}<hr>${block('en', en)}</body></html>`;
  return { subject, text, html };
}
