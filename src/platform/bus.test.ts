import { describe, expect, it } from 'vitest';
import { InProcessBus, type BusEvent } from './bus.ts';

const event = (n: number, topic = 'pledge.held'): BusEvent => ({ id: `e${n}`, topic, key: 'm1', payload: { n }, createdAt: new Date(0).toISOString() });
const tick = () => new Promise((r) => setImmediate(r));

describe('the in-process bus, publishing one key in order', () => {
  it('hands an order-keeping consumer every event at once, in order, and the others one after another', async () => {
    const bus = new InProcessBus();
    const batched: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    bus.subscribe('batching', ['pledge.held'], async (e) => {
      batched.push(e.id); // called synchronously, in order, before any settles
      await tick();
    }, { keepsOrder: true });
    const sequential: string[] = [];
    bus.subscribe('plain', ['pledge.held'], async (e) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await tick();
      sequential.push(e.id);
      inFlight--;
    });
    const events = [1, 2, 3, 4].map((n) => event(n));
    expect(await bus.publishInOrder(events)).toEqual({ published: 4 });
    expect(batched).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(sequential).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(maxInFlight).toBe(1);
  });

  it('counts as published only the events before the first one a consumer failed on', async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    bus.subscribe('fails-on-3', ['pledge.held'], async (e) => {
      if (e.id === 'e3') throw new Error('database away');
      seen.push(e.id);
    });
    bus.subscribe('fails-on-4', ['pledge.held'], async (e) => {
      if (e.id === 'e4') throw new Error('later');
    }, { keepsOrder: true });
    const out = await bus.publishInOrder([1, 2, 3, 4, 5].map((n) => event(n)));
    expect(out.published).toBe(2);
    expect(String(out.error)).toMatch(/fails-on-3 failed on pledge.held: database away/);
    // The plain consumer stopped at its failure, keeping the key's order.
    expect(seen).toEqual(['e1', 'e2']);
    await expect(bus.publish(event(3))).rejects.toThrow(/database away/);
  });

  it('skips consumers of other topics', async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    bus.subscribe('settlement', ['mission.decided'], async (e) => void seen.push(e.id));
    expect(await bus.publishInOrder([event(1), event(2, 'mission.decided')])).toEqual({ published: 2 });
    expect(seen).toEqual(['e2']);
  });
});
