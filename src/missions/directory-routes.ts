import { z } from 'zod';
import type { App } from '../platform/http.ts';
import { page, Pagination, problems, userText } from '../platform/schemas.ts';
import type { ChannelDirectory } from './directory.ts';
import { MISSION_STATES } from './model.ts';
import { ChannelSchema } from './routes.ts';

const HandleParams = z.strictObject({ handle: z.string().max(100) });

const StatsSchema = z.object({
  missions: z.object(Object.fromEntries(MISSION_STATES.map((s) => [s, z.number().int()])) as Record<(typeof MISSION_STATES)[number], z.ZodNumber>),
  successRate: z.number().min(0).max(1).nullable(),
  capturedTotal: z.number().int(),
  backers: z.number().int(),
});

/**
 * The channel's public face (contract 1.1): the directory, a channel's
 * record, and (an extension) its top backers. Public: no token needed.
 * @example await channelDirectoryRoutes(http, new ChannelDirectory({ pool, channels }));
 */
export async function channelDirectoryRoutes(app: App, directory: ChannelDirectory): Promise<void> {
  app.get('/api/v1/channels', {
    schema: {
      tags: ['channels'],
      summary: 'Channels, most active first (public); `q` keeps those whose handle or display name starts with it',
      description:
        'Most active first: the most open (proposed or active) missions, then the latest mission (or the channel’s creation), then by handle. `q` is a case-insensitive prefix of the handle or the display name (1–50 characters; empty means all).',
      querystring: Pagination.extend({ q: userText({ max: 50 }).optional() }),
      response: { 200: page(ChannelSchema), ...problems(400) },
    },
  }, async (req) => directory.search(req.query.q || undefined, req.query.limit, req.query.cursor));

  app.get('/api/v1/channels/:handle/stats', {
    schema: {
      tags: ['channels'],
      summary: 'A channel’s record (public): missions by state, success rate, KRW captured, distinct backers',
      description:
        '`successRate` = SUCCEEDED ÷ (SUCCEEDED + FAILED), from 0 to 1, null before the first outcome; `capturedTotal` = KRW captured from backers (before fees); `backers` = distinct users who ever pledged. Every state is listed, 0 when none.',
      params: HandleParams,
      response: { 200: StatsSchema, ...problems(404) },
    },
  }, async (req) => directory.stats(req.params.handle));

  app.get('/api/v1/channels/:handle/top-backers', {
    schema: {
      tags: ['channels'],
      summary: 'A channel’s biggest backers (public; an extension): display name and what they gave or still have held',
      description: '`amount` = pledged minus refunded, in KRW, over all the channel’s missions; largest first, ties to the earliest backer. No user ids.',
      params: HandleParams,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(20).default(5) }),
      response: {
        200: z.object({ items: z.array(z.object({ displayName: z.string(), amount: z.number().int(), pledges: z.number().int() })) }),
        ...problems(400, 404),
      },
    },
  }, async (req) => ({ items: await directory.topBackers(req.params.handle, req.query.limit) }));
}
