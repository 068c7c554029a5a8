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

export interface SubscribeOptions {
  /**
   * The handler keeps the order of its calls by itself (it queues them), so
   * the events of one key may be handed to it without waiting for the one
   * before; it can then take them in batches.
   */
  keepsOrder?: boolean;
}

/** What `publishInOrder` handed over: the first `published` events; `error` is why the next one was not. */
export interface Published {
  published: number;
  error?: unknown;
}

/**
 * The event bus. `publish` resolves once the event is durably handed over:
 * for the in-process bus that is when every local consumer has processed it;
 * for JetStream, when the stream has stored it. Delivery is at-least-once;
 * consumers make effects exactly-once with the inbox.
 */
export interface Bus {
  readonly kind: 'in-process' | 'nats';
  publish(event: BusEvent): Promise<void>;
  /**
   * Publishes events of one key in their order. On a failure the events
   * after the failed one are not published (they are retried later, in order).
   */
  publishInOrder(events: BusEvent[]): Promise<Published>;
  subscribe(consumer: string, topics: string[], handler: Handler, opts?: SubscribeOptions): void;
  /** Resolves when the bus answers (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class InProcessBus implements Bus {
  readonly kind = 'in-process' as const;
  private readonly subs: { consumer: string; topics: Set<string>; handler: Handler; keepsOrder: boolean }[] = [];

  subscribe(consumer: string, topics: string[], handler: Handler, opts: SubscribeOptions = {}): void {
    this.subs.push({ consumer, topics: new Set(topics), handler, keepsOrder: opts.keepsOrder ?? false });
  }

  async publish(event: BusEvent): Promise<void> {
    const { error } = await this.publishInOrder([event]);
    if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
  }

  /**
   * Hands the events to every local consumer: all at once to one that keeps
   * order itself, one after another to the others. Published are the events
   * before the first that any consumer failed on.
   */
  async publishInOrder(events: BusEvent[]): Promise<Published> {
    const outcomes = await Promise.all(
      this.subs.map(async (s): Promise<Published> => {
        const mine = events.flatMap((e, i) => (s.topics.has(e.topic) || s.topics.has('*') ? [{ e, i }] : []));
        if (s.keepsOrder) {
          const settled = await Promise.allSettled(mine.map(({ e }) => s.handler(e)));
          const k = settled.findIndex((r) => r.status === 'rejected');
          return k < 0 ? { published: events.length } : { published: mine[k]!.i, error: consumerError(s.consumer, mine[k]!.e, (settled[k] as PromiseRejectedResult).reason) };
        }
        for (const { e, i } of mine) {
          try {
            await s.handler(e);
          } catch (err) {
            return { published: i, error: consumerError(s.consumer, e, err) };
          }
        }
        return { published: events.length };
      }),
    );
    return outcomes.reduce((first, o) => (o.published < first.published ? o : first), { published: events.length } as Published);
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

function consumerError(consumer: string, event: BusEvent, reason: unknown): Error {
  return new Error(`consumer ${consumer} failed on ${event.topic}: ${String((reason as Error)?.message ?? reason)}`);
}
