import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.ts';

/** A run function whose batches finish only when the test says so. */
function gated() {
  const batches: { items: number[]; finish: () => void }[] = [];
  const run = (items: number[]) =>
    new Promise<PromiseSettledResult<number>[]>((resolve) => {
      batches.push({
        items,
        finish: () => resolve(items.map((i) => (i < 0 ? { status: 'rejected', reason: new Error(`refused ${i}`) } : { status: 'fulfilled', value: i * 10 }))),
      });
    });
  return { batches, run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Batcher', () => {
  it('starts a lone request at once, and sends those that arrive meanwhile together', async () => {
    const g = gated();
    const b = new Batcher({ maxBatch: 64, slots: 1, run: g.run });
    const first = b.submit(1);
    expect(g.batches.map((x) => x.items)).toEqual([[1]]);
    const rest = [2, 3, 4].map((i) => b.submit(i));
    expect(b.waiting).toBe(3);
    g.batches[0]!.finish();
    expect(await first).toBe(10);
    await tick();
    expect(g.batches.map((x) => x.items)).toEqual([[1], [2, 3, 4]]);
    g.batches[1]!.finish();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(b.waiting).toBe(0);
  });

  it('keeps one batch in flight, and more only for full batches, at most `slots` and `maxBatch` items each', async () => {
    const g = gated();
    const b = new Batcher({ maxBatch: 3, slots: 2, run: g.run });
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => b.submit(i));
    // 1 starts alone; 2–4 fill a batch, which takes the second slot; 5–9 wait.
    expect(g.batches.map((x) => x.items)).toEqual([[1], [2, 3, 4]]);
    expect(b.waiting).toBe(5);
    g.batches[0]!.finish();
    await tick();
    expect(g.batches.map((x) => x.items)).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
    // 8 and 9 are not a full batch: they wait until nothing is in flight.
    g.batches[1]!.finish();
    await tick();
    expect(g.batches).toHaveLength(3);
    g.batches[2]!.finish();
    await tick();
    expect(g.batches.map((x) => x.items)).toEqual([[1], [2, 3, 4], [5, 6, 7], [8, 9]]);
    g.batches[3]!.finish();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('starts a second batch beside the first once `overlapAt` items wait, not before', async () => {
    const g = gated();
    const b = new Batcher({ maxBatch: 4, slots: 2, overlapAt: 2, run: g.run });
    const all = [1, 2].map((i) => b.submit(i));
    // 1 starts alone; 2 alone is fewer than overlapAt: it waits.
    expect(g.batches.map((x) => x.items)).toEqual([[1]]);
    all.push(b.submit(3));
    // 2 and 3 make overlapAt: they go beside 1.
    expect(g.batches.map((x) => x.items)).toEqual([[1], [2, 3]]);
    all.push(...[4, 5, 6].map((i) => b.submit(i)));
    // Both slots are taken: 4–6 wait, whatever their number.
    expect(b.waiting).toBe(3);
    g.batches[1]!.finish();
    await tick();
    expect(g.batches.map((x) => x.items)).toEqual([[1], [2, 3], [4, 5, 6]]);
    g.batches[0]!.finish();
    g.batches[2]!.finish();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(() => new Batcher({ maxBatch: 4, slots: 2, overlapAt: 5, run: g.run })).toThrow(RangeError);
  });

  it('answers each item on its own, and fails a whole batch only when the batch itself fails', async () => {
    const g = gated();
    const b = new Batcher({ maxBatch: 8, slots: 1, run: g.run });
    const lone = b.submit(1);
    const mixed = [2, -3, 4].map((i) => b.submit(i));
    g.batches[0]!.finish();
    await lone;
    await tick();
    g.batches[1]!.finish();
    const settled = await Promise.allSettled(mixed);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('refused -3');

    const broken = new Batcher<number, number>({ maxBatch: 8, slots: 1, run: async () => Promise.reject(new Error('database gone')) });
    const out = await Promise.allSettled([broken.submit(1), broken.submit(2)]);
    expect(out.map((s) => (s as PromiseRejectedResult).reason.message)).toEqual(['database gone', 'database gone']);

    const short = new Batcher<number, number>({ maxBatch: 8, slots: 1, run: async () => [] });
    await expect(short.submit(1)).rejects.toThrow('a batch of 1 got 0 answers');
  });

  it('refuses a batcher that could never run anything', () => {
    expect(() => new Batcher({ maxBatch: 0, slots: 1, run: async () => [] })).toThrow(RangeError);
    expect(() => new Batcher({ maxBatch: 1, slots: 0, run: async () => [] })).toThrow(RangeError);
  });
});
