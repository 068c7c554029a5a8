import type { RelayHooks } from './outbox.ts';

/**
 * Crash points for fault-injection tests. With MISSIONLINK_CRASH_AT set to a
 * comma list of `point[:n]`, the process kills itself with SIGKILL (no
 * cleanup, like a power cut) the n-th time it reaches that point (default 1).
 * Points: relay.beforePublish (events committed, not yet published),
 * relay.afterPublish (published, not yet marked), settlement.afterBatch
 * (between settlement batches), notifier.afterSend (mail accepted by the
 * server, not yet recorded). Unset in production.
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
  };
}
