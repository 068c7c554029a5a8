// Amount inputs group digits as they are typed (web/src/format.ts amountEdit):
// what the field shows, where the caret lands, and that the integer submitted
// (parseAmount) is the one typed.
import { describe, expect, it } from 'vitest';
import { amountEdit, groupedAmountText, parseAmount, signedWon, won } from '../../web/src/format.ts';

/** Types `keys` one by one at the end, as a person would. */
function typeAll(keys: string): string {
  let text = '';
  for (const k of keys) text = amountEdit(text, text + k, text.length + 1, 'insertText').text;
  return text;
}

describe('amountEdit', () => {
  it('shows 10,000 as 1, 0, 0, 0, 0 are typed, and submits 10000', () => {
    const seen: string[] = [];
    let text = '';
    for (const k of '10000') {
      text = amountEdit(text, text + k, text.length + 1, 'insertText').text;
      seen.push(text);
    }
    expect(seen).toEqual(['1', '10', '100', '1,000', '10,000']);
    expect(parseAmount(text)).toBe(10_000);
    expect(typeAll('1234567')).toBe('1,234,567');
  });

  it('drops what is not a digit, leading zeros, and reads full-width digits', () => {
    expect(typeAll('a5b0원0')).toBe('500');
    expect(typeAll('007000')).toBe('7,000');
    expect(typeAll('0')).toBe('0');
    expect(amountEdit('', '３０００').text).toBe('3,000');
    expect(amountEdit('', '').text).toBe('');
    expect(amountEdit('', '26,650원').text).toBe('26,650');
  });

  it('keeps the caret after the digit it followed, across a new separator', () => {
    // "1,000" with the caret after "1"; typing "5" there gives "15000" → "15,000", caret after "5".
    expect(amountEdit('1,000', '15,000', 2, 'insertText')).toEqual({ text: '15,000', caret: 2 });
    // "999" + "9" at the end: "9,999", caret at the end.
    expect(amountEdit('999', '9999', 4, 'insertText')).toEqual({ text: '9,999', caret: 5 });
    // Deleting the "1" of "1,000": "000" → "0", caret at the start.
    expect(amountEdit('1,000', ',000', 0, 'deleteContentBackward')).toEqual({
      text: '0',
      caret: 0,
    });
    // Deleting a digit in the middle of "12,345" (the "3"): "1,245".
    expect(amountEdit('12,345', '12,45', 3, 'deleteContentBackward')).toEqual({
      text: '1,245',
      caret: 3,
    });
  });

  it('Backspace or Delete on a separator deletes the digit beyond it', () => {
    // "10,000" with the caret after the comma; Backspace removes the comma → removes "0" before it.
    expect(amountEdit('10,000', '10000', 2, 'deleteContentBackward')).toEqual({
      text: '1,000',
      caret: 1,
    });
    // Delete with the caret before the comma removes the "0" after it; the caret stays after "10".
    expect(amountEdit('10,000', '10000', 2, 'deleteContentForward')).toEqual({
      text: '1,000',
      caret: 3,
    });
  });

  it('groups a pasted or preset amount for display', () => {
    expect(groupedAmountText('10000')).toBe('10,000');
    expect(groupedAmountText('1000000')).toBe('1,000,000');
    expect(groupedAmountText('10,000')).toBe('10,000');
    expect(parseAmount(groupedAmountText('30000'))).toBe(30_000);
  });
});

describe('won', () => {
  it('writes KRW as each language does, exactly, and reads back what it wrote', () => {
    expect(won(26_650, 'ko')).toBe('26,650원');
    expect(won(26_650, 'en')).toBe('₩26,650');
    expect(signedWon(10_000, 'en')).toBe('+₩10,000');
    expect(signedWon(-3_000, 'en')).toBe('−₩3,000');
    expect(signedWon(-3_000, 'ko')).toBe('−3,000원');
    // Without a language: the page's, Korean by default (and under Node).
    expect(won(1_000)).toBe('1,000원');
    for (const lang of ['ko', 'en'] as const) expect(parseAmount(won(1_234_567, lang))).toBe(1_234_567);
  });
});
