import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Authenticator, IdentityService } from '../identity/index.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { idempotencyKeyOf } from '../platform/idempotency.ts';
import { amount, NoBody, page, Pagination, problems, userText, Uuid } from '../platform/schemas.ts';
import { WITHDRAWAL_STATUSES, type PayoutService } from './service.ts';

/** The largest amount a withdrawal body may name (it is bounded by `withdrawable` anyway). */
export const WITHDRAWAL_MAX = 1_000_000_000_000;

const WithdrawalSchema = z.object({
  id: z.string(),
  amount: z.number().int(),
  fee: z.number().int(),
  netAmount: z.number().int(),
  status: z.enum(WITHDRAWAL_STATUSES),
  requestedAt: z.string(),
  decidedAt: z.string().nullable(),
  paidAt: z.string().nullable(),
  failureReason: z.string().nullable(),
});
const OpsWithdrawalSchema = WithdrawalSchema.extend({
  channel: z.string().describe("the streamer's channel handle"),
  handle: z.string().describe('the same handle, under the name the ops page uses'),
  userId: z.string(),
  bankCode: z.string(),
  accountNumberMasked: z.string(),
});
const PayoutAccountSchema = z.object({ bankCode: z.string(), accountNumberMasked: z.string(), holderName: z.string(), verifiedAt: z.string() });

// Any id that is not one of ours is simply unknown (404), not malformed.
const WithdrawalParams = z.strictObject({ id: z.string().max(100) });
const known = (id: string) => {
  if (!Uuid.safeParse(id).success) throw new AppError('NOT_FOUND', 'No such withdrawal');
  return id.toLowerCase();
};

/**
 * The streamer's payout account and withdrawals, and the ops review queue
 * (API.md Part 2, "Streamer withdrawals").
 */
export async function payoutRoutes(app: App, payouts: PayoutService, identity: IdentityService, auth: Authenticator): Promise<void> {
  const security = [{ bearer: [] }];
  // The admin role: an ADMIN_EMAILS address its owner has verified (IdentityService.isAdmin).
  const requireAdmin = async (req: FastifyRequest): Promise<string> => {
    const userId = await auth.requireUser(req);
    const user = await identity.getUser(userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'The account of this token no longer exists');
    if (!identity.isAdmin(user)) throw new AppError('FORBIDDEN', 'Only operators (ADMIN_EMAILS, once the address is verified) can do this');
    return userId;
  };
  const { minAmount, fee, reviewAbove } = payouts.settings;

  app.put('/api/v1/streamer/payout-account', {
    schema: {
      tags: ['payouts'],
      summary: 'Register the bank account withdrawals are paid to (streamer only)',
      description: 'The payout provider verifies the account (the sandbox refuses numbers ending in `0000`: 422 `PAYOUT_ACCOUNT_INVALID`). Only the last 4 digits are kept and shown.',
      security,
      body: z.strictObject({
        bankCode: z.string().regex(/^[0-9]{3}$/, 'must be 3 digits'),
        accountNumber: z.string().regex(/^[0-9]{6,20}$/, 'must be 6–20 digits'),
        holderName: userText({ min: 1, max: 40 }),
      }),
      response: { 200: z.object({ payoutAccount: PayoutAccountSchema }), ...problems(400, 401, 403, 422) },
    },
  }, async (req) => ({ payoutAccount: await payouts.setAccount(await auth.requireUser(req), req.body) }));

  app.get('/api/v1/streamer/payout-account', {
    schema: {
      tags: ['payouts'], summary: 'Your payout account (streamer only); 404 when none is registered', security,
      response: { 200: z.object({ payoutAccount: PayoutAccountSchema }), ...problems(401, 403, 404) },
    },
  }, async (req) => ({ payoutAccount: await payouts.account(await auth.requireUser(req)) }));

  app.get('/api/v1/streamer/withdrawal-policy', {
    schema: {
      tags: ['payouts'],
      summary: 'The withdrawal rules of this deployment, to show before confirming (signed in)',
      description: '`minAmount` = WITHDRAWAL_MIN_KRW, `fee` = WITHDRAWAL_FEE_KRW (per withdrawal; `netAmount = amount − fee`), `reviewAbove` = WITHDRAWAL_REVIEW_ABOVE_KRW.',
      security,
      response: { 200: z.object({ minAmount: z.number().int(), fee: z.number().int(), reviewAbove: z.number().int(), currency: z.literal('KRW') }), ...problems(401) },
    },
  }, async (req) => {
    await auth.requireUser(req);
    return { minAmount, fee, reviewAbove, currency: 'KRW' as const };
  });

  app.post('/api/v1/streamer/withdrawals', {
    schema: {
      tags: ['payouts'],
      summary: 'Withdraw earnings to your payout account (streamer only)',
      description:
        `Held from the earnings at once (\`inFlight\`). \`amount\` ≥ WITHDRAWAL_MIN_KRW (${minAmount}) and ≤ \`withdrawable\` (else 402 \`INSUFFICIENT_FUNDS\`); ` +
        `\`fee\` = WITHDRAWAL_FEE_KRW (${fee}), \`netAmount = amount − fee\`. Amounts above WITHDRAWAL_REVIEW_ABOVE_KRW (${reviewAbove}) wait for an admin (\`REQUESTED\`); ` +
        'smaller ones go to the provider at once (`PROCESSING`), then `PAID` or `FAILED`. Accepts an `Idempotency-Key` header.',
      security,
      body: z.strictObject({ amount: amount(minAmount, WITHDRAWAL_MAX) }),
      response: { 201: z.object({ withdrawal: WithdrawalSchema }), ...problems(400, 401, 402, 403, 409, 422) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    const out = await payouts.request(userId, req.body.amount, idempotencyKeyOf(req, userId));
    if (out.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(out.status as 201).send(out.body);
  });

  app.get('/api/v1/streamer/withdrawals', {
    schema: {
      tags: ['payouts'], summary: 'Your withdrawals, newest first (streamer only)', security, querystring: Pagination,
      response: { 200: page(WithdrawalSchema), ...problems(400, 401, 403) },
    },
  }, async (req) => payouts.list(await auth.requireUser(req), req.query.limit, req.query.cursor));

  app.get('/api/v1/ops/withdrawals', {
    schema: {
      tags: ['ops'], summary: "Every streamer's withdrawals with the channel handle, newest first (admin only)", security,
      querystring: Pagination.extend({ status: z.enum(WITHDRAWAL_STATUSES).optional() }),
      response: { 200: page(OpsWithdrawalSchema), ...problems(400, 401, 403) },
    },
  }, async (req) => {
    await requireAdmin(req);
    return payouts.listAll(req.query.status, req.query.limit, req.query.cursor);
  });

  app.post('/api/v1/ops/withdrawals/:id/approve', {
    schema: {
      tags: ['ops'], summary: 'Send a REQUESTED withdrawal to the payout provider (admin only)', security, params: WithdrawalParams, body: NoBody,
      response: { 200: z.object({ withdrawal: OpsWithdrawalSchema }), ...problems(401, 403, 404, 409) },
    },
  }, async (req) => {
    const adminId = await requireAdmin(req);
    return payouts.approve(known(req.params.id), adminId);
  });

  app.post('/api/v1/ops/withdrawals/:id/reject', {
    schema: {
      tags: ['ops'], summary: 'Reject a REQUESTED withdrawal; the amount is withdrawable again (admin only)', security, params: WithdrawalParams,
      description: 'The reason is shown to the streamer as the withdrawal\'s `failureReason` (and in the mail).',
      body: z.strictObject({ reason: userText({ min: 1, max: 500 }) }),
      response: { 200: z.object({ withdrawal: OpsWithdrawalSchema }), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const adminId = await requireAdmin(req);
    return payouts.reject(known(req.params.id), adminId, req.body.reason);
  });
}
