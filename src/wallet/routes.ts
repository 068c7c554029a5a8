import { z } from 'zod';
import type { Authenticator } from '../identity/index.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { idempotencyKeyOf } from '../platform/idempotency.ts';
import { amount, NoBody, page, Pagination, problems } from '../platform/schemas.ts';
import { SIGNATURE_HEADER } from './provider.ts';
import { PortOneProvider } from './portone.ts';
import { REFUND_MIN } from './refunds.ts';
import type { WalletService } from './service.ts';

export const CHARGE_MIN = 1_000;
export const CHARGE_MAX = 1_000_000;

const WalletSchema = z.object({
  available: z.number().int(),
  held: z.number().int(),
  currency: z.literal('KRW'),
  points: z.number().int(),
  owed: z.number().int().describe('KRW owed after a provider reversal (0 normally); new charges pay it back first'),
});
const RefundSchema = z.object({
  id: z.string(),
  amount: z.number().int(),
  status: z.enum(['pending', 'succeeded', 'partially_succeeded', 'failed']),
  createdAt: z.string(),
});
const CheckoutSchema = z
  .object({
    storeId: z.string(),
    channelKey: z.string(),
    paymentId: z.string(),
    orderName: z.string(),
    totalAmount: z.number().int(),
    currency: z.literal('KRW'),
  })
  .describe("With PAYMENT_PROVIDER=portone: what the browser opens PortOne's checkout with (the charge stays pending until PortOne confirms it)");
const ChargeSchema = z.object({
  id: z.string(),
  amount: z.number().int(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  checkout: CheckoutSchema.optional(),
});
const EntrySchema = z.object({
  id: z.string(),
  kind: z.string(),
  amount: z.number().int(),
  balanceAfter: z.number().int(),
  missionId: z.string().optional(),
  missionTitle: z.string().optional().describe("An extension: the title of the entry's mission, with `missionId`"),
  createdAt: z.string(),
});
const PaymentEventSchema = z.strictObject({
  eventId: z.string().min(1).max(200).regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
  chargeId: z.string().min(1).max(64),
  status: z.enum(['succeeded', 'failed', 'reversed']),
  amount: z.number().int().positive(),
});

/** Asked before a charge: throws the refusal when the user may not charge now (self-excluded). */
export type ChargeGate = (userId: string, now: Date) => Promise<void>;

export async function walletRoutes(app: App, wallet: WalletService, auth: Authenticator, webhookSecret: string, gate?: ChargeGate): Promise<void> {
  app.get('/api/v1/wallet', {
    schema: { tags: ['wallet'], summary: 'Cash and points balance', security: [{ bearer: [] }], response: { 200: WalletSchema, ...problems(401) } },
  }, async (req) => wallet.wallet(await auth.requireUser(req)));

  app.post('/api/v1/wallet/charges', {
    schema: {
      tags: ['wallet'],
      summary: 'Charge cash through the payment provider (the sandbox completes at once)',
      description: 'Accepts an `Idempotency-Key` header: the same key and body replay the first response.',
      security: [{ bearer: [] }],
      body: z.strictObject({ amount: amount(CHARGE_MIN, CHARGE_MAX) }),
      response: { 201: z.object({ charge: ChargeSchema }), ...problems(400, 401, 403, 409, 422) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    await gate?.(userId, new Date());
    const out = await wallet.charge(userId, req.body.amount, idempotencyKeyOf(req, userId));
    if (out.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(out.status as 201).send(out.body);
  });

  app.post('/api/v1/wallet/refunds', {
    schema: {
      tags: ['wallet'],
      summary: 'Refund unused cash to the payment method it came from (newest charges first)',
      description:
        'Partial cancellations of the newest charges first, through the payment provider. `available` drops by `amount` at once; ' +
        'in the sandbox the refund has `status: "succeeded"` at once, elsewhere it may be `pending` until the provider answers ' +
        '(a refused share returns to `available`). While something is owed after a reversal, only `available − owed` can be refunded. ' +
        'Accepts an `Idempotency-Key` header: the same key and body replay the first response.',
      security: [{ bearer: [] }],
      body: z.strictObject({ amount: amount(REFUND_MIN, Number.MAX_SAFE_INTEGER) }),
      response: { 201: z.object({ refund: RefundSchema }), ...problems(400, 401, 402, 409, 422) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    const out = await wallet.refund(userId, req.body.amount, idempotencyKeyOf(req, userId));
    if (out.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(out.status as 201).send(out.body);
  });

  app.get('/api/v1/wallet/refunds', {
    schema: {
      tags: ['wallet'],
      summary: 'The caller’s refunds of unused cash, newest first (the last 50)',
      security: [{ bearer: [] }],
      response: { 200: z.object({ items: z.array(RefundSchema) }), ...problems(401) },
    },
  }, async (req) => ({ items: await wallet.refunds.list(await auth.requireUser(req), 50) }));

  app.post('/api/v1/wallet/charges/:id/complete', {
    schema: {
      tags: ['wallet'],
      summary: "Confirm a charge after the provider's checkout (the browser calls it on return)",
      description:
        "Never trusts the browser: with PortOne the payment is fetched from PortOne and checked (store, status, currency, amount) before the wallet is credited, once. " +
        'Answers the charge as it is now (`pending` while PortOne has not confirmed it). 503 when the provider cannot be reached.',
      security: [{ bearer: [] }],
      params: z.strictObject({ id: z.string().min(1).max(64) }),
      body: NoBody,
      response: { 200: z.object({ charge: ChargeSchema }), ...problems(401, 404, 503) },
    },
  }, async (req) => {
    const userId = await auth.requireUser(req);
    const charge = await wallet.syncPayment(req.params.id, userId);
    if (!charge) throw new AppError('NOT_FOUND', 'No such charge');
    return { charge };
  });

  app.get('/api/v1/wallet/transactions', {
    schema: {
      tags: ['wallet'],
      summary: 'Cash movements, newest first, with the available balance after each',
      security: [{ bearer: [] }],
      querystring: Pagination,
      response: {
        200: page(
          EntrySchema.extend({
            capturedAmount: z
              .number()
              .int()
              .optional()
              .describe(
                'An extension, on a hold made final (`capture`, `partial_capture`, `cash_refund_done`): the part of the hold that left for good — ' +
                  "captured for the mission (on a failure, the streamer's share) or paid back to the payment method. `amount` is what came back to `available`.",
              ),
          }),
        ),
        ...problems(400, 401),
      },
    },
  }, async (req) => wallet.transactions(await auth.requireUser(req), req.query.limit, req.query.cursor));

  app.get('/api/v1/wallet/points/transactions', {
    schema: {
      tags: ['wallet'],
      summary: 'Channel point movements, newest first, with the balance after each (an extension)',
      description: '`kind`: `signup` (the grant of a new account), `daily` (the daily claim), `bet`, `payout` and `refund` (of predictions, with `missionId`).',
      security: [{ bearer: [] }],
      querystring: Pagination,
      response: {
        200: page(EntrySchema.extend({ kind: z.enum(['signup', 'daily', 'bet', 'payout', 'refund', 'adjustment']) })),
        ...problems(400, 401),
      },
    },
  }, async (req) => wallet.pointsTransactions(await auth.requireUser(req), req.query.limit, req.query.cursor));

  app.post('/api/v1/points/claim', {
    schema: {
      tags: ['wallet'],
      summary: 'Claim the daily 100 channel points (once per calendar day in Korea: KST, Asia/Seoul)',
      security: [{ bearer: [] }],
      body: NoBody,
      response: { 200: z.object({ granted: z.number().int(), points: z.number().int() }), ...problems(401, 409) },
    },
  }, async (req) => wallet.claimDailyPoints(await auth.requireUser(req)));

  app.post('/api/v1/payments/webhook', {
    schema: {
      tags: ['wallet'],
      summary: 'Payment provider callback (HMAC-signed)',
      description:
        `Signed with the header \`${SIGNATURE_HEADER}: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">\`. A replayed event changes nothing. ` +
        '`status` is the outcome of a new charge (`succeeded`, `failed`) or `reversed`: a reversal of `amount` KRW of a charge that succeeded, ' +
        'taken from available cash, then from held pledges on undecided missions (newest first, each voided whole), the rest becoming `owed`.',
      body: PaymentEventSchema,
      response: { 200: z.object({ result: z.enum(['applied', 'duplicate']) }), ...problems(400, 401, 404) },
    },
  }, async (req) => {
    // The body was validated against PaymentEventSchema; the signature covers its raw bytes.
    const raw = (req as { rawBody?: string }).rawBody ?? '';
    const sig = req.headers[SIGNATURE_HEADER];
    const result = await wallet.applySignedPaymentEvent(webhookSecret, raw, typeof sig === 'string' ? sig : undefined);
    if (result === 'unknown_charge') throw new AppError('NOT_FOUND', 'No such charge');
    return { result };
  });

  // PortOne's webhooks, when it is the provider.
  const portone = wallet.provider instanceof PortOneProvider ? wallet.provider : undefined;
  if (portone) {
    app.post('/api/v1/payments/portone/webhook', {
      schema: {
        tags: ['wallet'],
        summary: 'PortOne V2 webhook (Standard Webhooks signature)',
        description:
          'Verified with `PORTONE_WEBHOOK_SECRET` (`webhook-id`, `webhook-timestamp`, `webhook-signature`); 401 otherwise. ' +
          'Its content is only a hint: the payment it names is fetched from PortOne and checked before anything is credited or reversed. ' +
          'A dispute (`Transaction.DisputeCreated`) reverses what the charge has left, once per dispute; `Transaction.DisputeResolved` restores nothing. ' +
          'A payment that is not one of our charges is ignored (200).',
        response: { 200: z.object({ result: z.enum(['synced', 'ignored']) }), ...problems(400, 401, 503) },
      },
    }, async (req) => {
      const raw = (req as { rawBody?: string }).rawBody ?? '';
      let hook;
      try {
        hook = await portone.verifyWebhook(raw, req.headers as Record<string, string | string[] | undefined>);
      } catch {
        throw new AppError('INVALID_SIGNATURE', 'The webhook signature is missing, wrong or too old');
      }
      if (!hook.type.startsWith('Transaction.') || !hook.paymentId) return { result: 'ignored' as const };
      const charge = await wallet.syncPayment(hook.paymentId);
      if (charge && hook.type === 'Transaction.DisputeResolved') {
        // PortOne does not say who won; what the dispute reversed stays reversed (see syncPayment).
        req.log.warn({ paymentId: hook.paymentId }, 'portone: a dispute was resolved; nothing is restored automatically');
      }
      if (!charge) req.log.warn({ paymentId: hook.paymentId, type: hook.type }, 'portone webhook for a payment that is no charge of ours');
      return { result: charge ? ('synced' as const) : ('ignored' as const) };
    });
  }
}
