// Reconciliation with PortOne V2 (PAYMENT_PROVIDER=portone) against the local
// fake of PortOne's published API (its payments list and single payments),
// with our real client code: charges, refunds, reversals and disputes that
// agree with PortOne give no difference; every kind of disagreement is
// reported, by `reconcilePayments` and by `missionlink reconcile` (exit 1).
// PortOne's dispute webhooks (Transaction.DisputeCreated) reverse what the
// charge has left, once per dispute; Transaction.DisputeResolved restores
// nothing. `ledger verify` stays clean throughout.
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { loadConfig } from '../platform/config.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { raw } from '../../test/support/bad-input.ts';
import { superUrlFor } from '../../test/support/databases.ts';
import { startFakePortOne, type FakePortOne } from '../../test/support/fake-portone.ts';
import { runCommand } from '../../test/support/process.ts';
import { PortOneProvider, portOneSettings, reconcilePayments, type PaymentDifference } from './index.ts';
import { verifyWallet } from './verify.ts';

let portone: FakePortOne;
let t: TestApp;
let api: ReturnType<typeof client>;
let webhookUrl: string;
let env: Record<string, string>;
let provider: PortOneProvider;
const from = new Date(Date.now() - 60_000);
const to = () => new Date(Date.now() + 60_000);

beforeAll(async () => {
  portone = await startFakePortOne();
  env = {
    PAYMENT_PROVIDER: 'portone',
    PORTONE_API_SECRET: portone.secret,
    PORTONE_STORE_ID: portone.storeId,
    PORTONE_CHANNEL_KEY: portone.channelKey,
    PORTONE_WEBHOOK_SECRET: portone.webhookSecret,
    PORTONE_API_URL: portone.url,
  };
  t = await createTestApp(env);
  api = client(t.ml.http);
  const address = await t.ml.http.listen({ port: 0, host: '127.0.0.1' });
  webhookUrl = `${address}/api/v1/payments/portone/webhook`;
  provider = new PortOneProvider(portOneSettings(loadConfig(env)));
});
afterAll(async () => {
  await t?.close();
  await portone?.close();
});

const books = async () => {
  const report = await verifyLedger(t.db.pools.funding, [verifyPledges, verifyWallet]);
  expect(report.problems).toEqual([]);
};

/** The differences about these charges (other tests of the file leave theirs). */
async function differencesOf(ids: string[]): Promise<PaymentDifference[]> {
  return (await reconcilePayments(t.db.pools.funding, provider, { from, to: to() })).filter((d) => ids.includes(d.chargeId));
}
const brief = (ds: PaymentDifference[]) => ds.map((d) => [d.area, d.kind, d.chargeId]).sort();

/** A charge paid in PortOne's checkout and confirmed by its webhook. */
async function paidCharge(who: Caller, amount: number): Promise<string> {
  const res = await raw(t, 'POST', '/api/v1/wallet/charges', who, { amount });
  expect(res.status, res.text).toBe(201);
  portone.pay(res.body.charge.id, amount);
  expect((await portone.sendWebhook(webhookUrl, 'Transaction.Paid', res.body.charge.id)).status).toBe(200);
  return res.body.charge.id;
}
async function refund(who: Caller, amount: number) {
  const res = await raw(t, 'POST', '/api/v1/wallet/refunds', who, { amount });
  expect(res.status, res.text).toBe(201);
  return res.body.refund as { id: string; status: string };
}

describe('reconciling with PortOne', () => {
  it('reports nothing when PortOne and the books agree: charges, refunds, refused refunds, reversals, abandoned checkouts', async () => {
    const alice = await api.signUp('Alice');
    const a = await paidCharge(alice, 20_000);
    expect((await refund(alice, 5_000)).status).toBe('succeeded');
    portone.cancelOutside(a, 3_000);
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.PartialCancelled', a)).status).toBe(200);
    // A refund PortOne refuses for good (the payment was cancelled there meanwhile), then the reversal.
    const bora = await api.signUp('Bora');
    const b = await paidCharge(bora, 6_000);
    portone.cancelOutside(b, 6_000);
    expect((await refund(bora, 6_000)).status).toBe('failed');
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.Cancelled', b)).status).toBe(200);
    // A checkout left unpaid: PortOne never heard of the payment.
    const abandoned = (await raw(t, 'POST', '/api/v1/wallet/charges', alice, { amount: 9_000 })).body.charge.id as string;
    const before = portone.requests.length;
    expect(await differencesOf([a, b, abandoned])).toEqual([]);
    // The list was asked for (by creation and status-change time, our store), the abandoned one on its own.
    const asked = portone.requests.slice(before);
    const lists = asked.filter((r) => r.method === 'GET' && r.path === '/payments');
    expect(lists.length).toBeGreaterThanOrEqual(2);
    expect(asked.some((r) => r.path === `/payments/${abandoned}`)).toBe(true);
    expect(await api.wallet(alice)).toMatchObject({ available: 12_000, owed: 0 });
    await books();
  });

  it('reports every difference, and `missionlink reconcile` prints them and exits 1', async () => {
    const user = () => api.signUp('Diff');
    // PortOne was paid another amount than the charge's.
    const amountOff = await paidCharge(await user(), 10_000);
    portone.payments.get(amountOff)!.amount.total = 11_000;
    // Paid at PortOne, but the webhook never came: the wallet was never credited.
    const notCredited = (await raw(t, 'POST', '/api/v1/wallet/charges', await user(), { amount: 5_000 })).body.charge.id as string;
    portone.pay(notCredited, 5_000);
    // A charge PortOne lost.
    const lost = await paidCharge(await user(), 4_000);
    portone.payments.delete(lost);
    // A payment in our store that is no charge of ours.
    const stray = uuidv7();
    portone.pay(stray, 7_000);
    // A refund we recorded done whose cancellation PortOne does not show.
    const refunder = await user();
    const refunded = await paidCharge(refunder, 10_000);
    await refund(refunder, 4_000);
    const p = portone.payments.get(refunded)!;
    p.cancellations = [];
    p.amount.cancelled = 0;
    p.status = 'PAID';
    const [part] = (await t.db.pools.funding.query('SELECT id FROM refund_parts WHERE charge_id = $1', [refunded])).rows;
    // A cancellation made at PortOne that never reached us (no webhook).
    const unreversed = await paidCharge(await user(), 10_000);
    portone.cancelOutside(unreversed, 2_000);
    // A cancellation naming a refund part that does not exist.
    const foreign = await paidCharge(await user(), 10_000);
    portone.payments.get(foreign)!.cancellations.push({
      status: 'SUCCEEDED', id: 'cancel-foreign', pgCancellationId: 'pg-foreign', totalAmount: 1_000, taxFreeAmount: 0, vatAmount: 90,
      reason: `Refund of unused cash [${uuidv7()}]`, requestedAt: new Date().toISOString(), cancelledAt: new Date().toISOString(), trigger: 'API',
    });
    const ids = [amountOff, notCredited, lost, stray, refunded, unreversed, foreign];
    const diffs = await differencesOf(ids);
    expect(brief(diffs)).toEqual(
      [
        ['charges', 'amount_mismatch', amountOff],
        ['charges', 'status_mismatch', notCredited],
        ['charges', 'missing_at_provider', lost],
        ['charges', 'unknown_payment', stray],
        ['refunds', 'missing_at_provider', refunded],
        ['refunds', 'reversal_missing', unreversed],
        // It names a refund part, so it is not taken for a cancellation made outside our refunds as well.
        ['refunds', 'unknown_cancellation', foreign],
      ].sort(),
    );
    expect(diffs.find((d) => d.chargeId === refunded)).toMatchObject({ partId: part.id });
    for (const d of diffs) expect(d.detail).toMatch(/\S/);

    // The command line: the configured provider, every difference printed as JSON, exit 1.
    // (Its migration check needs the database's owner, as a deploy job has.)
    const run = await runCommand(
      { dataDir: t.dataDir, args: ['reconcile', '--from', from.toISOString(), `--to=${to().toISOString()}`], env: { ...env, DATABASE_URL_FUNDING: superUrlFor(t.db.superUrl, t.db.names.funding), LOG_LEVEL: 'warn' } },
      60_000,
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    const report = JSON.parse(run.stdout.slice(run.stdout.search(/^\{$/m)));
    expect(report.ok).toBe(false);
    const printed = (report.differences as PaymentDifference[]).filter((d) => ids.includes(d.chargeId));
    expect(brief(printed)).toEqual(brief(diffs));
    expect(report.counts).toMatchObject({ withdrawals: 0 });
    expect(report.counts.charges).toBeGreaterThanOrEqual(4);
    expect(report.counts.refunds).toBeGreaterThanOrEqual(3);

    // Repaired (the webhook arrives, the lost cancellation reappears…): those differences go.
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.Paid', notCredited)).status).toBe(200);
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.PartialCancelled', unreversed)).status).toBe(200);
    const left = await differencesOf([notCredited, unreversed]);
    expect(left).toEqual([]);
    await books();
  });
});

describe('PortOne disputes', () => {
  it('reverse what the charge has left, once per dispute; a resolved dispute restores nothing; reconciliation agrees', async () => {
    const carol = await api.signUp('Carol');
    const id = await paidCharge(carol, 10_000);
    const other = await paidCharge(carol, 3_000);
    portone.dispute(id, { pgDisputeId: 'pg-dispute-1' });
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.DisputeCreated', id)).status).toBe(200);
    expect(await api.wallet(carol)).toMatchObject({ available: 3_000, owed: 0 });
    // PortOne delivers it again (another message id), the browser syncs: nothing more.
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.DisputeCreated', id)).status).toBe(200);
    expect((await raw(t, 'POST', `/api/v1/wallet/charges/${id}/complete`, carol)).status).toBe(200);
    expect(await api.wallet(carol)).toMatchObject({ available: 3_000, owed: 0 });
    const reversals = (await t.db.pools.funding.query('SELECT amount, event_id FROM payment_reversals WHERE charge_id = $1', [id])).rows;
    expect(reversals).toEqual([{ amount: 10_000, event_id: `portone:${id}:dispute:pg-pg-dispute-1` }]);
    expect(await differencesOf([id, other])).toEqual([]);

    // Resolved: PortOne does not say in whose favour; nothing is given back.
    portone.resolveDispute(id, 'pg-dispute-1');
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.DisputeResolved', id)).status).toBe(200);
    expect(await api.wallet(carol)).toMatchObject({ available: 3_000, owed: 0 });
    // The dispute lost, the PG cancels the payment: it was reversed already.
    portone.cancelOutside(id, 10_000);
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.Cancelled', id)).status).toBe(200);
    expect(await api.wallet(carol)).toMatchObject({ available: 3_000, owed: 0 });
    expect(await differencesOf([id, other])).toEqual([]);
    await books();
  });

  it('take held pledges and leave the rest owed, as any reversal; an unreported dispute is a difference', async () => {
    const dan = await api.signUp('Dan');
    const streamer = await api.signUp('Streamer');
    const handle = `dsp_${Date.now() % 1_000_000}`;
    await api.channel(streamer, handle);
    const id = await paidCharge(dan, 10_000);
    const m = (await api.propose(dan, handle, 6_000)).body.mission.id as string;
    expect((await api.call('POST', `/api/v1/missions/${m}/accept`, streamer)).status).toBe(200);
    expect((await api.call('POST', `/api/v1/missions/${m}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
    const { eventually } = await import('../../test/support/api.ts');
    await eventually(async () => (await api.mission(m)).settledAt);
    // 4,000 available, 6,000 captured for the streamer (never taken back).
    portone.dispute(id, { reason: 'Not authorised' });
    expect(await differencesOf([id])).toMatchObject([{ area: 'refunds', kind: 'dispute_not_reversed', chargeId: id }]);
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.DisputeCreated', id)).status).toBe(200);
    expect(await api.wallet(dan)).toMatchObject({ available: 0, owed: 6_000 });
    // A dispute without a PG id is known by its creation time.
    const [rev] = (await t.db.pools.funding.query('SELECT event_id, from_wallet, owed FROM payment_reversals WHERE charge_id = $1', [id])).rows;
    expect(rev).toMatchObject({ from_wallet: 4_000, owed: 6_000 });
    expect(rev.event_id).toMatch(new RegExp(`^portone:${id}:dispute:at-\\d{4}-`));
    expect(await differencesOf([id])).toEqual([]);
    await books();
  });
});
