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

const describe = 'Server-sent events (public): `pledge`, `state` and `prediction`, each with an increasing `id`. Reconnect with `Last-Event-ID` (or `?lastEventId=`) to receive exactly the events after it. A comment line every 15 s keeps proxies open.';

export async function liveRoutes(app: App, hub: LiveHub, missions: MissionService, channels: ChannelService): Promise<void> {
  app.get('/api/v1/missions/:id/events', {
    schema: {
      tags: ['live'], summary: 'Live events of one mission', description: describe,
      params: z.strictObject({ id: z.string().max(100) }),
      querystring: z.object({ lastEventId: z.string().max(20).optional() }),
      response: { 200: z.string().describe('text/event-stream'), ...problems(404) },
    },
  }, async (req, reply) => {
    if (!Uuid.safeParse(req.params.id).success) throw new AppError('NOT_FOUND', 'No such mission');
    await missions.get(req.params.id);
    reply.hijack();
    await hub.attach({ missionId: req.params.id }, reply.raw, lastEventIdOf(req.headers['last-event-id'], req.query.lastEventId));
  });

  app.get('/api/v1/channels/:handle/events', {
    schema: {
      tags: ['live'], summary: 'Live events of every mission of a channel (for overlays)', description: describe,
      params: z.strictObject({ handle: z.string().max(64) }),
      querystring: z.object({ lastEventId: z.string().max(20).optional() }),
      response: { 200: z.string().describe('text/event-stream'), ...problems(404) },
    },
  }, async (req, reply) => {
    await channels.row(req.params.handle);
    reply.hijack();
    await hub.attach({ channel: req.params.handle }, reply.raw, lastEventIdOf(req.headers['last-event-id'], req.query.lastEventId));
  });
}
