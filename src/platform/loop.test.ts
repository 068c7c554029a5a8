// The worker loop's scheduling, with passes that only record when they ran.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';
import { PollingLoop } from './loop.ts';

const log = createLogger('silent');

describe('PollingLoop', () => {
  it('takes a stream of pokes in passes at least the gap apart', async () => {
    const starts: number[] = [];
    const loop = new PollingLoop('test', async () => (starts.push(performance.now()), false), log, 60_000, 40);
    loop.start();
    // One poke every 2 ms for 200 ms: one pass per poke without the gap.
    for (let i = 0; i < 100; i++) {
      loop.poke();
      await sleep(2);
    }
    await sleep(60);
    await loop.stop();
    expect(starts.length).toBeGreaterThanOrEqual(3);
    expect(starts.length).toBeLessThanOrEqual(8);
    // Timers may fire a little early; never by much.
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(38);
  });

  it('follows a pass that reports more work at once, gap or not', async () => {
    let left = 5;
    const starts: number[] = [];
    const loop = new PollingLoop('test', async () => (starts.push(performance.now()), --left > 0), log, 60_000, 1_000);
    loop.start();
    await sleep(50);
    await loop.stop();
    expect(starts).toHaveLength(5);
    expect(starts.at(-1)! - starts[0]!).toBeLessThan(500);
  });

  it('without a gap, runs a pass for a poke at once', async () => {
    const starts: number[] = [];
    const loop = new PollingLoop('test', async () => (starts.push(performance.now()), false), log, 60_000);
    loop.start();
    await sleep(10);
    const poked = performance.now();
    loop.poke();
    await sleep(10);
    await loop.stop();
    expect(starts).toHaveLength(2);
    expect(starts[1]! - poked).toBeLessThan(10);
  });
});
