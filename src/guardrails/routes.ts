import { z } from 'zod';
import type { Authenticator } from '../identity/index.ts';
import type { App } from '../platform/http.ts';
import { amount, problems } from '../platform/schemas.ts';
import type { SpendingGuards } from './service.ts';

const LIMIT_MAX = 1_000_000_000;
const Limit = amount(1, LIMIT_MAX).nullable();

const LimitsSchema = z.object({
  dailyPledgeLimit: z.number().int().nullable(),
  monthlyPledgeLimit: z.number().int().nullable(),
  pending: z
    .object({ dailyPledgeLimit: z.number().int().nullable().optional(), monthlyPledgeLimit: z.number().int().nullable().optional(), effectiveAt: z.string() })
    .nullable()
    .describe('A raised or removed limit waiting its 24 hours, and when it applies'),
  selfExcludedUntil: z.string().nullable(),
});

export async function guardrailRoutes(app: App, guards: SpendingGuards, auth: Authenticator): Promise<void> {
  const me = { tags: ['guardrails'], security: [{ bearer: [] }] };

  app.get('/api/v1/me/limits', {
    schema: { ...me, summary: 'Your spending limits (KRW per KST day and month) and self-exclusion', response: { 200: LimitsSchema, ...problems(401) } },
  }, async (req) => guards.limits(await auth.requireUser(req), new Date()));

  app.put('/api/v1/me/limits', {
    schema: {
      ...me, summary: 'Set your spending limits: lowering applies at once, raising or removing (null) 24 hours later',
      body: z.strictObject({ dailyPledgeLimit: Limit.optional(), monthlyPledgeLimit: Limit.optional() }),
      response: { 200: LimitsSchema, ...problems(400, 401) },
    },
  }, async (req) => guards.setLimits(await auth.requireUser(req), req.body, new Date()));

  app.post('/api/v1/me/self-exclusion', {
    schema: {
      ...me, summary: 'Exclude yourself from charges, proposals, pledges and bets for 1–365 days (cannot be shortened)',
      body: z.strictObject({ days: z.number().int().min(1).max(365) }),
      response: { 200: LimitsSchema, ...problems(400, 401) },
    },
  }, async (req) => guards.selfExclude(await auth.requireUser(req), req.body.days, new Date()));
}
