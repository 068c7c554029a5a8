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
