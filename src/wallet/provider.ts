import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a payment provider tells us about a charge, through its webhook. */
export interface PaymentEvent {
  eventId: string;
  chargeId: string;
  status: 'succeeded' | 'failed';
  amount: number;
}

/** A cash payment provider. Charges complete asynchronously through the webhook. */
export interface PaymentProvider {
  readonly name: string;
  createCharge(charge: { id: string; amount: number; userId: string }): Promise<{ providerRef: string }>;
}

export const SIGNATURE_HEADER = 'x-missionlink-signature';
const TOLERANCE_SECONDS = 300;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, like the big providers do. */
export function signWebhook(secret: string, rawBody: string, at = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${at}.${rawBody}`).digest('hex');
  return `t=${at},v1=${mac}`;
}

/** Constant-time check of a webhook signature, with a replay window on its timestamp. */
export function verifyWebhook(secret: string, rawBody: string, header: string | undefined, now = Date.now()): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const at = Number(parts.t);
  if (!Number.isInteger(at) || !parts.v1 || Math.abs(now / 1000 - at) > TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${at}.${rawBody}`).digest('hex'));
  const given = Buffer.from(parts.v1);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The built-in sandbox: every charge succeeds at once, but still through the
 * real path — a signed callback delivered to the webhook endpoint.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';
  constructor(
    private readonly secret: string,
    private readonly deliver: (rawBody: string, signature: string) => Promise<void>,
  ) {}

  async createCharge(charge: { id: string; amount: number }): Promise<{ providerRef: string }> {
    const event: PaymentEvent = { eventId: `evt_${charge.id}`, chargeId: charge.id, status: 'succeeded', amount: charge.amount };
    const raw = JSON.stringify(event);
    await this.deliver(raw, signWebhook(this.secret, raw));
    return { providerRef: `sandbox_${charge.id}` };
  }
}
