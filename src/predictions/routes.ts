import { z } from 'zod';
import type { Authenticator } from '../identity/index.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { idempotencyKeyOf } from '../platform/idempotency.ts';
import { amount, NoBody, problems, Uuid } from '../platform/schemas.ts';
import type { PredictionService } from './service.ts';

export const POINTS_LIMIT = 10_000_000;
const SideSchema = z.enum(['SUCCEEDED', 'FAILED']);
const Params = z.strictObject({ id: z.string().max(100) });
const known = (id: string) => {
  if (!Uuid.safeParse(id).success) throw new AppError('NOT_FOUND', 'No such mission');
  return id;
};

const PredictionSchema = z.object({
  state: z.enum(['OPEN', 'LOCKED', 'RESOLVED', 'REFUNDED']),
  pools: z.object({ SUCCEEDED: z.number().int(), FAILED: z.number().int() }),
  locksAt: z.string(),
  myBet: z.object({ side: SideSchema, points: z.number().int(), payout: z.number().int().nullable() }).nullable(),
});

export async function predictionRoutes(app: App, predictions: PredictionService, auth: Authenticator): Promise<void> {
  app.get('/api/v1/missions/:id/prediction', {
    schema: {
      tags: ['predictions'], summary: 'The prediction of a mission (public; a token adds myBet)', params: Params,
      response: { 200: PredictionSchema, ...problems(401, 404) },
    },
  }, async (req) => {
    const now = new Date();
    return predictions.view(known(req.params.id), await auth.optionalUser(req), now);
  });

  app.post('/api/v1/missions/:id/prediction/lock', {
    schema: {
      tags: ['predictions'], summary: 'Close betting now (channel owner only)', security: [{ bearer: [] }], params: Params, body: NoBody,
      description: '`locksAt` becomes the time of the lock; locking an already locked prediction changes nothing.',
      response: { 200: PredictionSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (req) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    return predictions.lock(userId, known(req.params.id).toLowerCase(), now);
  });

  app.post('/api/v1/missions/:id/prediction/bets', {
    schema: {
      tags: ['predictions'], summary: 'Bet channel points on the outcome (one side per user)', security: [{ bearer: [] }], params: Params,
      description: 'Accepts an `Idempotency-Key` header. Points only — cash can never be bet.',
      body: z.strictObject({ side: SideSchema, points: amount(1, POINTS_LIMIT) }),
      response: {
        201: z.object({ bet: z.object({ id: z.string(), missionId: z.string(), side: SideSchema, points: z.number().int(), totalPoints: z.number().int(), createdAt: z.string() }) }),
        ...problems(400, 401, 402, 403, 404, 409, 422),
      },
    },
  }, async (req, reply) => {
    const now = new Date();
    const userId = await auth.requireUser(req);
    const missionId = known(req.params.id);
    const out = await predictions.bet(userId, missionId, req.body.side, req.body.points, idempotencyKeyOf(req, userId), now);
    if (out.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(out.status as 201).send(out.body);
  });
}
