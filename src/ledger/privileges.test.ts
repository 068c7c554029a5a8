import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client } from '../../test/support/api.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  const api = client(t.ml.http);
  const u = await api.signUp('Payer');
  await api.charge(u, 5_000);
});
afterAll(async () => t?.close());

// The login roles the app connects with can write rows, but the books and the
// audit trail are append-only for them: not by convention, by privilege.
describe('database privileges of the app roles', () => {
  it('cannot change or delete ledger transfers, nor disable their trigger', async () => {
    const f = t.db.pools.funding;
    await expect(f.query('UPDATE transfers SET amount = amount + 1')).rejects.toThrow(/permission denied/);
    await expect(f.query('DELETE FROM transfers')).rejects.toThrow(/permission denied/);
    await expect(f.query('ALTER TABLE transfers DISABLE TRIGGER USER')).rejects.toThrow(/must be owner/);
    await expect(f.query('DROP TABLE outbox')).rejects.toThrow(/must be owner/);
  });

  it('cannot delete accounts, which transfers reference without a foreign key', async () => {
    const f = t.db.pools.funding;
    await expect(f.query('DELETE FROM accounts')).rejects.toThrow(/permission denied/);
    await expect(f.query('TRUNCATE accounts CASCADE')).rejects.toThrow(/permission denied/);
  });

  it('cannot rewrite the audit log', async () => {
    const i = t.db.pools.identity;
    await expect(i.query('UPDATE audit_log SET action = action')).rejects.toThrow(/permission denied/);
    await expect(i.query('ALTER TABLE audit_log DISABLE TRIGGER USER')).rejects.toThrow(/must be owner/);
    await expect(i.query('CREATE TABLE sneaky (x int)')).rejects.toThrow(/permission denied/);
  });
});
