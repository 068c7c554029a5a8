// kill -9 in the middle of a refund of unused cash: the real `missionlink
// start` (embedded PostgreSQL) SIGKILLs itself at a crash point
// (MISSIONLINK_CRASH_AT, src/platform/faults.ts) — refunds.beforeCancel (the
// refund held, the provider not yet asked) or refunds.afterCancel (the
// provider cancelled the first part, not yet recorded). Restarted on the same
// DATA_DIR without it, the refund must finish exactly once once the dead
// process's lease lapses (20 s): every part cancelled once at the provider,
// every hold posted once, the wallet right, and `missionlink ledger verify`
// clean.
import { afterAll, describe, expect, it } from 'vitest';
import { httpClient } from '../support/http-client.ts';
import { crashed, fundingQuery, ledgerVerify, until } from '../support/money-process.ts';
import { cleanUpAll, runCommand, spawnServer, tempDataDir, type ServerProcess } from '../support/process.ts';

afterAll(async () => {
  await cleanUpAll();
}, 30_000);

describe('crash (kill -9) during a refund', { timeout: 150_000 }, () => {
  for (const point of ['refunds.beforeCancel', 'refunds.afterCancel'] as const) {
    it.concurrent(`${point}: the refund is finished exactly once after the restart`, async () => {
      const dataDir = await tempDataDir();
      let srv: ServerProcess = await spawnServer({ dataDir, env: { LOG_LEVEL: 'warn', MISSIONLINK_CRASH_AT: point } });
      await srv.waitReady(60_000);
      const api = httpClient(() => srv.url, { timeoutMs: 30_000 });
      const user = await api.signUp(`Refund ${point}`);
      await api.charge(user, 10_000);
      await api.charge(user, 5_000);
      // 12,000: 5,000 from the newest charge, 7,000 from the older one (two parts).
      await api.call('POST', '/api/v1/wallet/refunds', user, { amount: 12_000 }).catch(() => undefined);
      await crashed(srv, point);

      srv = await spawnServer({ dataDir, env: { LOG_LEVEL: 'warn' } });
      await srv.waitReady(60_000);
      const q = <T = Record<string, number>>(sql: string, params: unknown[] = []) => fundingQuery<T>(dataDir, sql, params);
      const [refund] = await until('the refund is finished', async () => {
        const rows = await q<{ id: string; status: string; refunded_amount: number }>(`SELECT id, status, refunded_amount FROM refunds`);
        return rows[0]?.status === 'succeeded' ? rows : undefined;
      }, 90_000);
      expect(refund!.refunded_amount).toBe(12_000);
      const [once] = await q(
        `SELECT (SELECT count(*) FROM refund_parts WHERE refund_id = $1)::int AS parts,
                (SELECT count(*) FROM sandbox_cancellations s JOIN refund_parts p ON p.id = s.part_id WHERE p.refund_id = $1)::int AS cancelled,
                (SELECT count(*) FROM transfers t JOIN refund_parts p ON p.id = t.pending_id WHERE p.refund_id = $1)::int AS resolved`,
        [refund!.id],
      );
      expect(once).toEqual({ parts: 2, cancelled: 2, resolved: 2 });
      expect(await api.wallet(user)).toMatchObject({ available: 3_000, held: 0 });

      const exit = await srv.signal('SIGTERM', 15_000);
      expect(exit.timedOut, srv.stderr()).toBe(false);
      const verify = await ledgerVerify(dataDir);
      expect(verify.report.problems).toEqual([]);
      expect(verify.code, verify.output).toBe(0);
      // The sandbox's books (its payments and cancellations) agree with ours: every part cancelled once.
      const reconcile = await runCommand({ dataDir, args: ['reconcile', '--from', '2020-01-01', '--to=2100-01-01'], env: { LOG_LEVEL: 'warn' } }, 60_000);
      expect(reconcile.code, `${reconcile.stdout}\n${reconcile.stderr}`).toBe(0);
    });
  }
});
