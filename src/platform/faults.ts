import type { RelayHooks } from './outbox.ts';

/**
 * Crash points for fault-injection tests. With MISSIONLINK_CRASH_AT set to a
 * comma list of `point[:n]`, the process kills itself with SIGKILL (no
 * cleanup, like a power cut) the n-th time it reaches that point (default 1).
 * Points: relay.beforePublish (events committed, not yet published),
 * relay.afterPublish (published, not yet marked), settlement.afterBatch
 * (between settlement batches), notifier.afterSend (mail accepted by the
 * server, not yet recorded), payouts.beforeProviderCall (a withdrawal claimed,
 * not yet sent to the payout provider), payouts.afterProviderAnswer (the
 * provider's final answer, paid or failed, not yet recorded),
 * refunds.beforeCancel (a refund held, its provider not yet asked),
 * refunds.afterCancel (the provider cancelled a refund's part, not yet
 * recorded), webhooks.afterSend (a webhook endpoint answered, the attempt not
 * yet recorded). Unset in production.
 */
export function crashHooks(spec: string | undefined) {
  const points = new Map<string, { at: number; hits: number }>();
  for (const part of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, n] = part.split(':');
    points.set(name!, { at: Number(n ?? 1) || 1, hits: 0 });
  }
  if (points.size === 0) return undefined;
  const reach = (name: string) => {
    const p = points.get(name);
    if (p && ++p.hits === p.at) {
      process.stderr.write(`crash point ${name} reached: SIGKILL\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
  const relay: RelayHooks = { beforePublish: () => reach('relay.beforePublish'), afterPublish: () => reach('relay.afterPublish') };
  return {
    relay,
    settlement: { afterBatch: () => reach('settlement.afterBatch') },
    notifier: { afterSend: () => reach('notifier.afterSend') },
    payouts: {
      beforeProviderCall: () => reach('payouts.beforeProviderCall'),
      afterProviderCall: (_id: string, result: { status: string }) => {
        if (result.status !== 'processing') reach('payouts.afterProviderAnswer');
      },
    },
    refunds: { beforeCancel: () => reach('refunds.beforeCancel'), afterCancel: () => reach('refunds.afterCancel') },
    webhooks: { afterSend: () => reach('webhooks.afterSend') },
  };
}
