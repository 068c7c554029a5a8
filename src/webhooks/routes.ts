import { z } from 'zod';
import type { Authenticator } from '../identity/index.ts';
import type { App } from '../platform/http.ts';
import { NoBody, page, Pagination, problems } from '../platform/schemas.ts';
import { EVENT_TYPES } from './events.ts';
import type { WebhookService } from './service.ts';

const EndpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(EVENT_TYPES)),
  status: z.enum(['active', 'disabled']).describe('`disabled` after failing without a success for 3 days (its owner was mailed)'),
  createdAt: z.string(),
});
const AttemptSchema = z.object({
  eventId: z.string().describe('The `webhook-id` header: the event id, the same on every attempt'),
  type: z.string(),
  attempt: z.number().int(),
  status: z.enum(['succeeded', 'failed']),
  responseStatus: z.number().int().nullable(),
  at: z.string(),
  error: z.string().nullable().describe('Why no answer came (timeout, refused address, connection error)'),
  responseExcerpt: z.string().nullable().describe('The first few hundred bytes of the answer'),
  durationMs: z.number().int(),
});

// Like elsewhere: a handle or id that cannot exist is simply unknown (404).
const HandleParams = z.strictObject({ handle: z.string().max(100) });
const EndpointParams = z.strictObject({ handle: z.string().max(100), id: z.string().max(100) });

export async function webhookRoutes(app: App, webhooks: WebhookService, auth: Authenticator): Promise<void> {
  const owner = { security: [{ bearer: [] }] };
  const tags = ['webhooks'];

  app.post('/api/v1/channels/:handle/webhooks', {
    schema: {
      tags, summary: 'Add a webhook endpoint (channel owner only); the secret is shown only in this answer', ...owner, params: HandleParams,
      description:
        'Deliveries follow Standard Webhooks: a POST of `{"type","timestamp","data"}` with `webhook-id` (the event id, the same on every retry), ' +
        '`webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the base64-decoded secret after `whsec_`). ' +
        'A 2xx answer ends a delivery; otherwise it is retried with backoff (the first retry within 30 s) for 3 days. ' +
        'The URL must be https and resolve only to public addresses (400 `WEBHOOK_URL_NOT_ALLOWED`).',
      body: z.strictObject({
        // A malformed URL breaks the schema (VALIDATION_FAILED); a well-formed one that may not be reached is WEBHOOK_URL_NOT_ALLOWED.
        url: z.string().min(1).max(2000).refine((v) => URL.canParse(v), 'must be an absolute URL'),
        events: z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length * 2),
      }),
      response: { 201: z.object({ webhook: EndpointSchema.extend({ secret: z.string().describe('`whsec_…`: shown only here') }) }), ...problems(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    return reply.code(201).send({ webhook: await webhooks.create(userId, req.params.handle, req.body) });
  });

  app.get('/api/v1/channels/:handle/webhooks', {
    schema: {
      tags, summary: 'The channel’s webhook endpoints, newest first, without secrets (owner only)', ...owner, params: HandleParams,
      querystring: Pagination, response: { 200: page(EndpointSchema), ...problems(400, 401, 403, 404) },
    },
  }, async (req) => webhooks.list(await auth.requireUser(req), req.params.handle, req.query.limit, req.query.cursor));

  app.delete('/api/v1/channels/:handle/webhooks/:id', {
    schema: {
      tags, summary: 'Delete a webhook endpoint with its pending deliveries (owner only)', ...owner, params: EndpointParams,
      response: { 204: z.undefined().describe('Deleted'), ...problems(401, 403, 404) },
    },
  }, async (req, reply) => {
    await webhooks.remove(await auth.requireUser(req), req.params.handle, req.params.id);
    return reply.code(204).send();
  });

  app.post('/api/v1/channels/:handle/webhooks/:id/test', {
    schema: {
      tags, summary: 'Send a `webhook.test` event to the endpoint (owner only); its attempts show in the delivery log', ...owner, params: EndpointParams,
      body: NoBody, response: { 202: z.object({ eventId: z.string() }), ...problems(401, 403, 404, 429) },
    },
  }, async (req, reply) => reply.code(202).send(await webhooks.test(await auth.requireUser(req), req.params.handle, req.params.id)));

  app.get('/api/v1/channels/:handle/webhooks/:id/deliveries', {
    schema: {
      tags, summary: 'The endpoint’s delivery attempts, newest first (owner only)', ...owner, params: EndpointParams,
      querystring: Pagination, response: { 200: page(AttemptSchema), ...problems(400, 401, 403, 404) },
    },
  }, async (req) => webhooks.attempts(await auth.requireUser(req), req.params.handle, req.params.id, req.query.limit, req.query.cursor));
}
