// `ledger verify` covers the wallet's books: after real charges, a refund, a
// reversal that voids a pledge and leaves something owed, and a charge that
// pays it back, the books verify; each kind of tampering with the wallet's
// tables (what a bug or a hand-edit could do) is then named by its check,
// and undoing it makes the books verify again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client } from '../../test/support/api.ts';
import { signWebhook, SIGNATURE_HEADER } from './provider.ts';
import { verifyWallet } from './verify.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  const api = client(t.ml.http);
  const streamer = await api.signUp('Streamer');
  const handle = `ver_${Date.now() % 1_000_000}`;
  await api.channel(streamer, handle);
  const alice = await api.signUp('Alice');
  const charge = await api.charge(alice, 20_000);
  expect((await api.call('POST', '/api/v1/wallet/refunds', alice, { amount: 5_000 })).status).toBe(201);
  // 12,000 captured by a mission, 3,000 held by another when 15,000 is reversed:
  // 0 available, the pledge voided (3,000), 12,000 owed.
  const m = (await api.propose(alice, handle, 12_000)).body.mission.id as string;
  await api.call('POST', `/api/v1/missions/${m}/accept`, streamer);
  await api.call('POST', `/api/v1/missions/${m}/decision`, streamer, { outcome: 'SUCCEEDED' });
  const { eventually } = await import('../../test/support/api.ts');
  await eventually(async () => (await api.mission(m)).settledAt);
  expect((await api.propose(alice, handle, 3_000)).status).toBe(201);
  const body = JSON.stringify({ eventId: 'evt_verify', chargeId: charge.id, status: 'reversed', amount: 15_000 });
  const res = await t.ml.http.inject({
    method: 'POST',
    url: '/api/v1/payments/webhook',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook('test-webhook-secret-0123456789', body) },
    payload: body,
  });
  expect(res.statusCode, res.payload).toBe(200);
  expect(await api.wallet(alice)).toMatchObject({ available: 0, held: 0, owed: 12_000 });
  await api.charge(alice, 5_000);
  expect(await api.wallet(alice)).toMatchObject({ available: 0, owed: 7_000 });
});
afterAll(async () => t?.close());

const problems = async () => (await verifyLedger(t.db.pools.funding, [verifyPledges, verifyWallet])).problems.map((p) => p.check);
const q = (sql: string) => t.db.pools.funding.query(sql);

describe('ledger verify over the wallet', () => {
  it('verifies the real books', async () => {
    expect(await problems()).toEqual([]);
  });

  for (const [what, check, tamper, undo] of [
    ['a charge marked failed after it was credited', 'charge_credited_once', `UPDATE charges SET status = 'failed' WHERE amount = 20000`, `UPDATE charges SET status = 'succeeded' WHERE amount = 20000`],
    ['a charge that says it gave back less than its refunds did', 'charge_given_back', 'UPDATE charges SET cancelled_amount = cancelled_amount - 1 WHERE amount = 20000', 'UPDATE charges SET cancelled_amount = cancelled_amount + 1 WHERE amount = 20000'],
    ['a refunded part marked failed', 'refund_part_matches_hold', `UPDATE refund_parts SET status = 'failed'`, `UPDATE refund_parts SET status = 'succeeded'`],
    ['a refund that claims less than its parts refunded', 'refund_matches_parts', 'UPDATE refunds SET refunded_amount = refunded_amount - 1', 'UPDATE refunds SET refunded_amount = refunded_amount + 1'],
    ['a reversal that says it took more from the wallet than its transfer', 'reversal_matches_transfers', 'UPDATE payment_reversals SET from_wallet = from_wallet + 1, owed = owed - 1', 'UPDATE payment_reversals SET from_wallet = from_wallet - 1, owed = owed + 1'],
    ['a voided pledge whose void names another amount', 'pledge_void_matches', 'UPDATE pledge_voids SET amount = amount + 1', 'UPDATE pledge_voids SET amount = amount - 1'],
  ] as const) {
    it(`names ${what} (${check})`, async () => {
      await q(tamper);
      try {
        expect(await problems()).toContain(check);
      } finally {
        await q(undo);
      }
      expect(await problems()).toEqual([]);
    });
  }
});
