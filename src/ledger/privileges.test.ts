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

  it('may call the ledger functions, but neither replace them nor create others', async () => {
    const f = t.db.pools.funding;
    expect((await f.query(`SELECT ledger_resolve_pending('{}', '{}', '{}', '{}', '{}') AS held`)).rows[0].held).toEqual([]);
    for (const fn of ['ledger_create_transfer', 'ledger_create_transfers', 'ledger_resolve_pending']) {
      const { rows } = await f.query(
        `SELECT has_function_privilege(p.oid, 'EXECUTE') AS may, pg_get_functiondef(p.oid) AS definition FROM pg_proc p WHERE p.proname = $1`,
        [fn],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].may).toBe(true);
      // Its own definition again (CREATE OR REPLACE): refused, the app role
      // may not create in the schema (checked before ownership).
      expect(rows[0].definition).toMatch(/^CREATE OR REPLACE FUNCTION/);
      await expect(f.query(rows[0].definition)).rejects.toThrow(/permission denied for schema public|must be owner of function/);
    }
    await expect(f.query('CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$')).rejects.toThrow(/permission denied for schema public/);
  });

  it('cannot rewrite the audit log', async () => {
    const i = t.db.pools.identity;
    await expect(i.query('UPDATE audit_log SET action = action')).rejects.toThrow(/permission denied/);
    await expect(i.query('ALTER TABLE audit_log DISABLE TRIGGER USER')).rejects.toThrow(/must be owner/);
    await expect(i.query('CREATE TABLE sneaky (x int)')).rejects.toThrow(/permission denied/);
  });
});
