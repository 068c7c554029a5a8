// What the server refused, in the reader's language. Every catalogue `code`
// has its own sentence in Korean and English, and every field error is
// worded from its path and the rule it broke ("진행 시간은 최소 1분입니다").
// The server's `title`, `detail` and field `message` are English text for
// developers: they are read here (to know which bound was crossed) but never
// shown. test/web/problems.test.ts walks the server's catalogue and fails
// when a code has no sentence in either language, and drives real refusals
// through the API to check the words.
// No imports: the server's tests load this file too (outside the browser).

const groupDigits = (n: number) => String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const won = (n: number) => `${groupDigits(n)}원`;
const pts = (n: number) => `${groupDigits(n)}P`;
const percentOfBps = (bps: number) => `${Number((bps / 100).toFixed(2))}%`;

export type Lang = 'ko' | 'en';

/** The parts of an RFC 9457 problem this module reads. */
export interface ProblemLike {
  status: number;
  code?: string;
  errors?: { path: string; message: string }[];
}

/** One sentence per catalogue code. */
export const CODE_TEXT: Record<Lang, Record<string, string>> = {
  ko: {
    VALIDATION_FAILED: '입력값을 확인해 주세요.',
    MALFORMED_JSON: '요청을 읽을 수 없습니다. 페이지를 새로고침한 뒤 다시 시도해 주세요.',
    UNAUTHENTICATED: '로그인이 필요합니다. 다시 로그인해 주세요.',
    INVALID_CREDENTIALS: '이메일 또는 비밀번호가 맞지 않습니다.',
    INVALID_REFRESH_TOKEN: '로그인이 만료되었습니다. 다시 로그인해 주세요.',
    INVALID_TOKEN:
      '이 링크로는 확인할 수 없습니다. 이미 쓴 링크이거나, 더 새 링크로 바뀌었거나, 24시간이 지났습니다.',
    INVALID_SIGNATURE: '서명이 맞지 않아 요청을 받아들이지 않았습니다.',
    INSUFFICIENT_FUNDS: '사용할 수 있는 잔액이 부족합니다. 지갑을 먼저 충전해 주세요.',
    INSUFFICIENT_POINTS: '포인트가 부족합니다.',
    FORBIDDEN: '이 작업을 할 권한이 없습니다.',
    NOT_FOUND: '찾을 수 없습니다. 주소가 바뀌었거나 삭제되었을 수 있습니다.',
    METHOD_NOT_ALLOWED: '이 주소에서는 할 수 없는 요청입니다.',
    EMAIL_TAKEN: '이미 가입된 이메일입니다. 로그인해 주세요.',
    HANDLE_TAKEN: '이미 쓰이는 핸들입니다. 다른 핸들을 골라 주세요.',
    ALREADY_STREAMER: '이미 채널이 있습니다.',
    ALREADY_CLAIMED: '오늘의 포인트를 이미 받았습니다. 한국 시간 자정에 다시 받을 수 있습니다.',
    MISSION_NOT_OPEN: '이 미션은 지금 후원을 받지 않습니다.',
    MISSION_NOT_PROPOSED: '수락을 기다리는 미션이 아닙니다.',
    MISSION_NOT_ACTIVE: '진행 중인 미션이 아닙니다.',
    MISSION_ALREADY_DECIDED: '이미 결과가 정해진 미션입니다.',
    MISSION_ALREADY_ENDED: '이미 끝난 미션입니다.',
    ACCEPT_WINDOW_CLOSED: '수락 기한이 지나 이 제안은 만료됩니다.',
    DEADLINE_PASSED: '마감 시간이 지나 이 미션은 만료됩니다.',
    SIDE_ALREADY_CHOSEN: '이미 다른 쪽에 예측했습니다. 같은 쪽에만 더 걸 수 있습니다.',
    PREDICTION_LOCKED: '예측이 마감되었습니다.',
    REQUEST_IN_PROGRESS: '같은 요청을 처리하는 중입니다. 잠시 후 결과를 확인해 주세요.',
    PAYLOAD_TOO_LARGE: '보낸 내용이 너무 큽니다.',
    UNSUPPORTED_MEDIA_TYPE: '지원하지 않는 형식의 요청입니다.',
    IDEMPOTENCY_KEY_REUSED: '이미 처리한 요청과 내용이 다릅니다. 페이지를 새로고침한 뒤 다시 시도해 주세요.',
    RATE_LIMITED: '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.',
    INTERNAL: '서버에서 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.',
    UNAVAILABLE: '서비스를 잠시 쓸 수 없습니다. 잠시 후 다시 시도해 주세요.',
    SELF_EXCLUDED: '자기 배제 기간이라 충전, 제안, 후원, 예측을 할 수 없습니다.',
    BLOCKED_BY_CHANNEL: '이 채널에서 차단되어 제안, 후원, 예측을 할 수 없습니다.',
    SPENDING_LIMIT_REACHED:
      '지출 한도에 걸렸습니다. 오늘(또는 이번 달, 한국 시간) 제안·후원한 금액이 내가 정한 한도를 넘게 됩니다. 지갑 페이지의 지출 한도를 확인해 주세요.',
    PROGRESS_NOT_MONOTONIC: '진행은 줄일 수 없습니다. 이미 보고한 수 이상을 입력해 주세요.',
    PAYOUT_ACCOUNT_MISSING: '먼저 입금 계좌를 등록해 주세요.',
    PAYOUT_ACCOUNT_INVALID: '결제사가 이 계좌를 확인하지 못했습니다. 은행 코드와 계좌번호를 확인해 주세요.',
    WITHDRAWAL_NOT_REQUESTED: '검토를 기다리는 출금이 아닙니다. 이미 처리되었을 수 있습니다.',
    WEBHOOK_URL_NOT_ALLOWED: '이 주소로는 웹훅을 보낼 수 없습니다. 공개된 https:// 주소를 쓰세요.',
    NOT_A_BACKER: '이 미션을 후원한 사람만 할 수 있습니다.',
    MISSION_NOT_CONFIRMING: '이의 제기 기간이 아닙니다. 이미 결과가 확정되었을 수 있습니다.',
    ALREADY_DISPUTED: '이미 이 미션에 이의를 제기했습니다.',
    MISSION_NOT_IN_REVIEW: '검토를 기다리는 미션이 아닙니다.',
  },
  en: {
    VALIDATION_FAILED: 'Please check what you entered.',
    MALFORMED_JSON: 'The request could not be read. Reload the page and try again.',
    UNAUTHENTICATED: 'You need to sign in. Please sign in again.',
    INVALID_CREDENTIALS: 'Wrong email or password.',
    INVALID_REFRESH_TOKEN: 'Your sign-in has expired. Please sign in again.',
    INVALID_TOKEN:
      'This link cannot verify anything: it was used already, replaced by a newer one, or is older than 24 hours.',
    INVALID_SIGNATURE: 'The signature does not match, so the request was refused.',
    INSUFFICIENT_FUNDS: 'Not enough available money. Charge your wallet first.',
    INSUFFICIENT_POINTS: 'Not enough points.',
    FORBIDDEN: 'You are not allowed to do that.',
    NOT_FOUND: 'Not found. It may have moved or been removed.',
    METHOD_NOT_ALLOWED: 'That request cannot be made at this address.',
    EMAIL_TAKEN: 'That email is already registered. Please sign in.',
    HANDLE_TAKEN: 'That handle is taken. Please pick another one.',
    ALREADY_STREAMER: 'You already have a channel.',
    ALREADY_CLAIMED: 'You already claimed today’s points. Claim again after midnight in Korea (KST).',
    MISSION_NOT_OPEN: 'This mission does not take pledges now.',
    MISSION_NOT_PROPOSED: 'This mission is not waiting for acceptance.',
    MISSION_NOT_ACTIVE: 'This mission is not in progress.',
    MISSION_ALREADY_DECIDED: 'This mission is already decided.',
    MISSION_ALREADY_ENDED: 'This mission has already ended.',
    ACCEPT_WINDOW_CLOSED: 'The accept window has closed; this proposal expires.',
    DEADLINE_PASSED: 'The deadline has passed; this mission expires.',
    SIDE_ALREADY_CHOSEN: 'You already bet on the other side. You can only add to your side.',
    PREDICTION_LOCKED: 'Betting is closed.',
    REQUEST_IN_PROGRESS: 'The same request is still being processed. Check the result in a moment.',
    PAYLOAD_TOO_LARGE: 'What you sent is too large.',
    UNSUPPORTED_MEDIA_TYPE: 'That kind of request is not supported.',
    IDEMPOTENCY_KEY_REUSED: 'This differs from a request already handled. Reload the page and try again.',
    RATE_LIMITED: 'Too many requests. Please wait a moment.',
    INTERNAL: 'Something went wrong on our side. Please try again in a moment.',
    UNAVAILABLE: 'The service is briefly unavailable. Please try again in a moment.',
    SELF_EXCLUDED: 'You are self-excluded: charging, proposing, pledging and betting are off until it ends.',
    BLOCKED_BY_CHANNEL: 'This channel has blocked you from proposing, pledging and betting.',
    SPENDING_LIMIT_REACHED:
      'Spending limit reached: this would take what you proposed and pledged today (or this month, Korean time) over the limit you set. See Spending limits on the Wallet page.',
    PROGRESS_NOT_MONOTONIC: 'Progress cannot go down. Enter at least the count already reported.',
    PAYOUT_ACCOUNT_MISSING: 'Register your bank account first.',
    PAYOUT_ACCOUNT_INVALID: 'The payment provider could not verify this account. Check the bank code and account number.',
    WITHDRAWAL_NOT_REQUESTED: 'This withdrawal is not waiting for review; it may have been handled already.',
    WEBHOOK_URL_NOT_ALLOWED: 'Webhooks cannot be sent to this address. Use a public https:// address.',
    NOT_A_BACKER: 'Only backers of this mission can do that.',
    MISSION_NOT_CONFIRMING: 'The dispute window is not open; the outcome may be final already.',
    ALREADY_DISPUTED: 'You already disputed this mission.',
    MISSION_NOT_IN_REVIEW: 'This mission is not waiting for a review.',
  },
};

/** When the answer has no code (or one this app does not know yet). */
export const GENERIC_TEXT: Record<Lang, string> = {
  ko: '요청을 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.',
  en: 'The request could not be completed. Please try again in a moment.',
};

// ---- fields -----------------------------------------------------------------

/** How a field's bound reads: money, points, a duration, characters, a share… */
type Kind = 'won' | 'points' | 'seconds' | 'chars' | 'bps' | 'count' | 'plain';

/** Field names (the last part of a path) with their words and the kind of their value. */
export const FIELDS: Record<string, { ko: string; en: string; kind: Kind }> = {
  amount: { ko: '금액', en: 'The amount', kind: 'won' },
  points: { ko: '포인트', en: 'The points', kind: 'points' },
  durationSeconds: { ko: '진행 시간', en: 'The duration', kind: 'seconds' },
  acceptWindowSeconds: { ko: '수락 기한', en: 'The accept window', kind: 'seconds' },
  missionMinAmount: { ko: '미션 최소 금액', en: 'The minimum mission amount', kind: 'won' },
  missionMaxAmount: { ko: '미션 최대 금액', en: 'The maximum mission amount', kind: 'won' },
  failureKeepBps: { ko: '실패 시 스트리머 몫', en: 'The share kept on failure', kind: 'bps' },
  title: { ko: '제목', en: 'The title', kind: 'chars' },
  description: { ko: '설명', en: 'The description', kind: 'chars' },
  message: { ko: '메시지', en: 'The message', kind: 'chars' },
  displayName: { ko: '이름', en: 'The name', kind: 'chars' },
  handle: { ko: '채널 핸들', en: 'The channel handle', kind: 'chars' },
  email: { ko: '이메일', en: 'The email', kind: 'chars' },
  password: { ko: '비밀번호', en: 'The password', kind: 'chars' },
  side: { ko: '예측 방향', en: 'The side', kind: 'plain' },
  outcome: { ko: '결과', en: 'The outcome', kind: 'plain' },
  token: { ko: '확인 코드', en: 'The code', kind: 'chars' },
  q: { ko: '검색어', en: 'The search', kind: 'chars' },
  limit: { ko: '한 번에 볼 개수', en: 'The page size', kind: 'count' },
  cursor: { ko: '목록 위치', en: 'The list position', kind: 'plain' },
  'Idempotency-Key': { ko: '요청 키', en: 'The request key', kind: 'chars' },
  settings: { ko: '채널 설정', en: 'The channel settings', kind: 'plain' },
  state: { ko: '미션 상태', en: 'The mission state', kind: 'plain' },
  ended: { ko: '끝난 미션만 보기', en: 'The ended filter', kind: 'plain' },
  refreshToken: { ko: '로그인 정보', en: 'The sign-in token', kind: 'chars' },
  lastEventId: { ko: '실시간 이벤트 위치', en: 'The live event position', kind: 'count' },
  // The payment provider's callback (no form sends these; for completeness).
  eventId: { ko: '결제 이벤트', en: 'The payment event', kind: 'chars' },
  chargeId: { ko: '충전 번호', en: 'The charge', kind: 'chars' },
  status: { ko: '결제 상태', en: 'The payment status', kind: 'plain' },
  // Pledge terms, per-unit missions and moderation.
  onFailure: { ko: '실패 시 선택', en: 'The choice on failure', kind: 'plain' },
  unit: { ko: '단위', en: 'The unit', kind: 'plain' },
  label: { ko: '단위 이름', en: 'The unit name', kind: 'chars' },
  maxUnits: { ko: '최대 단위 수', en: 'The maximum units', kind: 'count' },
  units: { ko: '진행 수', en: 'The progress', kind: 'count' },
  blockedWords: { ko: '금칙어', en: 'The blocked words', kind: 'plain' },
  userId: { ko: '사용자', en: 'The user', kind: 'plain' },
  // Spending guardrails.
  dailyPledgeLimit: { ko: '하루 지출 한도', en: 'The daily limit', kind: 'won' },
  monthlyPledgeLimit: { ko: '한 달 지출 한도', en: 'The monthly limit', kind: 'won' },
  days: { ko: '이용 중지 기간(일)', en: 'The number of days', kind: 'count' },
  // Withdrawals.
  bankCode: { ko: '은행 코드', en: 'The bank code', kind: 'chars' },
  accountNumber: { ko: '계좌번호', en: 'The account number', kind: 'chars' },
  holderName: { ko: '예금주', en: 'The account holder', kind: 'chars' },
  reason: { ko: '사유', en: 'The reason', kind: 'chars' },
  // Disputes.
  disputeWindowSeconds: { ko: '이의 제기 기간', en: 'The dispute window', kind: 'seconds' },
  disputeThresholdBps: { ko: '검토 기준', en: 'The review threshold', kind: 'bps' },
  proofUrl: { ko: '증거 링크', en: 'The proof link', kind: 'chars' },
  note: { ko: '메모', en: 'The note', kind: 'chars' },
  // Webhooks.
  url: { ko: '주소', en: 'The address', kind: 'chars' },
  events: { ko: '받을 이벤트', en: 'The events', kind: 'plain' },
};

/** The rule a field broke, read from the server's (English, developer) message. */
export type FieldRule =
  | { rule: 'required' }
  | { rule: 'unknown' }
  | { rule: 'integer' }
  | { rule: 'min'; limit: number }
  | { rule: 'max'; limit: number }
  | { rule: 'between'; min: number; max: number }
  | { rule: 'notAboveMax' }
  | { rule: 'text' }
  | { rule: 'format' }
  | { rule: 'choice' }
  | { rule: 'invalid' };

/**
 * Reads a field error's rule and bound from its message, as the server words
 * them (zod's defaults and the project's own schemas).
 * @example fieldRule('Too small: expected number to be >=60') // { rule: 'min', limit: 60 }
 */
export function fieldRule(message: string): FieldRule {
  const m = message.trim();
  let r: RegExpExecArray | null;
  if (/^unknown field$/i.test(m)) return { rule: 'unknown' };
  if (/received undefined|^required$/i.test(m)) return { rule: 'required' };
  if (/must not be empty/i.test(m)) return { rule: 'min', limit: 1 };
  if ((r = /between (-?\d+) and (-?\d+)/i.exec(m))) return { rule: 'between', min: Number(r[1]), max: Number(r[2]) };
  if (/must not exceed missionMaxAmount/.test(m)) return { rule: 'notAboveMax' };
  if ((r = /(?:at least|>=)\s*(-?\d+)/i.exec(m))) return { rule: 'min', limit: Number(r[1]) };
  if ((r = /(?:at most|<=)\s*(-?\d+)/i.exec(m))) return { rule: 'max', limit: Number(r[1]) };
  if ((r = /too small[^>]*>\s*(-?\d+)/i.exec(m))) return { rule: 'min', limit: Number(r[1]) + 1 };
  if ((r = /too big[^<]*<\s*(-?\d+)/i.exec(m))) return { rule: 'max', limit: Number(r[1]) - 1 };
  if (/integer|expected (?:int|number)\b/i.test(m)) return { rule: 'integer' };
  if (/single line|control character|bidi|invisible|well-formed|unicode/i.test(m)) return { rule: 'text' };
  if (/invalid option|expected one of|must be (?:SUCCEEDED|one of)/i.test(m)) return { rule: 'choice' };
  if (/email|must be an id|characters of|invalid (?:string|format)|printable ascii|cursor/i.test(m)) return { rule: 'format' };
  if (/expected \w+/i.test(m)) return { rule: 'invalid' };
  return { rule: 'invalid' };
}

function durationText(seconds: number, lang: Lang): string {
  const units: [number, string, string][] = [
    [86400, '일', 'd'],
    [3600, '시간', 'h'],
    [60, '분', 'min'],
    [1, '초', 's'],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.trunc(seconds));
  for (const [size, ko, en] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(lang === 'ko' ? `${n}${ko}` : `${n} ${en}`);
    rest -= n * size;
  }
  if (parts.length === 0) return lang === 'ko' ? '0초' : '0 s';
  return parts.join(' ');
}

function bound(n: number, kind: Kind, lang: Lang): string {
  switch (kind) {
    case 'won':
      return lang === 'ko' ? won(n) : `${groupDigits(n)} KRW`;
    case 'points':
      return pts(n);
    case 'seconds':
      return durationText(n, lang);
    case 'chars':
      return lang === 'ko' ? `${groupDigits(n)}자` : `${groupDigits(n)} characters`;
    case 'bps':
      return percentOfBps(n);
    default:
      return groupDigits(n);
  }
}

/** The topic particle a Korean noun takes: 은 after a final consonant, else 는. */
export function topic(noun: string): string {
  const last = noun.charCodeAt(noun.length - 1);
  if (last >= 0xac00 && last <= 0xd7a3) return (last - 0xac00) % 28 === 0 ? `${noun}는` : `${noun}은`;
  return `${noun}은(는)`;
}

/**
 * One field error as a sentence in the reader's language.
 * @example fieldSentence({ path: 'durationSeconds', message: 'Too small: expected number to be >=60' }, 'ko') // '진행 시간은 최소 1분입니다.'
 */
export function fieldSentence(error: { path: string; message: string }, lang: Lang): string {
  const name = error.path.split('.').at(-1) ?? '';
  const field = FIELDS[name];
  const ko = field?.ko ?? '입력값';
  const en = field?.en ?? 'A value';
  const kind: Kind = field?.kind ?? 'count';
  const r = fieldRule(error.message);
  const b = (n: number) => bound(n, kind, lang);
  if (lang === 'ko') {
    switch (r.rule) {
      case 'required':
        return `${ko}: 꼭 입력해 주세요.`;
      case 'unknown':
        return '앱이 알 수 없는 항목을 보냈습니다. 페이지를 새로고침해 주세요.';
      case 'integer':
        return `${topic(ko)} 소수점 없는 숫자로 입력해 주세요.`;
      case 'min':
        if (kind === 'chars' && r.limit === 1) return `${ko}: 꼭 입력해 주세요.`;
        return `${topic(ko)} 최소 ${b(r.limit)}입니다.`;
      case 'max':
        return `${topic(ko)} 최대 ${b(r.limit)}입니다.`;
      case 'between':
        return `${topic(ko)} ${b(r.min)}에서 ${b(r.max)} 사이여야 합니다.`;
      case 'notAboveMax':
        return '미션 최소 금액은 최대 금액보다 클 수 없습니다.';
      case 'text':
        return `${ko}에 쓸 수 없는 문자(줄바꿈, 제어 문자, 보이지 않는 문자 등)가 있습니다.`;
      case 'format':
        return name === 'handle'
          ? '채널 핸들은 영문 소문자, 숫자, 밑줄로 3–24자입니다.'
          : `${ko} 형식이 올바르지 않습니다.`;
      case 'choice':
        return `${ko}: 주어진 선택지 중에서 골라 주세요.`;
      default:
        return `${ko}: 값을 확인해 주세요.`;
    }
  }
  switch (r.rule) {
    case 'required':
      return `${en} is required.`;
    case 'unknown':
      return 'The app sent something the server does not know. Please reload the page.';
    case 'integer':
      return `${en} must be a whole number.`;
    case 'min':
      if (kind === 'chars' && r.limit === 1) return `${en} is required.`;
      return `${en} must be at least ${b(r.limit)}.`;
    case 'max':
      return `${en} must be at most ${b(r.limit)}.`;
    case 'between':
      return `${en} must be between ${b(r.min)} and ${b(r.max)}.`;
    case 'notAboveMax':
      return 'The minimum mission amount cannot exceed the maximum.';
    case 'text':
      return `${en} contains characters that cannot be used (line breaks, control or invisible characters).`;
    case 'format':
      return name === 'handle'
        ? 'A channel handle is 3–24 characters of a–z, 0–9 and _.'
        : `${en} is not in the right format.`;
    case 'choice':
      return `${en}: please pick one of the choices.`;
    default:
      return `${en}: please check the value.`;
  }
}

/**
 * A problem in the reader's language: a headline for its code and one
 * sentence per offending field. Never the server's own words.
 * @example describeProblem({ status: 402, code: 'INSUFFICIENT_FUNDS' }, 'ko').headline
 */
export function describeProblem(problem: ProblemLike, lang: Lang): { headline: string; fields: string[] } {
  const headline =
    (problem.code && CODE_TEXT[lang][problem.code]) ||
    (problem.status === 404 ? CODE_TEXT[lang].NOT_FOUND! : undefined) ||
    (problem.status === 429 ? CODE_TEXT[lang].RATE_LIMITED! : undefined) ||
    (problem.status >= 500 ? CODE_TEXT[lang].INTERNAL! : undefined) ||
    GENERIC_TEXT[lang];
  const fields = [...new Set((problem.errors ?? []).map((e) => fieldSentence(e, lang)))];
  return { headline, fields };
}
