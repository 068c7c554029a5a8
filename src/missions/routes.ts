import { z } from 'zod';
import type { Authenticator } from '../identity/index.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { idempotencyKeyOf } from '../platform/idempotency.ts';
import { amount, NoBody, page, Pagination, problems, userText, Uuid } from '../platform/schemas.ts';
import type { ChannelService } from './channels.ts';
import { MISSION_STATES, ON_FAILURE } from './model.ts';
import type { MissionService } from './service.ts';

export const AMOUNT_LIMIT = 10_000_000;
const MAX_WINDOW = 604_800;

const Handle = z.string().regex(/^[a-z0-9_]{3,24}$/, 'must be 3–24 characters of a-z, 0-9 and _');
const DisplayName = userText({ min: 1, max: 50 });

export const ChannelSchema = z.object({
  handle: z.string(),
  displayName: z.string(),
  settings: z.object({
    missionMinAmount: z.number().int(),
    missionMaxAmount: z.number().int(),
    acceptWindowSeconds: z.number().int(),
    failureKeepBps: z.number().int(),
    blockedWords: z.array(z.string()),
    disputeWindowSeconds: z.number().int(),
    disputeThresholdBps: z.number().int(),
  }),
  createdAt: z.string(),
});

export const MissionSchema = z.object({
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
  unit: z.object({ label: z.string(), maxUnits: z.number().int(), units: z.number().int() }).nullable(),
  proposedOutcome: z.enum(['SUCCEEDED', 'FAILED']).nullable(),
  disputeEndsAt: z.string().nullable(),
  disputedAmount: z.number().int().nullable(),
  proofUrl: z.string().nullable(),
  note: z.string().nullable(),
  proposerName: z.string().nullable().describe("An extension: the proposer's display name (as on their first pledge)"),
  proposalMessage: z
    .string()
    .nullable()
    .describe("An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner)"),
});
const DisputeSchema = z.object({ id: z.string(), reason: z.string(), amount: z.number().int(), createdAt: z.string() });
export const DisputeViewSchema = DisputeSchema.extend({ backerName: z.string() });
/** Longest dispute window a channel may give backers (API.md Part 2). */
const MAX_DISPUTE_WINDOW = 86_400;

/** A proof link: an absolute `https:` URL of at most 500 characters, without spaces or control characters. */
export const ProofUrl = z
  .string()
  .max(500, 'must be at most 500 characters')
  .refine((s) => {
    if (/[\s\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(s)) return false;
    try {
      const url = new URL(s);
      return url.protocol === 'https:' && url.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'must be an https: URL');
const PledgeSchema = z.object({
  id: z.string(),
  missionId: z.string(),
  amount: z.number().int().describe('KRW; per unit on a per-unit mission (the hold is amount × maxUnits)'),
  status: z.enum(['HELD', 'CAPTURED', 'REFUNDED', 'PARTIALLY_REFUNDED']),
  onFailure: z.enum(ON_FAILURE),
  message: z.string().nullable(),
  backerName: z.string(),
  createdAt: z.string(),
});
const PledgeMessage = userText({ max: 200 });

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
    blockedWords: z.array(userText({ min: 1, max: 40 })).max(200).optional(),
    disputeWindowSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_DISPUTE_WINDOW)
      .refine((v) => v === 0 || v >= minWindowSeconds, `must be 0 or between ${minWindowSeconds} and ${MAX_DISPUTE_WINDOW}`)
      .optional(),
    disputeThresholdBps: z.number().int().min(1).max(10_000).optional(),
  });
  const missionBody = z.strictObject({
    title: userText({ min: 1, max: 100 }),
    description: userText({ max: 2000, multiline: true }).optional(),
    amount: amount(1, AMOUNT_LIMIT),
    durationSeconds: z.number().int().min(minWindowSeconds).max(MAX_WINDOW),
    onFailure: z.enum(ON_FAILURE).optional(),
    message: PledgeMessage.optional(),
    unit: z.strictObject({ label: userText({ min: 1, max: 20 }), maxUnits: z.number().int().min(1).max(1000) }).optional(),
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
      description: '`state` keeps one state; `ended=true` (an extension) keeps the missions that ended, whatever their outcome.',
      querystring: Pagination.extend({ state: z.enum(MISSION_STATES).optional(), ended: z.enum(['true', 'false']).optional() }),
      response: { 200: page(MissionSchema), ...problems(400, 404) },
    },
  }, async (req) => missions.list(req.params.handle, req.query.state, req.query.limit, req.query.cursor, req.query.ended === 'true'));

  app.get('/api/v1/missions/:id', {
    schema: { tags: ['missions'], summary: 'A mission (public)', params: MissionParams, response: { 200: z.object({ mission: MissionSchema }), ...problems(400, 404) } },
  }, async (req) => ({ mission: await missions.get(known(req.params.id)) }));

  app.post('/api/v1/missions/:id/pledges', {
    schema: {
      tags: ['missions'], summary: 'Back a mission; the amount is held until the outcome', ...owner, params: MissionParams,
      description: 'Accepts an `Idempotency-Key` header.',
      body: z.strictObject({ amount: amount(1, AMOUNT_LIMIT), onFailure: z.enum(ON_FAILURE).optional(), message: PledgeMessage.optional() }),
      response: { 201: z.object({ pledge: PledgeSchema }), ...problems(400, 401, 402, 403, 404, 409, 422) },
    },
  }, async (req, reply) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    const out = await missions.pledge(userId, known(req.params.id), req.body, idempotencyKeyOf(req, userId), now);
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
      description:
        '`proofUrl` (https) and `note` are shown to backers. With the channel\'s `disputeWindowSeconds` above 0 the mission moves to ' +
        '`CONFIRMING` with `proposedOutcome` and `disputeEndsAt`; it enters that outcome when the window ends without enough disputes.',
      body: z.strictObject({ outcome: z.enum(['SUCCEEDED', 'FAILED']), proofUrl: ProofUrl.optional(), note: userText({ max: 500, multiline: true }).optional() }),
      response: missionAnswer,
    },
  }, async (req) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    return missions.decide(userId, known(req.params.id), req.body, now);
  });

  app.post('/api/v1/missions/:id/disputes', {
    schema: {
      tags: ['missions'], summary: 'Dispute the decided outcome while its window is open (backers only, once)', ...owner, params: MissionParams,
      description: '`amount` is your pledged total. When disputed pledges reach the channel\'s `disputeThresholdBps` of `pledgedAmount`, the mission moves to `IN_REVIEW`.',
      body: z.strictObject({ reason: userText({ min: 1, max: 500, multiline: true }) }),
      response: { 201: z.object({ dispute: DisputeSchema }), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    return reply.code(201).send(await missions.dispute(userId, known(req.params.id), req.body.reason, now));
  });

  app.get('/api/v1/missions/:id/disputes', {
    schema: {
      tags: ['missions'], summary: 'Disputes of a mission, newest first (channel owner only)', ...owner, params: MissionParams, querystring: Pagination,
      response: { 200: page(DisputeViewSchema), ...problems(400, 401, 403, 404) },
    },
  }, async (req) => {
    const userId = await auth.requireUser(req);
    return missions.disputes(known(req.params.id), userId, req.query.limit, req.query.cursor);
  });

  app.post('/api/v1/missions/:id/progress', {
    schema: {
      tags: ['missions'], summary: 'Report the units done of a per-unit mission: an absolute count that never goes back (channel owner only)', ...owner, params: MissionParams,
      body: z.strictObject({ units: z.number().int().min(0).max(1000) }),
      response: { ...missionAnswer, ...problems(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    return missions.progress(userId, known(req.params.id), req.body.units, now);
  });

  app.patch('/api/v1/pledges/:id', {
    schema: {
      tags: ['missions'], summary: 'Change what happens to your pledge if the mission fails, while it is open (its backer only)', ...owner,
      params: z.strictObject({ id: z.string().max(100) }),
      body: z.strictObject({ onFailure: z.enum(ON_FAILURE) }),
      response: { 200: z.object({ pledge: PledgeSchema }), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    if (!Uuid.safeParse(req.params.id).success) throw new AppError('NOT_FOUND', 'No such pledge');
    return missions.changeOnFailure(userId, req.params.id.toLowerCase(), req.body.onFailure, now);
  });

  app.post('/api/v1/pledges/:id/hide-message', {
    schema: {
      tags: ['channels'], summary: 'Hide a backer’s message from lists and overlays (channel owner only)', ...owner,
      params: z.strictObject({ id: z.string().max(100) }), body: NoBody,
      response: { 204: z.undefined().describe('Hidden'), ...problems(401, 403, 404) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    if (!Uuid.safeParse(req.params.id).success) throw new AppError('NOT_FOUND', 'No such pledge');
    await missions.hideMessage(userId, req.params.id.toLowerCase());
    return reply.code(204).send();
  });

  app.post('/api/v1/channels/:handle/blocks', {
    schema: {
      tags: ['channels'], summary: 'Block a user from proposing, pledging and betting on your channel (owner only)', ...owner, params: HandleParams,
      body: z.strictObject({ userId: Uuid }), response: { 204: z.undefined().describe('Blocked'), ...problems(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    await channels.block(userId, req.params.handle, req.body.userId.toLowerCase());
    return reply.code(204).send();
  });

  app.delete('/api/v1/channels/:handle/blocks/:userId', {
    schema: {
      tags: ['channels'], summary: 'Unblock a user (owner only)', ...owner,
      params: z.strictObject({ handle: z.string().max(100), userId: z.string().max(100) }), response: { 204: z.undefined().describe('Not blocked (any more)'), ...problems(401, 403, 404) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    // An id that cannot be a user's is blocked by nobody: nothing to remove (the owner check still applies).
    const blocked = Uuid.safeParse(req.params.userId).success ? req.params.userId.toLowerCase() : null;
    await channels.unblock(userId, req.params.handle, blocked);
    return reply.code(204).send();
  });

  app.get('/api/v1/channels/:handle/blocks', {
    schema: {
      tags: ['channels'], summary: 'Users your channel blocked, newest first (owner only)', ...owner, params: HandleParams, querystring: Pagination,
      response: {
        200: page(z.object({ userId: z.string(), displayName: z.string().describe("An extension: the user's display name, as on their pledges"), createdAt: z.string() })),
        ...problems(400, 401, 403, 404),
      },
    },
  }, async (req) => missions.blocks(await auth.requireUser(req), req.params.handle, req.query.limit, req.query.cursor));

  app.get('/api/v1/me/pledges', {
    schema: {
      tags: ['missions'], summary: 'Your pledges with their missions and outcomes, newest first', ...owner, querystring: Pagination,
      response: {
        200: page(z.object({
          pledgeId: z.string(), amount: z.number().int(), status: PledgeSchema.shape.status, onFailure: PledgeSchema.shape.onFailure,
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
      description: '`withdrawable = settled − withdrawn − inFlight`: `withdrawn` counts the amounts of PAID withdrawals, `inFlight` those still held (REQUESTED, PROCESSING).',
      response: {
        200: z.object({
          settled: z.number().int(), pending: z.number().int(),
          withdrawable: z.number().int(), withdrawn: z.number().int(), inFlight: z.number().int(), currency: z.literal('KRW'),
        }),
        ...problems(401, 403),
      },
    },
  }, async (req) => missions.earnings(await auth.requireUser(req)));
}
