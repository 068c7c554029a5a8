// Korean banks by their 3-digit code (the KFTC codes the payout account
// form takes and withdrawals carry), named the way each language knows them.
import type { Lang } from './i18n.ts';

const BANKS: Record<string, { ko: string; en: string }> = {
  '002': { ko: 'KDB산업은행', en: 'KDB' },
  '003': { ko: 'IBK기업은행', en: 'IBK' },
  '004': { ko: 'KB국민은행', en: 'KB Kookmin' },
  '007': { ko: '수협은행', en: 'Suhyup' },
  '011': { ko: 'NH농협은행', en: 'NH NongHyup' },
  '012': { ko: '지역농·축협', en: 'Local Nonghyup' },
  '020': { ko: '우리은행', en: 'Woori' },
  '023': { ko: 'SC제일은행', en: 'SC First' },
  '027': { ko: '한국씨티은행', en: 'Citibank Korea' },
  '031': { ko: 'iM뱅크(대구)', en: 'iM Bank (Daegu)' },
  '032': { ko: '부산은행', en: 'Busan' },
  '034': { ko: '광주은행', en: 'Gwangju' },
  '035': { ko: '제주은행', en: 'Jeju' },
  '037': { ko: '전북은행', en: 'Jeonbuk' },
  '039': { ko: '경남은행', en: 'Kyongnam' },
  '045': { ko: '새마을금고', en: 'MG Saemaul' },
  '048': { ko: '신협', en: 'Shinhyup' },
  '050': { ko: '저축은행', en: 'Savings bank' },
  '064': { ko: '산림조합', en: 'NFCF' },
  '071': { ko: '우체국', en: 'Korea Post' },
  '081': { ko: '하나은행', en: 'Hana' },
  '088': { ko: '신한은행', en: 'Shinhan' },
  '089': { ko: '케이뱅크', en: 'K bank' },
  '090': { ko: '카카오뱅크', en: 'KakaoBank' },
  '092': { ko: '토스뱅크', en: 'Toss Bank' },
};

/**
 * The bank's name with its code ("KB국민은행 (004)"), or the code alone when
 * it is not a bank we know.
 * @example bankName('088', 'en') // 'Shinhan (088)'
 */
export function bankName(code: string, lang: Lang): string {
  const bank = BANKS[code.trim()];
  return bank ? `${bank[lang]} (${code.trim()})` : code;
}

/** The bank a typed code names, or null (for the form's live hint). */
export function knownBank(code: string, lang: Lang): string | null {
  return BANKS[code.trim()]?.[lang] ?? null;
}
