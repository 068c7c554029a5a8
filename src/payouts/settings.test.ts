import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../platform/config.ts';

describe('withdrawal settings', () => {
  it('default as API.md says', () => {
    const c = loadConfig({});
    expect([c.WITHDRAWAL_MIN_KRW, c.WITHDRAWAL_FEE_KRW, c.WITHDRAWAL_REVIEW_ABOVE_KRW]).toEqual([10_000, 0, 1_000_000]);
  });

  it('take whole numbers and refuse a fee that would leave nothing to pay out', () => {
    const c = loadConfig({ WITHDRAWAL_MIN_KRW: '5000', WITHDRAWAL_FEE_KRW: '500', WITHDRAWAL_REVIEW_ABOVE_KRW: '0' });
    expect([c.WITHDRAWAL_MIN_KRW, c.WITHDRAWAL_FEE_KRW, c.WITHDRAWAL_REVIEW_ABOVE_KRW]).toEqual([5_000, 500, 0]);
    for (const env of [{ WITHDRAWAL_MIN_KRW: '0' }, { WITHDRAWAL_MIN_KRW: '1.5' }, { WITHDRAWAL_FEE_KRW: '-1' }, { WITHDRAWAL_REVIEW_ABOVE_KRW: 'lots' }]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
    }
    expect(() => loadConfig({ WITHDRAWAL_MIN_KRW: '1000', WITHDRAWAL_FEE_KRW: '1000' })).toThrow(/WITHDRAWAL_FEE_KRW/);
  });

  it('PAYOUT_PROVIDER: sandbox by default; portone needs the API secret and the platform contract', () => {
    expect(loadConfig({}).PAYOUT_PROVIDER).toBe('sandbox');
    expect(() => loadConfig({ PAYOUT_PROVIDER: 'portone' })).toThrow(/PORTONE_API_SECRET.*\n.*PORTONE_PLATFORM_CONTRACT_ID/s);
    expect(() => loadConfig({ PAYOUT_PROVIDER: 'portone', PORTONE_API_SECRET: 's' })).toThrow(/PORTONE_PLATFORM_CONTRACT_ID: is required when PAYOUT_PROVIDER=portone/);
    expect(() => loadConfig({ PAYOUT_PROVIDER: 'paypal' })).toThrow(ConfigError);
    expect(loadConfig({ PAYOUT_PROVIDER: 'portone', PORTONE_API_SECRET: 's', PORTONE_PLATFORM_CONTRACT_ID: 'c' }).PAYOUT_PROVIDER).toBe('portone');
  });
});
