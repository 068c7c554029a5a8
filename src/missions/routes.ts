import { z } from 'zod';
import type { Authenticator } from '../identity/index.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { idempotencyKeyOf } from '../platform/idempotency.ts';
import { amount, NoBody, page, Pagination, problems, userText, Uuid } from '../platform/schemas.ts';
import type { ChannelService } from './channels.ts';
import { MISSION_STATES } from './model.ts';
import type { MissionService } from './service.ts';

export const AMOUNT_LIMIT = 10_000_000;
const MAX_WINDOW = 604_800;

const Handle = z.string().regex(/^[a-z0-9_]{3,24}$/, 'must be 3–24 characters of a-z, 0-9 and _');
const DisplayName = userText({ min: 1, max: 50 });

const ChannelSchema = z.object({
  handle: z.string(),
  displayName: z.string(),
  settings: z.object({
    missionMinAmount: z.number().int(),
    missionMaxAmount: z.number().int(),
    acceptWindowSeconds: z.number().int(),
    failureKeepBps: z.number().int(),
  }),
  createdAt: z.string(),
});

const MissionSchema = z.object({
  id: z.string(),
  channel: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  state: z.enum(MISSION_STATES),
  pledgedAmount: z.number().int(),
  backerCount: z.number().int(),
  durationSeconds: z.number().int(),
  failureKeepBps: z.number().int(),
  createdAt: z.string(),
  acceptDeadline: z.string(),
  acceptedAt: z.string().nullable(),
  deadline: z.string().nullable(),
  decidedAt: z.string().nullable(),
  settledAt: z.string().nullable(),
  createdBy: z.string(),
});
const PledgeSchema = z.object({
  id: z.string(),
  missionId: z.string(),
  amount: z.number().int(),
  status: z.enum(['HELD', 'CAPTURED', 'REFUNDED', 'PARTIALLY_REFUNDED']),
  backerName: z.string(),
  createdAt: z.string(),
});

// Any id that is not one of ours is simply unknown (404), not malformed.
const MissionParams = z.strictObject({ id: z.string().max(100) });
const known = (id: string) => {
  if (!Uuid.safeParse(id).success) throw new AppError('NOT_FOUND', 'No such mission');
  // One spelling per mission: its advisory lock is keyed on the text.
  return id.toLowerCase();
};
// Like mission ids: a handle that cannot exist is simply unknown (404, see ChannelService.row).
const HandleParams = z.strictObject({ handle: z.string().max(100) });

export async function missionRoutes(app: App, channels: ChannelService, missions: MissionService, auth: Authenticator, minWindowSeconds: number): Promise<void> {
  const Settings = z.strictObject({
    missionMinAmount: amount(1, AMOUNT_LIMIT).optional(),
    missionMaxAmount: amount(1, AMOUNT_LIMIT).optional(),
    acceptWindowSeconds: z.number().int().min(minWindowSeconds).max(MAX_WINDOW).optional(),
    failureKeepBps: z.number().int().min(0).max(5000).optional(),
  });
  const missionBody = z.strictObject({
    title: userText({ min: 1, max: 100 }),
    description: userText({ max: 2000, multiline: true }).optional(),
    amount: amount(1, AMOUNT_LIMIT),
    durationSeconds: z.number().int().min(minWindowSeconds).max(MAX_WINDOW),
  });
  const owner = { security: [{ bearer: [] }] };
  const missionAnswer = { 200: z.object({ mission: MissionSchema }), ...problems(401, 403, 404, 409) };

  app.post('/api/v1/channels', {
    schema: {
      tags: ['channels'], summary: 'Create your channel (you become a streamer)', ...owner,
      body: z.strictObject({ handle: Handle, displayName: DisplayName, settings: Settings.optional() }),
      response: { 201: z.object({ channel: ChannelSchema }), ...problems(400, 401, 409) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    return reply.code(201).send({ channel: await channels.create(userId, req.body) });
  });

  app.get('/api/v1/channels/:handle', {
    schema: { tags: ['channels'], summary: 'A channel (public)', params: HandleParams, response: { 200: z.object({ channel: ChannelSchema }), ...problems(404) } },
  }, async (req) => ({ channel: await channels.get(req.params.handle) }));

  app.patch('/api/v1/channels/:handle', {
    schema: {
      tags: ['channels'], summary: 'Change your channel (owner only; settings are partial)', ...owner, params: HandleParams,
      body: z.strictObject({ displayName: DisplayName.optional(), settings: Settings.optional() }),
      response: { 200: z.object({ channel: ChannelSchema }), ...problems(400, 401, 403, 404) },
    },
  }, async (req) => {
    const userId = await auth.requireUser(req);
    return { channel: await channels.update(userId, req.params.handle, req.body) };
  });

  app.post('/api/v1/channels/:handle/missions', {
    schema: {
      tags: ['missions'], summary: 'Propose a mission; the amount is your first pledge, held at once', ...owner, params: HandleParams,
      description: 'Accepts an `Idempotency-Key` header.',
      body: missionBody,
      response: { 201: z.object({ mission: MissionSchema }), ...problems(400, 401, 402, 403, 404, 409, 422) },
    },
  }, async (req, reply) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    const out = await missions.propose(userId, req.params.handle, req.body, idempotencyKeyOf(req, userId), now);
    if (out.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(out.status as 201).send(out.body);
  });

  app.get('/api/v1/channels/:handle/missions', {
    schema: {
      tags: ['missions'], summary: 'Missions of a channel, newest first (public)', params: HandleParams,
      querystring: Pagination.extend({ state: z.enum(MISSION_STATES).optional() }),
      response: { 200: page(MissionSchema), ...problems(400, 404) },
    },
  }, async (req) => missions.list(req.params.handle, req.query.state, req.query.limit, req.query.cursor));

  app.get('/api/v1/missions/:id', {
    schema: { tags: ['missions'], summary: 'A mission (public)', params: MissionParams, response: { 200: z.object({ mission: MissionSchema }), ...problems(400, 404) } },
  }, async (req) => ({ mission: await missions.get(known(req.params.id)) }));

  app.post('/api/v1/missions/:id/pledges', {
    schema: {
      tags: ['missions'], summary: 'Back a mission; the amount is held until the outcome', ...owner, params: MissionParams,
      description: 'Accepts an `Idempotency-Key` header.',
      body: z.strictObject({ amount: amount(1, AMOUNT_LIMIT) }),
      response: { 201: z.object({ pledge: PledgeSchema }), ...problems(400, 401, 402, 403, 404, 409, 422) },
    },
  }, async (req, reply) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    const out = await missions.pledge(userId, known(req.params.id), req.body.amount, idempotencyKeyOf(req, userId), now);
    if (out.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(out.status as 201).send(out.body);
  });

  app.get('/api/v1/missions/:id/pledges', {
    schema: { tags: ['missions'], summary: 'Pledges of a mission, newest first (public)', params: MissionParams, querystring: Pagination, response: { 200: page(PledgeSchema), ...problems(400, 404) } },
  }, async (req) => missions.pledges(known(req.params.id), req.query.limit, req.query.cursor));

  for (const action of ['accept', 'reject', 'cancel'] as const) {
    app.post(`/api/v1/missions/:id/${action}`, {
      schema: { tags: ['missions'], summary: `${action[0]!.toUpperCase()}${action.slice(1)} a mission (channel owner only)`, ...owner, params: MissionParams, body: NoBody, response: missionAnswer },
    }, async (req) => {
      const now = new Date();
      const userId = await auth.requireUser(req);
      return missions[action](userId, known(req.params.id), now);
    });
  }

  app.post('/api/v1/missions/:id/decision', {
    schema: {
      tags: ['missions'], summary: 'Mark an active mission a success or a failure (channel owner only)', ...owner, params: MissionParams,
      body: z.strictObject({ outcome: z.enum(['SUCCEEDED', 'FAILED']) }),
      response: missionAnswer,
    },
  }, async (req) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    return missions.decide(userId, known(req.params.id), req.body.outcome, now);
  });

  app.get('/api/v1/me/pledges', {
    schema: {
      tags: ['missions'], summary: 'Your pledges with their missions and outcomes, newest first', ...owner, querystring: Pagination,
      response: {
        200: page(z.object({
          pledgeId: z.string(), amount: z.number().int(), status: PledgeSchema.shape.status,
          capturedAmount: z.number().int(), refundedAmount: z.number().int(), createdAt: z.string(),
          mission: z.object({ id: z.string(), title: z.string(), channel: z.string(), state: z.enum(MISSION_STATES), settledAt: z.string().nullable(), createdBy: z.string() }),
        })),
        ...problems(400, 401),
      },
    },
  }, async (req) => missions.myPledges(await auth.requireUser(req), req.query.limit, req.query.cursor));

  app.get('/api/v1/streamer/payouts', {
    schema: {
      tags: ['missions'], summary: 'What each settled mission paid you, net of the platform fee, newest first', ...owner, querystring: Pagination,
      response: { 200: page(z.object({ missionId: z.string(), title: z.string(), amount: z.number().int(), fee: z.number().int(), createdAt: z.string() })), ...problems(400, 401, 403) },
    },
  }, async (req) => missions.payouts(await auth.requireUser(req), req.query.limit, req.query.cursor));

  app.get('/api/v1/streamer/earnings', {
    schema: {
      tags: ['missions'], summary: 'Your earnings as a streamer', ...owner,
      response: { 200: z.object({ settled: z.number().int(), pending: z.number().int(), currency: z.literal('KRW') }), ...problems(401, 403) },
    },
  }, async (req) => missions.earnings(await auth.requireUser(req)));
}
