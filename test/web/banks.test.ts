import { describe, expect, it } from 'vitest';
import { bankName, knownBank } from '../../web/src/banks.ts';

describe('bank names', () => {
  it('names a known code in the reader’s language, with the code', () => {
    expect(bankName('004', 'ko')).toBe('KB국민은행 (004)');
    expect(bankName('088', 'en')).toBe('Shinhan (088)');
    expect(knownBank('090 ', 'ko')).toBe('카카오뱅크');
  });

  it('leaves an unknown code as it is', () => {
    expect(bankName('999', 'ko')).toBe('999');
    expect(knownBank('12', 'en')).toBeNull();
  });
});
