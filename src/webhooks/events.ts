// Which outbox topics become which webhook event types (API.md Part 2,
// "Outbound webhooks"). Each event names its channel by handle (`channel` in
// its payload); its payload becomes the delivery's `data`.

/** The event types an endpoint may ask for (the contract's list). */
export const EVENT_TYPES = [
  'mission.proposed',
  'mission.accepted',
  'mission.progress',
  'mission.decided',
  'mission.settled',
  'pledge.created',
  'withdrawal.updated',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The type of the deliveries that `POST …/webhooks/:id/test` sends. */
export const TEST_EVENT_TYPE = 'webhook.test';

/**
 * Outbox topic → webhook event type. A topic another module adds later is one
 * line here (the payload must carry its channel's handle as `channel`):
 * `mission.progress` (per-unit counters) and `withdrawal.updated` are listed
 * already and are delivered as soon as something publishes them.
 */
export const TOPIC_TYPES: Readonly<Record<string, EventType>> = {
  'mission.proposed': 'mission.proposed',
  'mission.accepted': 'mission.accepted',
  'mission.progress': 'mission.progress',
  // Rejected, cancelled, succeeded or failed by its streamer; expired by the
  // sweeper: either way its outcome is decided (data.state says which).
  'mission.decided': 'mission.decided',
  'mission.expired': 'mission.decided',
  'mission.settled': 'mission.settled',
  'pledge.held': 'pledge.created',
  'withdrawal.updated': 'withdrawal.updated',
};

/** The channel an event belongs to, or undefined when it names none. */
export function channelOf(payload: Record<string, unknown>): string | undefined {
  return typeof payload.channel === 'string' && payload.channel !== '' ? payload.channel : undefined;
}

/**
 * The exact bytes of a delivery: `{"type","timestamp","data"}` with the
 * event's time. Made once per delivery and stored, so every retry sends (and
 * signs) the same body.
 */
export function deliveryBody(type: string, occurredAt: string, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: new Date(occurredAt).toISOString(), data });
}
