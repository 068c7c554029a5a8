// Properties of the arithmetic rules, with fast-check: the retry schedule the
// contract asks for (first retry within 30 s, retries for at least 24 h,
// capped backoff), and the address rule (an IPv4-mapped IPv6 address is
// judged as its IPv4 address; nothing in a refused range ever passes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPublicAddress } from './egress.ts';
import { RETRY_DEFAULTS, retryDelayMs } from './worker.ts';

const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('the retry schedule', () => {
  it('retries first within 30 s, then waits longer each time, never more than the cap (+ jitter)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), random, random, (attempt, r1, r2) => {
        const d = retryDelayMs(attempt, RETRY_DEFAULTS, r1);
        expect(d).toBeGreaterThan(0);
        expect(d).toBeLessThanOrEqual(RETRY_DEFAULTS.retryCapMs * 1.2);
        if (attempt === 1) expect(d).toBeLessThan(30_000);
        // Without jitter, the schedule never shrinks.
        expect(retryDelayMs(attempt + 1, RETRY_DEFAULTS, 0.5)).toBeGreaterThanOrEqual(retryDelayMs(attempt, RETRY_DEFAULTS, 0.5));
        // Jitter stays within ±20 % of the plain delay.
        const plain = retryDelayMs(attempt, RETRY_DEFAULTS, 0.5);
        expect(Math.abs(retryDelayMs(attempt, RETRY_DEFAULTS, r2) - plain)).toBeLessThanOrEqual(plain * 0.2 + 1e-6);
      }),
    );
  });

  it('keeps retrying for at least 24 hours, however the jitter falls, and the give-up is at least 24 h', () => {
    expect(RETRY_DEFAULTS.giveUpMs).toBeGreaterThanOrEqual(24 * 3_600_000);
    fc.assert(
      fc.property(fc.array(random, { minLength: 400, maxLength: 400 }), (jitter) => {
        // Attempt times until the give-up: the last one is at least 24 h after the first.
        let at = 0;
        let attempt = 1;
        while (at + retryDelayMs(attempt, RETRY_DEFAULTS, jitter[attempt]!) < RETRY_DEFAULTS.giveUpMs) at += retryDelayMs(attempt, RETRY_DEFAULTS, jitter[attempt++]!);
        expect(at).toBeGreaterThanOrEqual(24 * 3_600_000);
        // …with no gap longer than the cap (plus jitter).
        expect(attempt).toBeGreaterThan(24);
      }),
    );
  });
});

const octet = fc.integer({ min: 0, max: 255 });
const v4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));

describe('the address rule', () => {
  it('judges an IPv4-mapped IPv6 address as its IPv4 address', () => {
    fc.assert(
      fc.property(v4, (a) => {
        expect(isPublicAddress(`::ffff:${a}`), a).toBe(isPublicAddress(a));
      }),
    );
  });

  it('never passes an address in a private, loopback, link-local, CGNAT, multicast or reserved range', () => {
    const refused = fc.oneof(
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `10.${b}.${c}.${d}`),
      fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([b, c, d]) => `172.${b}.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `192.168.${c}.${d}`),
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `127.${b}.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `169.254.${c}.${d}`),
      fc.tuple(fc.integer({ min: 64, max: 127 }), octet, octet).map(([b, c, d]) => `100.${b}.${c}.${d}`),
      fc.tuple(fc.integer({ min: 224, max: 255 }), octet, octet, octet).map((o) => o.join('.')),
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `0.${b}.${c}.${d}`),
    );
    fc.assert(
      fc.property(refused, (a) => {
        expect(isPublicAddress(a), a).toBe(false);
        expect(isPublicAddress(`::ffff:${a}`), a).toBe(false);
      }),
    );
  });
});
