import { z } from 'zod';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { problems, Uuid } from '../platform/schemas.ts';
import type { ChannelService } from './channels.ts';
import type { LiveHub } from './live.ts';
import type { MissionService } from './service.ts';

function lastEventIdOf(header: unknown, query: string | undefined): number | null {
  const raw = typeof header === 'string' ? header : query;
  if (raw === undefined || raw === '') return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

const describe = 'Server-sent events (public): `pledge`, `state` and `prediction`, each with an increasing `id`. Reconnect with `Last-Event-ID` (or `?lastEventId=`) to receive exactly the events after it. A comment line every 15 s keeps proxies open. ' +
  'One client address may hold at most 50 streams (of both kinds) at once: more answer 429 `RATE_LIMITED` with `Retry-After`, and a closed stream frees its place at once. A process that holds all the streams it can answers 503 `UNAVAILABLE` with `Retry-After`.';

export async function liveRoutes(app: App, hub: LiveHub, missions: MissionService, channels: ChannelService): Promise<void> {
  app.get('/api/v1/missions/:id/events', {
    schema: {
      tags: ['live'], summary: 'Live events of one mission', description: describe,
      params: z.strictObject({ id: z.string().max(100) }),
      querystring: z.object({ lastEventId: z.string().max(20).optional() }),
      response: { 200: z.string().describe('text/event-stream'), ...problems(404, 429, 503) },
    },
  }, async (req, reply) => {
    if (!Uuid.safeParse(req.params.id).success) throw new AppError('NOT_FOUND', 'No such mission');
    await missions.get(req.params.id);
    // Admitted in the same turn as attached: no await in between, so the
    // count of open streams is exact however many requests arrive together.
    const slot = hub.admit(req.ip);
    reply.hijack();
    await hub.attach({ missionId: req.params.id }, reply.raw, lastEventIdOf(req.headers['last-event-id'], req.query.lastEventId), slot);
  });

  app.get('/api/v1/channels/:handle/events', {
    schema: {
      tags: ['live'], summary: 'Live events of every mission of a channel (for overlays)', description: describe,
      params: z.strictObject({ handle: z.string().max(64) }),
      querystring: z.object({ lastEventId: z.string().max(20).optional() }),
      response: { 200: z.string().describe('text/event-stream'), ...problems(404, 429, 503) },
    },
  }, async (req, reply) => {
    await channels.row(req.params.handle);
    const slot = hub.admit(req.ip);
    reply.hijack();
    await hub.attach({ channel: req.params.handle }, reply.raw, lastEventIdOf(req.headers['last-event-id'], req.query.lastEventId), slot);
  });
}
