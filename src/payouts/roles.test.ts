// Withdrawals with the roles in separate MissionLinks on the same databases
// (as in distributed mode): a withdrawal asked of an api-only process is paid
// by the settlement-only process's payout worker, and mailed by the
// notifier-only process — no bus needed, the queues are tables.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually } from '../../test/support/api.ts';
import { createTestDatabases, type TestDatabases } from '../../test/support/databases.ts';
import { mailHeader, rawMails } from '../../test/support/mail.ts';
import { createMissionLink, type MissionLink } from '../app.ts';
import { KeyRing, newPrivateJwk } from '../identity/keys.ts';
import { createTransfer, ensureAccount } from '../ledger/index.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/log.ts';

let db: TestDatabases;
let dataDir: string;
let keys: KeyRing | undefined;
const processes: MissionLink[] = [];

async function role(roles: string): Promise<MissionLink> {
  const config = loadConfig({ ROLES: roles, DATA_DIR: dataDir, DATABASE_URL_IDENTITY: db.urls.identity, DATABASE_URL_FUNDING: db.urls.funding, LOG_LEVEL: 'silent' });
  const ml = await createMissionLink({
    config,
    logger: createLogger('silent'),
    pools: roles === 'settlement' ? { funding: db.pools.funding } : db.pools,
    keys: (keys ??= await KeyRing.fromJwks([await newPrivateJwk()])),
    paymentWebhookSecret: 'test-webhook-secret-0123456789',
  });
  processes.push(ml);
  return ml;
}

beforeAll(async () => {
  db = await createTestDatabases();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-roles-'));
});
afterAll(async () => {
  for (const ml of processes) {
    await ml.http.close();
    await ml.stopWorkers();
  }
  await db?.drop();
});

describe('withdrawals across role processes', () => {
  it('api takes it, settlement pays it, notifier mails it', async () => {
    const api = await role('api');
    const settlement = await role('settlement');
    const notifier = await role('notifier');
    expect([api.payouts, api.payoutWorker, api.withdrawalMails].map(Boolean)).toEqual([true, false, false]);
    expect([settlement.payouts, settlement.payoutWorker, settlement.withdrawalMails].map(Boolean)).toEqual([false, true, false]);
    expect([notifier.payouts, notifier.payoutWorker, notifier.withdrawalMails].map(Boolean)).toEqual([false, false, true]);

    const http = client(api.http);
    const streamer = await http.signUp('Roles Streamer');
    await http.channel(streamer, `roles_wd_${process.pid % 10000}`);
    const earnings = await ensureAccount(db.pools.funding, 'KRW', 'streamer_earnings', streamer.id);
    await createTransfer(db.pools.funding, { id: uuidv7(), debit: await ensureAccount(db.pools.funding, 'KRW', 'payment_provider', 'roles-test'), credit: earnings, amount: 50_000, code: 'streamer_payout' });
    expect((await http.call('PUT', '/api/v1/streamer/payout-account', streamer, { bankCode: '020', accountNumber: '1002003004', holderName: 'Roles' })).status).toBe(200);
    const w = (await http.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 25_000 })).body.withdrawal;
    expect(w.status).toBe('PROCESSING');

    const paid = await eventually(async () => {
      const x = (await http.call('GET', '/api/v1/streamer/withdrawals', streamer)).body.items[0];
      return x.status === 'PAID' ? x : undefined;
    }, 10_000);
    expect(paid.id).toBe(w.id);
    await eventually(async () => {
      const mine = (await rawMails({ mailboxDir: path.join(dataDir, 'mailbox') })).filter((m) => mailHeader(m, 'to').includes(streamer.email));
      return mine.length >= 2;
    }, 10_000, 100);
  });
});
