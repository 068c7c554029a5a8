import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Authenticator, IdentityService } from '../identity/index.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { MISSION_STATES, MissionSchema, DisputeViewSchema, type MissionService } from '../missions/index.ts';
import { NoBody, page, Pagination, problems, userText, Uuid } from '../platform/schemas.ts';
import type { OpsService } from './service.ts';

// Any id that is not one of ours is simply unknown (404), not malformed.
const MissionParams = z.strictObject({ id: z.string().max(100) });
const known = (id: string) => {
  if (!Uuid.safeParse(id).success) throw new AppError('NOT_FOUND', 'No such mission');
  return id.toLowerCase();
};

export async function opsRoutes(app: App, ops: OpsService, identity: IdentityService, auth: Authenticator, missions?: MissionService): Promise<void> {
  // The admin role: an ADMIN_EMAILS address its owner has verified (IdentityService.isAdmin).
  const requireAdmin = async (req: FastifyRequest): Promise<string> => {
    const user = await identity.getUser(await auth.requireUser(req));
    if (!user) throw new AppError('UNAUTHENTICATED', 'The account of this token no longer exists');
    if (!identity.isAdmin(user)) throw new AppError('FORBIDDEN', 'Only operators (ADMIN_EMAILS, once the address is verified) can see this');
    return user.id;
  };
  const security = [{ bearer: [] }];

  const Counted = z.object({ count: z.number().int(), amount: z.number().int() });
  const Business = z.object({
    day: z.string().describe('Today in Korea (Asia/Seoul), YYYY-MM-DD: the day of capturedToday and feesToday'),
    held: Counted.describe('Pledges whose cash is held now (missions not settled yet)'),
    capturedToday: z.number().int().describe('KRW captured from backers today (KST), before fees, by the missions settled today'),
    feesToday: z.number().int().describe('The platform fees on capturedToday'),
    missions: z.record(z.enum(MISSION_STATES), z.number().int()).describe('Missions of every channel by state'),
    withdrawalsInReview: Counted.describe('Withdrawals waiting for an admin (REQUESTED)'),
  });
  const Day = z.object({ day: z.string(), captured: z.number().int(), fees: z.number().int() });
  const Sample = z.object({
    at: z.string(),
    uptimeSeconds: z.number(),
    http: z.object({ requests: z.number(), errors5xx: z.number(), latencySecondsSum: z.number(), latencyCount: z.number() }),
    pledges: z.object({ count: z.number(), amount: z.number() }),
    settlement: z.object({ settledTotal: z.number(), pendingJobs: z.number(), lagSecondsSum: z.number(), lagCount: z.number() }),
    outbox: z.object({ pending: z.number(), oldestAgeSeconds: z.number() }),
    mail: z.object({ pending: z.number(), sent: z.number(), failed: z.number() }),
    sse: z.object({ clients: z.number() }),
  });
  const Summary = Sample.extend({
    business: Business,
    ledger: z.object({ last: z.looseObject({ ok: z.boolean(), checkedAt: z.string() }).nullable() }),
  });

  // Closing the server stops the sampling the first look started.
  app.addHook('onClose', async () => ops.stop());

  app.get('/api/v1/ops/summary', {
    schema: {
      tags: ['ops'], summary: 'Operational figures for the ops page (admin only)', security,
      description: 'Counters are cumulative since the process started; compute rates from consecutive polls. `business` is the platform’s money and work now.',
      response: { 200: Summary, ...problems(401, 403) },
    },
  }, async (req) => {
    await requireAdmin(req);
    return (await ops.summary()) as unknown as z.infer<typeof Summary>;
  });

  app.get('/api/v1/ops/history', {
    schema: {
      tags: ['ops'], summary: 'What the ops page draws after a reload (admin only)', security,
      description: 'This process’s samples of the summary’s counters (every `intervalSeconds`, the last hour, from the first look on; not the business figures) and the captured cash and fees of the last 14 KST days.',
      response: {
        200: z.object({ intervalSeconds: z.number().int(), samples: z.array(Sample), days: z.array(Day) }),
        ...problems(401, 403),
      },
    },
  }, async (req) => {
    await requireAdmin(req);
    return ops.history();
  });

  app.post('/api/v1/ops/ledger/verify', {
    schema: {
      tags: ['ops'], summary: 'Verify the books now (admin only)', security, body: NoBody,
      response: { 200: z.looseObject({ ok: z.boolean() }), ...problems(401, 403) },
    },
  }, async (req) => {
    await requireAdmin(req);
    return (await ops.verifyLedger()) as unknown as { ok: boolean };
  });

  if (!missions) return;

  // The review queue (API.md Part 2): disputed missions wait IN_REVIEW for an admin.
  app.get('/api/v1/ops/missions', {
    schema: {
      tags: ['ops'], summary: 'Missions of every channel, newest first, e.g. ?state=IN_REVIEW (admin only)', security,
      querystring: Pagination.extend({ state: z.enum(MISSION_STATES).optional() }),
      response: { 200: page(MissionSchema), ...problems(400, 401, 403) },
    },
  }, async (req) => {
    await requireAdmin(req);
    return missions.listByState(req.query.state, req.query.limit, req.query.cursor);
  });

  app.get('/api/v1/ops/missions/:id/disputes', {
    schema: {
      tags: ['ops'], summary: 'Disputes of a mission, newest first (admin only)', security, params: MissionParams, querystring: Pagination,
      response: { 200: page(DisputeViewSchema), ...problems(400, 401, 403, 404) },
    },
  }, async (req) => {
    await requireAdmin(req);
    return missions.disputes(known(req.params.id), null, req.query.limit, req.query.cursor);
  });

  app.post('/api/v1/ops/missions/:id/resolve', {
    schema: {
      tags: ['ops'], summary: 'Resolve a disputed mission (IN_REVIEW): it enters the outcome and settles (admin only)', security, params: MissionParams,
      body: z.strictObject({ outcome: z.enum(['SUCCEEDED', 'FAILED', 'CANCELLED']) }),
      response: { 200: z.object({ mission: MissionSchema }), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const now = new Date();
    const adminId = await requireAdmin(req);
    return missions.resolveReview(adminId, known(req.params.id), req.body.outcome, now);
  });

  app.post('/api/v1/ops/users/:id/release-holds', {
    schema: {
      tags: ['ops'],
      summary: 'Release every held pledge of a user on undecided missions, e.g. at a guardian’s request (admin only; audited)',
      description: 'Each pledge is voided whole, as a provider reversal would: the money is back in the user’s available cash, mission totals drop, live events say so.',
      security,
      params: z.strictObject({ id: z.string().max(100) }),
      body: z.strictObject({ reason: userText({ min: 1, max: 500 }) }),
      response: { 200: z.object({ released: z.number().int(), amount: z.number().int() }), ...problems(400, 401, 403, 404) },
    },
  }, async (req) => {
    const adminId = await requireAdmin(req);
    if (!missions) throw new AppError('UNAVAILABLE', 'Missions are not served by this process');
    const userId = req.params.id.toLowerCase();
    if (!Uuid.safeParse(userId).success || !(await identity.getUser(userId))) throw new AppError('NOT_FOUND', 'No such user');
    const out = await missions.releaseHolds(userId, req.body.reason);
    await identity.auditOperatorAct('holds_released', userId, { operator: adminId, reason: req.body.reason, ...out }, { ip: req.ip });
    return out;
  });
}
