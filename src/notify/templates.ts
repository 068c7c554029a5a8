export interface ResultMail {
  displayName: string;
  title: string;
  channel: string;
  outcome: string;
  pledged: number;
  captured: number;
  refunded: number;
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
    `후원 금액: ${won(m.pledged)}`,
    `스트리머에게 전달된 금액: ${won(m.captured)}`,
    `환불된 금액: ${won(m.refunded)}`,
  ];
  const en = [
    `Hello ${m.displayName}, here is the result of a mission you backed.`,
    `Mission: ${m.title} (channel ${m.channel})`,
    `Outcome: ${m.outcome}`,
    `You pledged: ${krw(m.pledged)}`,
    `Captured for the streamer: ${krw(m.captured)}`,
    `Refunded to your wallet: ${krw(m.refunded)}`,
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
