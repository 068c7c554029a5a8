// kill -9 around a withdrawal's payout, against the real `missionlink start`
// (embedded PostgreSQL, the sandbox payout provider, a real SMTP server in
// this process). With a crash point armed (MISSIONLINK_CRASH_AT, see
// src/platform/faults.ts) the process SIGKILLs itself:
//   payouts.beforeProviderCall   the withdrawal is committed and claimed, the provider not yet asked;
//   payouts.afterProviderAnswer  the provider has paid (or refused), our books don't know yet.
// Restarted on the same DATA_DIR without it, each withdrawal is finished
// exactly once, after the dead worker's claim lapses (15 s): one payout at the
// provider (the withdrawal id is its idempotency key), one resolution of the
// hold, one mail per state, and `missionlink ledger verify` passes.
import { afterAll, describe, expect, it } from 'vitest';
import type { Caller, HttpClient } from '../support/http-client.ts';
import { crashed, ledgerVerify, Stage, until } from '../support/money-process.ts';
import { cleanUpAll, runCommand } from '../support/process.ts';

afterAll(async () => {
  await cleanUpAll();
  await Promise.all(Stage.sinks.map((s) => s.stop()));
}, 30_000);

/** A streamer with 95,000원 of settled earnings (a 100,000원 mission, 5 % fee) and a payout account ending in `last4`. */
async function streamerWithEarnings(api: HttpClient, handle: string, last4: string): Promise<Caller> {
  const [streamer, backer] = await Promise.all([api.signUp(`${handle} streamer`), api.signUp(`${handle} backer`)]);
  await api.channel(streamer, handle, { missionMaxAmount: 1_000_000 });
  await api.charge(backer, 100_000);
  const id = (await api.propose(backer, handle, 100_000)).body.mission.id as string;
  expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
  expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
  await until('the earnings are settled', async () => (await api.call('GET', '/api/v1/streamer/earnings', streamer)).body.settled === 95_000);
  const acct = await api.call('PUT', '/api/v1/streamer/payout-account', streamer, { bankCode: '004', accountNumber: `110000${last4}`, holderName: 'Crash Kim' });
  expect(acct.status).toBe(200);
  return streamer;
}

describe('crash (kill -9) around a withdrawal payout', { timeout: 150_000 }, () => {
  for (const [point, last4, final] of [
    ['payouts.beforeProviderCall', '1234', 'PAID'],
    ['payouts.afterProviderAnswer', '5678', 'PAID'],
    ['payouts.afterProviderAnswer', '9999', 'FAILED'],
  ] as const) {
    it.concurrent(`${point} (${final}): finished exactly once after the restart`, async () => {
      const stage = await Stage.create({ WITHDRAWAL_FEE_KRW: '500' });
      await stage.start();
      const handle = `wcrash_${last4}`;
      const streamer = await streamerWithEarnings(stage.api, handle, last4);
      const { api } = stage;
      // Restart with the crash point armed; the withdrawal goes to the worker at once.
      expect((await stage.srv!.signal('SIGTERM', 15_000)).timedOut).toBe(false);
      const srv = await stage.start(point);
      const res = await api.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 30_000 }, { 'idempotency-key': 'crash-1' }).catch(() => undefined);
      await crashed(srv, point);

      await stage.start();
      // The dead worker's claim holds it for a while: still with the provider.
      const [row] = await stage.query<{ id: string; status: string }>(`SELECT id, status FROM withdrawals`);
      expect(row!.status).toBe('PROCESSING');
      if (res) expect(res.body.withdrawal.id).toBe(row!.id);
      const done = await until(`the withdrawal is ${final}`, async () => {
        const w = (await api.call('GET', '/api/v1/streamer/withdrawals', streamer)).body.items[0];
        return w?.status === final ? w : undefined;
      }, 60_000);
      expect(done).toMatchObject({ id: row!.id, amount: 30_000, fee: 500, netAmount: 29_500 });
      // The retried request answers the same withdrawal, not a second one.
      const again = await api.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 30_000 }, { 'idempotency-key': 'crash-1' });
      expect(again.status).toBe(201);
      expect(again.body.withdrawal.id).toBe(row!.id);

      const paid = final === 'PAID' ? 30_000 : 0;
      expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body).toMatchObject({ settled: 95_000, withdrawn: paid, inFlight: 0, withdrawable: 95_000 - paid });
      const [once] = await stage.query(
        `SELECT (SELECT count(*) FROM withdrawals)::int AS withdrawals,
                (SELECT count(*) FROM sandbox_payouts WHERE idempotency_key = $1)::int AS payouts,
                (SELECT count(*) FROM transfers WHERE pending_id = $1::uuid)::int AS resolutions,
                (SELECT count(*) FROM outbox WHERE topic = 'withdrawal.updated' AND key = $1)::int AS events`,
        [row!.id],
      );
      // beforeProviderCall: the provider was never asked before the crash; either way it paid at most once.
      expect(once).toEqual({ withdrawals: 1, payouts: 1, resolutions: 1, events: 2 });
      await until('both mails are sent', async () => stage.smtp.mails.filter((m) => m.envelopeTo.includes(streamer.email)).length >= 2);

      expect((await stage.srv!.signal('SIGTERM', 15_000)).timedOut).toBe(false);
      const verify = await ledgerVerify(stage.dataDir);
      expect(verify.report.problems).toEqual([]);
      expect(verify.code, verify.output).toBe(0);
      // And the provider's report agrees with the books.
      const reconcile = await runCommand({ dataDir: stage.dataDir, args: ['reconcile', '--from', '2020-01-01', '--to=2100-01-01'], env: { LOG_LEVEL: 'warn' } }, 60_000);
      const report = JSON.parse(reconcile.stdout.slice(reconcile.stdout.search(/^\{$/m)));
      expect(report).toMatchObject({ ok: true, differences: [] });
      expect(reconcile.code).toBe(0);
    });
  }
});
