/** An event as it travels from the outbox through the bus to consumers. */
export interface BusEvent<P = Record<string, unknown>> {
  /** The outbox row id: consumers de-duplicate on it. */
  id: string;
  topic: string;
  /** Partition key, e.g. the mission id. */
  key: string;
  payload: P;
  createdAt: string;
}

export type Handler = (event: BusEvent) => Promise<void>;

/**
 * The event bus. `publish` resolves once the event is durably handed over:
 * for the in-process bus that is when every local consumer has processed it;
 * for JetStream, when the stream has stored it. Delivery is at-least-once;
 * consumers make effects exactly-once with the inbox.
 */
export interface Bus {
  readonly kind: 'in-process' | 'nats';
  publish(event: BusEvent): Promise<void>;
  subscribe(consumer: string, topics: string[], handler: Handler): void;
  /** Resolves when the bus answers (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class InProcessBus implements Bus {
  readonly kind = 'in-process' as const;
  private readonly subs: { consumer: string; topics: Set<string>; handler: Handler }[] = [];

  subscribe(consumer: string, topics: string[], handler: Handler): void {
    this.subs.push({ consumer, topics: new Set(topics), handler });
  }

  async publish(event: BusEvent): Promise<void> {
    const targets = this.subs.filter((s) => s.topics.has(event.topic) || s.topics.has('*'));
    const results = await Promise.allSettled(targets.map((s) => s.handler(event)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) {
      throw new Error(`${failed.length} consumer(s) failed on ${event.topic}: ${String(failed[0]!.reason?.message ?? failed[0]!.reason)}`);
    }
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
