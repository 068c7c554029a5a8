// Withdrawals paid through PortOne's partner settlement (PAYOUT_PROVIDER=portone),
// our real client code (the official SDK) against the local fake of PortOne's
// platform API: the account-holder check, one partner per account, one manual
// transfer per withdrawal found again by its memo (a crash between the call and
// our commit never makes a second one), the answer read from the payout PortOne
// made of it, and reconciliation against the transfers PortOne reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { startFakePortOne, type FakePortOne } from '../../test/support/fake-portone.ts';
import { createTransfer, ensureAccount, verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { reconcileWithdrawals, verifyWithdrawals, type WithdrawalStatus } from './index.ts';

let portone: FakePortOne;
let t: TestApp;
let api: ReturnType<typeof client>;
let seq = 0;
let crashAfterProviderCall = false;

beforeAll(async () => {
  portone = await startFakePortOne();
  t = await createTestApp(
    {
      PAYOUT_PROVIDER: 'portone',
      PORTONE_API_SECRET: portone.secret,
      PORTONE_API_URL: portone.url,
      PORTONE_PLATFORM_CONTRACT_ID: 'contract-missionlink',
      WITHDRAWAL_MIN_KRW: '1000',
      WITHDRAWAL_FEE_KRW: '300',
    },
    {
      startWorkers: false,
      hooks: {
        payouts: {
          afterProviderCall: () => {
            if (crashAfterProviderCall) throw new Error('crash: killed after the provider answered, before the commit');
          },
        },
      },
    },
  );
  api = client(t.ml.http);
});
afterAll(async () => {
  await t?.close();
  await portone?.close();
});

const pool = () => t.db.pools.funding;
const books = () => verifyLedger(pool(), [verifyPledges, verifyWithdrawals]);
const statusOf = async (id: string) => (await pool().query<{ status: WithdrawalStatus; failure_reason: string | null }>('SELECT * FROM withdrawals WHERE id = $1', [id])).rows[0]!;
const transfersOf = (id: string) => [...portone.platform.transfers.values()].filter((x) => x.memo === `MissionLink withdrawal ${id}`);
/** The worker's next look, now (PortOne is asked again only after a minute otherwise). */
async function work() {
  await pool().query(`UPDATE withdrawals SET next_attempt_at = now(), claimed_until = NULL WHERE status = 'PROCESSING'`);
  await t.ml.payoutWorker!.runOnce();
}

async function streamer(amount: number, accountNumber = `5550${String(++seq).padStart(6, '0')}`): Promise<Caller> {
  const who = await api.signUp('Streamer');
  await api.channel(who, `wdp_${process.pid % 1000}_${seq}`);
  portone.platform.bankAccounts.set(`SHINHAN/${accountNumber}`, '김 민지');
  const r = await api.call('PUT', '/api/v1/streamer/payout-account', who, { bankCode: '088', accountNumber, holderName: '김민지' });
  expect(r.status).toBe(200);
  const source = await ensureAccount(pool(), 'KRW', 'payment_provider', 'portone-payout-test');
  await createTransfer(pool(), { id: uuidv7(), debit: source, credit: await ensureAccount(pool(), 'KRW', 'streamer_earnings', who.id), amount, code: 'streamer_payout' });
  return who;
}
const withdraw = async (who: Caller, amount: number) => (await api.call('POST', '/api/v1/streamer/withdrawals', who, { amount })).body.withdrawal as { id: string; status: string };
const partnerOf = (accountNumber: string) => [...portone.platform.partners.values()].find((p) => p.account.number === accountNumber)!;

describe('payout account through PortOne', () => {
  it('is verified by the account-holder check and becomes one partner, created once', async () => {
    const who = await streamer(10_000, '1102223333');
    const partner = partnerOf('1102223333');
    expect(partner).toMatchObject({ account: { bank: 'SHINHAN', number: '1102223333', holder: '김 민지' }, defaultContractId: 'contract-missionlink' });
    // The same account again (a second registration) reuses the partner.
    expect((await api.call('PUT', '/api/v1/streamer/payout-account', who, { bankCode: '088', accountNumber: '1102223333', holderName: '김민지' })).status).toBe(200);
    expect([...portone.platform.partners.values()].filter((p) => p.account.number === '1102223333')).toHaveLength(1);
  });

  it('is refused when the bank does not know it, the holder differs, or PortOne cannot pay the bank', async () => {
    const who = await streamer(10_000);
    const before = portone.platform.partners.size;
    const unknown = await api.call('PUT', '/api/v1/streamer/payout-account', who, { bankCode: '088', accountNumber: '9998887777', holderName: '김민지' });
    expect([unknown.status, unknown.body.code]).toEqual([422, 'PAYOUT_ACCOUNT_INVALID']);
    portone.platform.bankAccounts.set('SHINHAN/9998886666', '박서준');
    const other = await api.call('PUT', '/api/v1/streamer/payout-account', who, { bankCode: '088', accountNumber: '9998886666', holderName: '김민지' });
    expect([other.status, other.body.code]).toEqual([422, 'PAYOUT_ACCOUNT_INVALID']);
    const bank = await api.call('PUT', '/api/v1/streamer/payout-account', who, { bankCode: '999', accountNumber: '9998886666', holderName: '김민지' });
    expect(bank.status).toBe(422);
    expect(portone.platform.partners.size).toBe(before);
  });
});

describe('withdrawals through PortOne', () => {
  it('a withdrawal is one transfer of its net amount; PAID once PortOne paid it out', async () => {
    const who = await streamer(30_000);
    const w = await withdraw(who, 20_000);
    await work();
    expect(transfersOf(w.id)).toMatchObject([{ settlementAmount: 19_700, status: 'SETTLED' }]);
    expect((await statusOf(w.id)).status).toBe('PROCESSING');
    await work(); // asked again before any bulk payout: still processing, no second transfer
    expect(transfersOf(w.id)).toHaveLength(1);
    portone.platform.bulkPayout();
    await work();
    expect((await statusOf(w.id)).status).toBe('PAID');
    expect(transfersOf(w.id)).toHaveLength(1);
    expect((await books()).problems).toEqual([]);
  });

  it('a failed payout fails the withdrawal only once its transfer is gone from PortOne: the hold is voided', async () => {
    const who = await streamer(30_000);
    const w = await withdraw(who, 10_000);
    await work();
    const [transfer] = transfersOf(w.id);
    portone.platform.bulkPayout({ fail: { [transfer!.partner.id]: '계좌 해지' } });
    await work();
    const row = await statusOf(w.id);
    expect(row.status).toBe('FAILED');
    expect(row.failure_reason).toMatch(/계좌 해지/);
    // No later bulk payout can pay it after the money went back to the streamer.
    expect(transfersOf(w.id)).toHaveLength(0);
    expect((await api.call('GET', '/api/v1/streamer/earnings', who)).body).toMatchObject({ inFlight: 0, withdrawn: 0 });
    expect((await books()).problems).toEqual([]);
  });

  it('a crash between the provider call and our commit, or a lost answer, never makes a second transfer', async () => {
    const who = await streamer(30_000);
    const w = await withdraw(who, 12_000);
    // PortOne made the transfer; its answer never came back.
    portone.platform.dropTransferAnswers(1);
    await work();
    expect(transfersOf(w.id)).toHaveLength(1);
    expect((await statusOf(w.id)).status).toBe('PROCESSING');
    // Asked again: found by its memo, not made again.
    await work();
    expect(transfersOf(w.id)).toHaveLength(1);
    // Paid out; the worker dies after PortOne answered, before our commit.
    portone.platform.bulkPayout();
    crashAfterProviderCall = true;
    try {
      await expect(work()).rejects.toThrow(/crash/);
    } finally {
      crashAfterProviderCall = false;
    }
    expect((await statusOf(w.id)).status).toBe('PROCESSING');
    await work();
    expect((await statusOf(w.id)).status).toBe('PAID');
    expect(transfersOf(w.id)).toHaveLength(1);
    const paid = [...portone.platform.payouts.values()].filter((p) => p.id === transfersOf(w.id)[0]!.payoutId);
    expect(paid.map((p) => p.amount)).toEqual([11_700]);
    expect((await books()).problems).toEqual([]);
  });
});

describe('reconciliation with PortOne', () => {
  it('agrees after real payouts, and names every difference', async () => {
    const from = new Date(Date.now() - 60_000);
    const to = () => new Date(Date.now() + 60_000);
    const provider = t.ml.payoutWorker!['deps'].provider;
    const who = await streamer(60_000);
    const ids: string[] = [];
    for (const amount of [10_000, 11_000, 12_000]) ids.push((await withdraw(who, amount)).id);
    await work();
    const [failing] = transfersOf(ids[2]!);
    portone.platform.bulkPayout({ fail: { [failing!.partner.id]: 'closed' } });
    await work();
    // One partner, one payout for all three: all failed. Pay two more on a new account.
    const who2 = await streamer(60_000);
    const ok = [(await withdraw(who2, 10_000)).id, (await withdraw(who2, 11_000)).id];
    await work();
    portone.platform.bulkPayout();
    await work();
    expect((await Promise.all([...ids, ...ok].map(statusOf))).map((r) => r.status)).toEqual(['FAILED', 'FAILED', 'FAILED', 'PAID', 'PAID']);
    const mine = async () => (await reconcileWithdrawals(pool(), provider, { from, to: to() })).filter((d) => [...ids, ...ok].includes(d.withdrawalId) || d.kind === 'unknown_payout');
    expect(await mine()).toEqual([]);

    // A transfer made at PortOne for no withdrawal of ours, one of a different amount, and one PortOne lost.
    const stray = uuidv7();
    const [t1] = transfersOf(ok[0]!);
    portone.platform.transfers.set('transfer-stray', { ...t1!, id: 'transfer-stray', memo: `MissionLink withdrawal ${stray}` });
    transfersOf(ok[1]!)[0]!.settlementAmount += 1;
    portone.platform.transfers.delete(t1!.id);
    const diffs = await mine();
    expect(diffs.map((d) => [d.kind, d.withdrawalId]).sort()).toEqual([['amount_mismatch', ok[1]], ['missing_at_provider', ok[0]], ['unknown_payout', stray]].sort());
  });
});
