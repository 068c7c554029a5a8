import { z } from 'zod';
import type { Authenticator } from '../identity/index.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { idempotencyKeyOf } from '../platform/idempotency.ts';
import { amount, NoBody, page, Pagination, problems } from '../platform/schemas.ts';
import { SIGNATURE_HEADER, verifyWebhook, type PaymentEvent } from './provider.ts';
import type { WalletService } from './service.ts';

export const CHARGE_MIN = 1_000;
export const CHARGE_MAX = 1_000_000;

const WalletSchema = z.object({ available: z.number().int(), held: z.number().int(), currency: z.literal('KRW'), points: z.number().int() });
const ChargeSchema = z.object({ id: z.string(), amount: z.number().int(), status: z.enum(['pending', 'succeeded', 'failed']) });
const EntrySchema = z.object({
  id: z.string(),
  kind: z.string(),
  amount: z.number().int(),
  balanceAfter: z.number().int(),
  missionId: z.string().optional(),
  createdAt: z.string(),
});
const PaymentEventSchema = z.strictObject({
  eventId: z.string().min(1).max(200).regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
  chargeId: z.string().min(1).max(64),
  status: z.enum(['succeeded', 'failed']),
  amount: z.number().int().positive(),
});

export async function walletRoutes(app: App, wallet: WalletService, auth: Authenticator, webhookSecret: string): Promise<void> {
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
      response: { 201: z.object({ charge: ChargeSchema }), ...problems(400, 401, 409, 422) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    const out = await wallet.charge(userId, req.body.amount, idempotencyKeyOf(req, userId));
    if (out.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(out.status as 201).send(out.body);
  });

  app.get('/api/v1/wallet/transactions', {
    schema: {
      tags: ['wallet'],
      summary: 'Cash movements, newest first, with the available balance after each',
      security: [{ bearer: [] }],
      querystring: Pagination,
      response: { 200: page(EntrySchema), ...problems(400, 401) },
    },
  }, async (req) => wallet.transactions(await auth.requireUser(req), req.query.limit, req.query.cursor));

  app.post('/api/v1/points/claim', {
    schema: {
      tags: ['wallet'],
      summary: 'Claim the daily 100 channel points (once per UTC day)',
      security: [{ bearer: [] }],
      body: NoBody,
      response: { 200: z.object({ granted: z.number().int(), points: z.number().int() }), ...problems(401, 409) },
    },
  }, async (req) => wallet.claimDailyPoints(await auth.requireUser(req)));

  app.post('/api/v1/payments/webhook', {
    schema: {
      tags: ['wallet'],
      summary: 'Payment provider callback (HMAC-signed)',
      description: `Signed with the header \`${SIGNATURE_HEADER}: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">\`. A replayed event changes nothing.`,
      body: PaymentEventSchema,
      response: { 200: z.object({ result: z.enum(['applied', 'duplicate']) }), ...problems(400, 401, 404) },
    },
  }, async (req) => {
    const raw = (req as { rawBody?: string }).rawBody ?? '';
    const sig = req.headers[SIGNATURE_HEADER];
    if (!verifyWebhook(webhookSecret, raw, typeof sig === 'string' ? sig : undefined)) {
      throw new AppError('INVALID_SIGNATURE', 'The webhook signature is missing, wrong or too old');
    }
    const result = await wallet.applyPaymentEvent(req.body as PaymentEvent);
    if (result === 'unknown_charge') throw new AppError('NOT_FOUND', 'No such charge');
    return { result };
  });
}
