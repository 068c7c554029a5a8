import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import client from 'prom-client';
import type { Bus, BusEvent, Handler, Published, SubscribeOptions } from './bus.ts';
import type { Logger } from './log.ts';

export const STREAM = 'MISSIONLINK';
export const DLQ_STREAM = 'MISSIONLINK_DLQ';
const SUBJECT_PREFIX = 'ml.events.';
/** Deliveries of one message before it goes to the dead-letter subject. */
export const MAX_DELIVERIES = 8;
const ACK_WAIT_MS = 60_000;
/** Messages an order-keeping handler may have in hand at once (the consumer's pull batch is 64). */
const MAX_IN_FLIGHT = 256;
/** JetStream drops a second publish with the same message id within this window. */
const DUPLICATE_WINDOW_MS = 30 * 60_000;
/** Longest wait for a consumer's lag when /metrics is scraped. */
const LAG_LOOKUP_MS = 2000;

const durableName = (consumer: string, topic: string) => `${consumer}-${topic.replace(/[^\w-]/g, '_')}`;
const backoffMs = (delivery: number) => Math.min(1000 * 2 ** (delivery - 1), 60_000);

/**
 * The event bus on NATS JetStream. Streams and durable consumers are created
 * idempotently at start, file-backed. The outbox row id is the message id, so
 * a re-published event is dropped by the server. A message is acknowledged
 * only after its handler (and so the consumer's inbox commit) succeeded;
 * failures are redelivered with backoff, at most MAX_DELIVERIES times, then
 * parked on `ml.dead.<consumer>` and counted.
 */
export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private readonly ready: Promise<void>;
  private readonly subs: { consumer: string; topics: string[]; handler: Handler }[] = [];
  private readonly loops: Promise<void>[] = [];
  private closed = false;
  private readonly deadLetters: client.Counter<'consumer'>;

  constructor(private readonly url: string, private readonly log: Logger, registry: client.Registry, name = 'missionlink') {
    this.deadLetters = new client.Counter({ name: 'missionlink_bus_dead_letters_total', help: 'Events parked on the dead-letter subject after too many failed deliveries', labelNames: ['consumer'], registers: [registry] });
    const subs = this.subs;
    const manager = () => this.jsm;
    new client.Gauge({
      name: 'missionlink_bus_consumer_lag',
      help: 'Events waiting for or being processed by a JetStream consumer',
      labelNames: ['consumer'],
      registers: [registry],
      async collect() {
        const jsm = manager();
        if (!jsm) return;
        // In parallel and bounded: with NATS away each lookup would wait for
        // its request timeout, and a scrape of every topic in turn outlasted
        // Prometheus's scrape timeout — no metrics at all during an outage.
        await Promise.all(
          subs.map(async (s) => {
            const infos = await Promise.all(
              s.topics.map((topic) => withTimeout(jsm.consumers.info(STREAM, durableName(s.consumer, topic)), LAG_LOOKUP_MS, 'timeout').catch(() => undefined)),
            );
            // Unknown is not zero: keep the last value until NATS answers again.
            if (infos.some((i) => i === undefined)) return;
            this.set({ consumer: s.consumer }, infos.reduce((n, i) => n + i!.num_pending + i!.num_ack_pending, 0));
          }),
        );
      },
    });
    this.ready = this.init(name);
    this.ready.catch(() => undefined);
  }

  private async init(name: string): Promise<void> {
    // waitOnFirstConnect: a process started while NATS is down keeps trying.
    this.nc = await connect({ servers: this.url, name, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 1000, waitOnFirstConnect: true });
    void (async () => {
      for await (const s of this.nc!.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect') this.log.warn({ bus: 'nats', status: s.type }, `NATS ${s.type}`);
      }
    })().catch(() => undefined);
    this.jsm = await jetstreamManager(this.nc);
    await this.ensureStreams();
    this.js = jetstream(this.nc);
    this.log.info({ bus: 'nats', url: this.url.replace(/\/\/[^@]*@/, '//***@') }, 'connected to NATS JetStream');
  }

  private async ensureStream(name: string, subjects: string[]): Promise<void> {
    const config = { name, subjects, storage: StorageType.File, duplicate_window: nanos(DUPLICATE_WINDOW_MS) };
    try {
      await this.jsm!.streams.info(name);
      await this.jsm!.streams.update(name, { subjects, duplicate_window: config.duplicate_window });
    } catch {
      await this.jsm!.streams.add(config).catch(async (err) => {
        // Another process created it between our two calls.
        if (!/already in use|exists/i.test(String(err))) throw err;
      });
    }
  }

  async publish(event: BusEvent): Promise<void> {
    await withTimeout(this.ready, 5000, 'NATS is not connected');
    try {
      await this.js!.publish(`${SUBJECT_PREFIX}${event.topic}`, JSON.stringify(event), { msgID: event.id, timeout: 5000 });
    } catch (err) {
      // A broker that came back with an empty store has no stream: create it
      // again (idempotent) so the outbox can drain; this publish is retried.
      if (/no responders|stream not found|503/i.test(String((err as Error).message))) await this.ensureStreams().catch(() => undefined);
      throw err;
    }
  }

  private async ensureStreams(): Promise<void> {
    await this.ensureStream(STREAM, [`${SUBJECT_PREFIX}>`]);
    await this.ensureStream(DLQ_STREAM, ['ml.dead.>']);
  }


  /** One after another: a later event must never be stored before an earlier one that failed. */
  async publishInOrder(events: BusEvent[]): Promise<Published> {
    for (const [i, event] of events.entries()) {
      try {
        await this.publish(event);
      } catch (error) {
        return { published: i, error };
      }
    }
    return { published: events.length };
  }

  subscribe(consumer: string, topics: string[], handler: Handler, opts: SubscribeOptions = {}): void {
    this.subs.push({ consumer, topics, handler });
    for (const topic of topics) this.loops.push(this.consumeLoop(consumer, topic, handler, opts.keepsOrder ?? false));
  }

  private async consumeLoop(consumer: string, topic: string, handler: Handler, keepsOrder: boolean): Promise<void> {
    const durable = durableName(consumer, topic);
    while (!this.closed) {
      try {
        await this.ready;
        await this.ensureStreams();
        await this.jsm!.consumers.add(STREAM, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: `${SUBJECT_PREFIX}${topic}`,
          ack_wait: nanos(ACK_WAIT_MS),
          max_deliver: -1,
        }).catch(async (err) => {
          if (!/already|exists/i.test(String(err))) throw err;
        });
        const c = await this.js!.consumers.get(STREAM, durable);
        const messages = await c.consume({ max_messages: 64 });
        // An order-keeping handler gets the next messages without waiting for
        // the previous ones (it queues them in call order and may batch
        // them); the others one at a time. handle() never rejects.
        const inFlight = new Set<Promise<void>>();
        for await (const m of messages) {
          if (this.closed) break;
          if (!keepsOrder) {
            await this.handle(consumer, m, handler);
            continue;
          }
          const done: Promise<void> = this.handle(consumer, m, handler).finally(() => inFlight.delete(done));
          inFlight.add(done);
          if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      } catch (err) {
        if (this.closed) return;
        this.log.warn({ bus: 'nats', consumer: durable, err: (err as Error).message }, 'consumer loop failed; restarting');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async handle(consumer: string, m: JsMsg, handler: Handler): Promise<void> {
    let event: BusEvent;
    try {
      event = JSON.parse(m.string()) as BusEvent;
    } catch {
      await this.park(consumer, m, 'unparsable message');
      return;
    }
    try {
      await handler(event);
      m.ack();
    } catch (err) {
      const delivery = m.info.deliveryCount;
      if (delivery >= MAX_DELIVERIES) {
        await this.park(consumer, m, (err as Error).message);
        return;
      }
      this.log.warn({ consumer, topic: event.topic, id: event.id, delivery, err: (err as Error).message }, 'event handler failed; will redeliver');
      m.nak(backoffMs(delivery));
    }
  }

  private async park(consumer: string, m: JsMsg, reason: string): Promise<void> {
    try {
      await this.js!.publish(`ml.dead.${consumer}`, m.data, { headers: undefined, timeout: 5000 });
      m.term(reason);
      this.deadLetters.inc({ consumer });
      this.log.error({ consumer, subject: m.subject, reason }, 'event parked on the dead-letter subject');
    } catch {
      m.nak(60_000);
    }
  }

  async ping(): Promise<void> {
    await withTimeout(this.ready, 1000, 'NATS is not connected');
    if (this.nc!.isClosed()) throw new Error('NATS connection closed');
    await withTimeout(this.nc!.flush(), 1000, 'NATS does not answer');
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc!.close());
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
