// Bad input on the wallet routes: every refusal is a precise problem+json with
// its catalogue code, and moves no money (wallets, ledger rows and charges are
// unchanged; the books verify). Also webhook forgery and replays, the daily
// points claim, pagination, and random bodies that must never cause a 5xx.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks as verifyLedger } from '../missions/index.ts'; // the ledger's checks and the pledge book's
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import {
  anyValue,
  BAD_AMOUNTS_JSON,
  bodyFor,
  expectNoMoneyMoved,
  expectProblem,
  INTEGRAL_NOTATIONS,
  raw,
} from '../../test/support/bad-input.ts';
import { signWebhook, SIGNATURE_HEADER } from './provider.ts';
import { kstDay, nextKstMidnight } from './service.ts';

const SECRET = 'test-webhook-secret-0123456789'; // what createTestApp configures

let t: TestApp;
let api: ReturnType<typeof client>;
let alice: Caller;
let bob: Caller;

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [alice, bob] = await Promise.all([api.signUp('Alice'), api.signUp('Bob')]);
  await api.charge(alice, 50_000);
});
afterAll(async () => t?.close());

const charge = (who: Caller | null, body: unknown, headers: Record<string, string> = {}) =>
  raw(t, 'POST', '/api/v1/wallet/charges', who, body, headers);

describe('charges', () => {
  it('refuses every amount that is not a positive safe integer within 1,000–1,000,000', async () => {
    await expectNoMoneyMoved(t, [alice, bob], async () => {
      for (const amount of [...BAD_AMOUNTS_JSON, '999', '1', '1000001', '10000000']) {
        expectProblem(
          await charge(alice, `{"amount": ${amount}}`),
          400,
          'VALIDATION_FAILED',
          'amount',
        );
      }
    });
  });

  it('accepts integral amounts in any JSON number notation, as their integer value', async () => {
    for (const [text, value] of INTEGRAL_NOTATIONS) {
      const before = await api.wallet(bob);
      const res = await charge(bob, `{"amount": ${text}}`);
      expect(res.status, res.text).toBe(201);
      expect(res.body.charge).toMatchObject({ amount: value, status: 'succeeded' });
      expect(await api.wallet(bob)).toMatchObject({ available: before.available + value, held: 0 });
    }
    expect((await verifyLedger(t.db.pools.funding)).ok).toBe(true);
  });

  it('refuses bodies that are not the documented object', async () => {
    await expectNoMoneyMoved(t, [alice, bob], async () => {
      expectProblem(
        await charge(alice, { amount: 1000, currency: 'KRW' }),
        400,
        'VALIDATION_FAILED',
        'currency',
      );
      expectProblem(await charge(alice, {}), 400, 'VALIDATION_FAILED', 'amount');
      expectProblem(await charge(alice, undefined), 400, 'VALIDATION_FAILED');
      for (const body of ['null', '[]', '[{"amount":1000}]', '"amount"', '1000', 'true']) {
        expectProblem(await charge(alice, body), 400, 'VALIDATION_FAILED');
      }
      expectProblem(await charge(alice, '{"amount": 1000'), 400, 'MALFORMED_JSON');
      // A duplicated key: JSON.parse keeps the last one, which is invalid here.
      expectProblem(
        await charge(alice, '{"amount": 1000, "amount": "x"}'),
        400,
        'VALIDATION_FAILED',
      );
      const text = await t.ml.http.inject({
        method: 'POST',
        url: '/api/v1/wallet/charges',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'text/plain' },
        payload: 'amount=1000',
      });
      expect(text.statusCode).toBe(415);
      expect(text.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const big = await charge(alice, JSON.stringify({ amount: 1000, pad: 'x'.repeat(70_000) }));
      expectProblem(big, 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  it('refuses a caller without a valid token (401) and moves nothing', async () => {
    await expectNoMoneyMoved(t, [alice, bob], async () => {
      expectProblem(await charge(null, { amount: 1000 }), 401, 'UNAUTHENTICATED');
      expectProblem(
        await charge({ ...alice, token: `${alice.token}x` }, { amount: 1000 }),
        401,
        'UNAUTHENTICATED',
      );
      expectProblem(
        await charge({ ...alice, token: 'not-a-jwt' }, { amount: 1000 }),
        401,
        'UNAUTHENTICATED',
      );
    });
  });

  it('refuses an invalid Idempotency-Key header (400) before charging', async () => {
    await expectNoMoneyMoved(t, [alice, bob], async () => {
      for (const key of ['', 'k'.repeat(256), 'tab\there', 'del\u007f', 'new\nline']) {
        let res;
        try {
          res = await charge(alice, { amount: 1000 }, { 'idempotency-key': key });
        } catch {
          continue; // the HTTP layer itself refuses to send such a header
        }
        expectProblem(res, 400, 'VALIDATION_FAILED', 'Idempotency-Key');
      }
      const utf8 = await t.ml.http.inject({
        method: 'POST',
        url: '/api/v1/wallet/charges',
        headers: {
          authorization: `Bearer ${alice.token}`,
          'content-type': 'application/json',
          'idempotency-key': Buffer.from('키', 'utf8').toString('latin1'),
        },
        payload: '{"amount":1000}',
      });
      expect(utf8.statusCode).toBe(400);
      expect(utf8.json().code).toBe('VALIDATION_FAILED');
    });
  });

  it('replays the same key and body, refuses the same key with another body, keeps keys per user', async () => {
    const h = { 'idempotency-key': 'charge-once' };
    const w0 = await api.wallet(alice);
    const first = await charge(alice, { amount: 2_000 }, h);
    expect(first.status).toBe(201);
    const again = await charge(alice, { amount: 2_000 }, h);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await api.wallet(alice)).toMatchObject({ available: w0.available + 2_000 });
    await expectNoMoneyMoved(t, [alice, bob], async () => {
      expectProblem(await charge(alice, { amount: 3_000 }, h), 422, 'IDEMPOTENCY_KEY_REUSED');
      // An invalid body is a 400 whatever the key.
      expectProblem(await charge(alice, { amount: 5 }, h), 400, 'VALIDATION_FAILED', 'amount');
    });
    // Bob's key of the same name is his own.
    const bobs = await charge(bob, { amount: 3_000 }, h);
    expect(bobs.status).toBe(201);
    expect(bobs.headers['idempotent-replayed']).toBeUndefined();
    expect(bobs.body.charge.id).not.toBe(first.body.charge.id);
    expect((await verifyLedger(t.db.pools.funding)).ok).toBe(true);
  });
});

describe('payment webhook', () => {
  /** A charge left pending, as if the provider had not called back yet. */
  async function pendingCharge(who: Caller, amount: number): Promise<string> {
    const id = crypto.randomUUID();
    await t.db.pools.funding.query(
      `INSERT INTO charges (id, user_id, amount, status, provider) VALUES ($1, $2, $3, 'pending', 'sandbox')`,
      [id, who.id, amount],
    );
    return id;
  }
  const post = (body: string, signature?: string) =>
    t.ml.http.inject({
      method: 'POST',
      url: '/api/v1/payments/webhook',
      headers: {
        'content-type': 'application/json',
        ...(signature ? { [SIGNATURE_HEADER]: signature } : {}),
      },
      payload: body,
    });
  const answer = (
    r: Awaited<ReturnType<typeof post>>,
  ): import('../../test/support/bad-input.ts').RawAnswer => {
    let body: unknown;
    try {
      body = r.json();
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, body, text: r.payload, headers: r.headers };
  };

  it('refuses forged, stale or missing signatures (401 INVALID_SIGNATURE) and credits nothing', async () => {
    const chargeId = await pendingCharge(bob, 7_000);
    const event = JSON.stringify({
      eventId: `evt_forged_${chargeId}`,
      chargeId,
      status: 'succeeded',
      amount: 7_000,
    });
    await expectNoMoneyMoved(t, [alice, bob], async () => {
      expectProblem(answer(await post(event)), 401, 'INVALID_SIGNATURE');
      expectProblem(
        answer(await post(event, signWebhook('the-wrong-secret-0123456789', event))),
        401,
        'INVALID_SIGNATURE',
      );
      expectProblem(
        answer(
          await post(event, signWebhook(SECRET, event, Math.floor(Date.now() / 1000) - 3_600)),
        ),
        401,
        'INVALID_SIGNATURE',
      );
      expectProblem(
        answer(await post(event, signWebhook(SECRET, event.replace('7000', '70000')))),
        401,
        'INVALID_SIGNATURE',
      );
      expectProblem(answer(await post(event, 'garbage')), 401, 'INVALID_SIGNATURE');
      expectProblem(answer(await post(event, 't=,v1=')), 401, 'INVALID_SIGNATURE');
      const good = signWebhook(SECRET, event);
      expectProblem(
        answer(
          await post(
            event,
            good.replace(/v1=(.)/, (_, c: string) => `v1=${c === 'a' ? 'b' : 'a'}`),
          ),
        ),
        401,
        'INVALID_SIGNATURE',
      );
    });
    const { rows } = await t.db.pools.funding.query('SELECT status FROM charges WHERE id = $1', [
      chargeId,
    ]);
    expect(rows[0].status).toBe('pending');
  });

  it('credits a signed event once; a replayed or second event for the charge changes nothing', async () => {
    const chargeId = await pendingCharge(bob, 7_000);
    const event = JSON.stringify({
      eventId: `evt_${chargeId}`,
      chargeId,
      status: 'succeeded',
      amount: 7_000,
    });
    const w0 = await api.wallet(bob);
    const first = answer(await post(event, signWebhook(SECRET, event)));
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({ result: 'applied' });
    expect(await api.wallet(bob)).toMatchObject({ available: w0.available + 7_000 });
    await expectNoMoneyMoved(t, [alice, bob], async () => {
      const replay = answer(await post(event, signWebhook(SECRET, event)));
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual({ result: 'duplicate' });
      const other = JSON.stringify({
        eventId: `evt_again_${chargeId}`,
        chargeId,
        status: 'succeeded',
        amount: 7_000,
      });
      expect(answer(await post(other, signWebhook(SECRET, other))).body).toEqual({
        result: 'duplicate',
      });
      const failed = JSON.stringify({
        eventId: `evt_failed_${chargeId}`,
        chargeId,
        status: 'failed',
        amount: 7_000,
      });
      expect(answer(await post(failed, signWebhook(SECRET, failed))).body).toEqual({
        result: 'duplicate',
      });
    });
  });

  it('refuses a signed event whose amount does not match, or for an unknown charge, or with a bad body', async () => {
    const chargeId = await pendingCharge(bob, 7_000);
    await expectNoMoneyMoved(t, [alice, bob], async () => {
      const wrong = JSON.stringify({
        eventId: `evt_wrong_${chargeId}`,
        chargeId,
        status: 'succeeded',
        amount: 70_000,
      });
      expectProblem(
        answer(await post(wrong, signWebhook(SECRET, wrong))),
        400,
        'VALIDATION_FAILED',
      );
      const unknown = JSON.stringify({
        eventId: 'evt_unknown',
        chargeId: crypto.randomUUID(),
        status: 'succeeded',
        amount: 7_000,
      });
      expectProblem(answer(await post(unknown, signWebhook(SECRET, unknown))), 404, 'NOT_FOUND');
      const notUuid = JSON.stringify({
        eventId: 'evt_not_uuid',
        chargeId: 'ch_123',
        status: 'succeeded',
        amount: 7_000,
      });
      expectProblem(answer(await post(notUuid, signWebhook(SECRET, notUuid))), 404, 'NOT_FOUND');
      for (const body of [
        { eventId: 'e', chargeId, status: 'succeeded', amount: -7_000 },
        { eventId: 'e', chargeId, status: 'refunded', amount: 7_000 },
        { eventId: 'e', chargeId, status: 'succeeded', amount: 7_000, extra: 1 },
        { eventId: '', chargeId, status: 'succeeded', amount: 7_000 },
        { eventId: 'evt\u0000nul', chargeId, status: 'succeeded', amount: 7_000 },
      ]) {
        const text = JSON.stringify(body);
        expectProblem(
          answer(await post(text, signWebhook(SECRET, text))),
          400,
          'VALIDATION_FAILED',
        );
      }
    });
    // The charge is still pending and can be completed by its real event.
    const good = JSON.stringify({
      eventId: `evt_${chargeId}`,
      chargeId,
      status: 'succeeded',
      amount: 7_000,
    });
    expect(answer(await post(good, signWebhook(SECRET, good))).body).toEqual({ result: 'applied' });
  });
});

describe('daily points', () => {
  it('grants 100 points once per KST day; a second claim is 409 ALREADY_CLAIMED and grants nothing', async () => {
    const carol = await api.signUp('Carol');
    const first = await raw(t, 'POST', '/api/v1/points/claim', carol);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ granted: 100, points: 1_100 });
    await expectNoMoneyMoved(t, [carol, alice], async () => {
      expectProblem(await raw(t, 'POST', '/api/v1/points/claim', carol), 409, 'ALREADY_CLAIMED');
      expectProblem(
        await raw(t, 'POST', '/api/v1/points/claim', carol, {}),
        409,
        'ALREADY_CLAIMED',
      );
      expectProblem(
        await raw(t, 'POST', '/api/v1/points/claim', carol, { points: 100 }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(await raw(t, 'POST', '/api/v1/points/claim', null), 401, 'UNAUTHENTICATED');
    });
    expect((await api.wallet(carol)).points).toBe(1_100);
  });

  it('counts days in Korea (KST, UTC+9): a new day opens at 15:00 UTC, not at midnight UTC', async () => {
    const erin = await api.signUp('Erin');
    const wallet = t.ml.wallet!;
    // 23:59:59 KST on 1 March, then 00:00:00 KST on 2 March: two days, two grants.
    expect(await wallet.claimDailyPoints(erin.id, new Date('2027-03-01T14:59:59Z'))).toEqual({ granted: 100, points: 1_100 });
    expect(await wallet.claimDailyPoints(erin.id, new Date('2027-03-01T15:00:00Z'))).toEqual({ granted: 100, points: 1_200 });
    // 2 March 23:59 KST is still 2 March in Korea although the UTC date changed at 09:00 KST.
    const again = wallet.claimDailyPoints(erin.id, new Date('2027-03-02T14:59:00Z'));
    await expect(again).rejects.toMatchObject({ code: 'ALREADY_CLAIMED' });
    await expect(again).rejects.toThrow(/2027-03-02T15:00:00\.000Z/);
    expect((await api.wallet(erin)).points).toBe(1_200);
  });

  it('knows the KST day and the next KST midnight', () => {
    expect(kstDay(new Date('2026-12-06T14:59:59.999Z'))).toBe('2026-12-06');
    expect(kstDay(new Date('2026-12-06T15:00:00Z'))).toBe('2026-12-07');
    expect(nextKstMidnight(new Date('2026-12-06T15:00:00Z')).toISOString()).toBe('2026-12-07T15:00:00.000Z');
    expect(nextKstMidnight(new Date('2026-12-07T04:16:00Z')).toISOString()).toBe('2026-12-07T15:00:00.000Z');
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (now) => {
        const next = nextKstMidnight(now);
        // Strictly later, at most a day later, a KST midnight, and on the following KST day.
        expect(next.getTime()).toBeGreaterThan(now.getTime());
        expect(next.getTime() - now.getTime()).toBeLessThanOrEqual(86_400_000);
        expect(next.getUTCHours()).toBe(15);
        expect(next.getUTCMinutes() + next.getUTCSeconds() + next.getUTCMilliseconds()).toBe(0);
        expect(kstDay(new Date(next.getTime() - 1))).toBe(kstDay(now));
      }),
    );
  });

  it('gives one grant to many concurrent claims', async () => {
    const dave = await api.signUp('Dave');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => raw(t, 'POST', '/api/v1/points/claim', dave)),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200))
      expectProblem(a, 409, 'ALREADY_CLAIMED');
    expect((await api.wallet(dave)).points).toBe(1_100);
  });
});

describe('transactions pagination', () => {
  it('refuses bad limits and cursors with 400', async () => {
    for (const q of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=-1',
      'limit=1.5',
      'limit=',
      'limit=1&limit=2',
      'limit=1e9',
    ]) {
      expectProblem(
        await raw(t, 'GET', `/api/v1/wallet/transactions?${q}`, alice),
        400,
        'VALIDATION_FAILED',
      );
    }
    const b64 = (v: unknown) =>
      Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const cursors = [
      'garbage',
      '!!!',
      'x'.repeat(201),
      b64('not json'),
      b64([]),
      b64({}),
      b64(['2025-01-01 00:00:00+00']),
      b64([1, 2]),
      b64(['2025-01-01 00:00:00+00', 'not-a-uuid-but-36-characters-long!!!']),
      b64(['2025-01-01 00:00:00+00', '------------------------------------']),
      b64(['2025-01-01 00:00:00+00', 'ffffffff-ffff-ffff-ffff-fffffffffff-']),
      b64(['1', '01890000-0000-7000-8000-000000000000']),
      b64(['March 7', '01890000-0000-7000-8000-000000000000']),
      b64(['2025-02-30 00:00:00+00', '01890000-0000-7000-8000-000000000000']),
      b64(['2025-01-01 24:00:00+00', '01890000-0000-7000-8000-000000000000']),
      b64(['2025-01-01 00:00:00+99', '01890000-0000-7000-8000-000000000000']),
      b64(['2025-01-01 00:00:00+00', '01890000-0000-7000-8000-000000000000', 'extra']),
      b64(['Tue, 01 Jan 2030 00:00:00 GMT (a comment)', '01890000-0000-7000-8000-000000000000']),
      b64(['275760-09-13T00:00:00.000Z', '01890000-0000-7000-8000-000000000000']),
      b64(['-271821-04-20T00:00:00.000Z', '01890000-0000-7000-8000-000000000000']),
    ];
    for (const cursor of cursors) {
      const res = await raw(
        t,
        'GET',
        `/api/v1/wallet/transactions?cursor=${encodeURIComponent(cursor)}`,
        alice,
      );
      expectProblem(res, 400, 'VALIDATION_FAILED', 'cursor');
    }
    expectProblem(await raw(t, 'GET', '/api/v1/wallet/transactions', null), 401, 'UNAUTHENTICATED');
  });

  it('walks every entry exactly once, newest first, with consistent running balances', async () => {
    const erin = await api.signUp('Erin');
    const amounts = Array.from({ length: 23 }, (_, i) => 1_000 + i);
    for (const a of amounts) await api.charge(erin, a);
    const all = await raw(t, 'GET', '/api/v1/wallet/transactions?limit=100', erin);
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(23);
    expect(all.body.nextCursor).toBeNull();
    for (const limit of [1, 5, 7, 23]) {
      const seen: { id: string; amount: number; balanceAfter: number; createdAt: string }[] = [];
      let cursor: string | null = null;
      do {
        const url = `/api/v1/wallet/transactions?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await raw(t, 'GET', url, erin);
        expect(page.status, page.text).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen.map((e) => e.id)).toEqual(all.body.items.map((e: { id: string }) => e.id));
      expect(new Set(seen.map((e) => e.id)).size).toBe(23);
    }
    const items = all.body.items as {
      kind: string;
      amount: number;
      balanceAfter: number;
      createdAt: string;
    }[];
    expect(items.map((e) => e.amount)).toEqual([...amounts].reverse());
    for (const e of items) expect(e.kind).toBe('charge');
    for (let i = 1; i < items.length; i++) {
      expect(items[i - 1]!.createdAt >= items[i]!.createdAt).toBe(true);
      expect(items[i - 1]!.balanceAfter).toBe(items[i]!.balanceAfter + items[i - 1]!.amount);
    }
    expect(items[0]!.balanceAfter).toBe((await api.wallet(erin)).available);
  });
});

describe('random bodies', () => {
  it('never answer a 5xx on the wallet routes, and move money only on success', async () => {
    const request = fc.oneof(
      fc.tuple(
        fc.constant('/api/v1/wallet/charges'),
        bodyFor({ amount: fc.integer({ min: 1_000, max: 1_000_000 }) }),
      ),
      fc.tuple(fc.constant('/api/v1/points/claim'), fc.oneof(fc.constant(undefined), anyValue)),
      fc.tuple(
        fc.constant('/api/v1/payments/webhook'),
        bodyFor({
          eventId: fc.string(),
          chargeId: fc.uuid(),
          status: fc.constantFrom('succeeded', 'failed'),
          amount: fc.integer(),
        }),
      ),
    );
    const frank = await api.signUp('Frank');
    let credited = 0;
    await fc.assert(
      fc.asyncProperty(
        request,
        fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
        fc.boolean(),
        async ([url, body], key, sign) => {
          const route = { url };
          const text = body === undefined ? undefined : JSON.stringify(body);
          const headers: Record<string, string> =
            key !== undefined ? { 'idempotency-key': key } : {};
          // Signed webhook bodies get past the signature check, into the handler.
          if (sign && url.endsWith('/webhook'))
            headers[SIGNATURE_HEADER] = signWebhook(SECRET, text ?? '');
          const res = await raw(t, 'POST', url, frank, text, headers).catch((err: Error) => {
            if (/header/i.test(err.message)) return undefined; // not sendable over HTTP at all
            throw err;
          });
          if (!res) return;
          expect(res.status, res.text).toBeLessThan(500);
          if (res.status >= 400)
            expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
          if (
            route.url.endsWith('/charges') &&
            res.status === 201 &&
            res.headers['idempotent-replayed'] === undefined
          )
            credited += res.body.charge.amount;
        },
      ),
      { numRuns: 300 },
    );
    expect((await api.wallet(frank)).available).toBe(credited);
    expect((await verifyLedger(t.db.pools.funding)).ok).toBe(true);
  });
});
