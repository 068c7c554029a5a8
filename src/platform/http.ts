import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import FindMyWay from 'find-my-way';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, ERROR_CATALOGUE, problemOf, type ErrorCode, type FieldError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  ZodTypeProvider
>;

export const BODY_LIMIT = 64 * 1024;
// Route-schema marker (copied into the OpenAPI operation, then removed there).
const OPTIONAL_BODY = 'x-optional-body';

// Plain messages for the two commonest validation failures.
z.config({
  customError: (issue) => {
    if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
    if (issue.code === 'invalid_type') return `must be ${issue.expected === 'int' ? 'an integer' : `of type ${issue.expected}`}`;
    return undefined;
  },
});

export interface HttpOptions {
  logger: Logger;
  metrics: Metrics;
  /** Each check throws or rejects when its dependency does not answer. */
  readiness: Record<string, () => Promise<unknown>>;
  version: string;
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For/-Proto are believed; none by default. */
  trustProxy?: string[];
  /** Serve /metrics only on this port (same host); the main port then answers 404 for it. */
  metricsPort?: number;
}

/** Headers of every answer that is not the web app's: never cached, never sniffed. */
const API_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };
const HSTS = 'max-age=31536000; includeSubDomains';

const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const PROBLEM_CONTENT_TYPE = `${PROBLEM_MEDIA_TYPE}; charset=utf-8`;

export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  errors?: FieldError[],
): FastifyReply {
  const body = problemOf(code, detail, errors);
  return reply.code(body.status).headers(API_HEADERS).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(body);
}

type ValidationItem = { keyword?: string; instancePath?: string; message?: string; params?: { keys?: unknown[] } };

function fieldErrors(items: ValidationItem[]): FieldError[] {
  const out: FieldError[] = [];
  for (const item of items) {
    const base = (item.instancePath ?? '').split('/').filter(Boolean);
    if (item.keyword === 'unrecognized_keys' && Array.isArray(item.params?.keys)) {
      for (const key of item.params.keys) out.push({ path: [...base, String(key)].join('.'), message: 'unknown field' });
      continue;
    }
    out.push({ path: base.join('.'), message: item.message ?? 'invalid' });
  }
  return out;
}

const PROBLEM_DESCRIPTION = 'RFC 9457 problem details with a catalogue code';
const ProblemBody = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  code: z.enum(Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]]),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** Zod schema of a problem+json body, for the OpenAPI document (`#/components/schemas/Problem`). */
export const ProblemSchema = ProblemBody.meta({ id: 'Problem', description: PROBLEM_DESCRIPTION });

/**
 * Response entries for a route's schema: each status answers problem+json.
 * @example response: { 200: Thing, ...problemResponses(400, 404) }
 */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: 'Problem details', content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemSchema } } },
    ]),
  );
}

const drains = new WeakMap<object, (ms: number) => Promise<boolean>>();

/**
 * The first step of a stop: from now on every request answers 503
 * UNAVAILABLE (with `Connection: close`), and those already being answered
 * get up to `ms` to finish — an event stream counts as answered. Resolves
 * true when none is left, false when the time ran out. Then close the server.
 * @example if (!(await drainHttp(app.http, 4_000))) log.warn('answers still in flight; closing under them');
 */
export function drainHttp(app: App, ms: number): Promise<boolean> {
  return drains.get(app)?.(ms) ?? Promise.resolve(true);
}

/**
 * The HTTP server of every process: problem+json errors, strict JSON bodies,
 * request ids, metrics, health and the OpenAPI document. Modules add routes.
 */
export async function createHttpServer(opts: HttpOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: opts.logger,
    // Behind the Gateway every client shares the proxy's address: only a
    // trusted peer's X-Forwarded-For/-Proto say who the client is (login
    // throttling, stream limits) and whether it used https (HSTS, Secure cookies).
    trustProxy: opts.trustProxy?.length ? opts.trustProxy : false,
    // One line per request is logged by our onResponse hook instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
    ajv: undefined,
    // Errors the router raises before any route runs answer problem+json too.
    frameworkErrors: (err, _req, reply) => {
      switch (err.code) {
        case 'FST_ERR_BAD_URL':
          return sendProblem(reply, 'VALIDATION_FAILED', 'The URL is not valid (bad percent-encoding)');
        case 'FST_ERR_MAX_PARAM_LENGTH':
          // No id or handle is that long, so nothing lives there.
          return sendProblem(reply, 'NOT_FOUND', 'No resource has such a long identifier');
        default:
          return sendProblem(reply, 'INTERNAL', 'An unexpected error occurred; it has been logged');
      }
    },
  }).withTypeProvider<ZodTypeProvider>();

  // Fastify hands a body validator `null` when there is no body at all; zod
  // should see `undefined` there, so that `.optional()` means "may be absent".
  app.setValidatorCompiler((route) => {
    const validate = validatorCompiler(route as Parameters<typeof validatorCompiler>[0]);
    return route.httpPart === 'body' ? (data: unknown) => validate(data === null ? undefined : data) : validate;
  });
  app.setSerializerCompiler(serializerCompiler);

  // Our own JSON parser: an empty body is "no body" (body-less POSTs accept it
  // with or without a content type); anything unparsable is MALFORMED_JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    // Kept for signature checks of webhooks, which sign the exact bytes.
    (req as { rawBody?: string }).rawBody = body as string;
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new AppError('MALFORMED_JSON', 'The request body is not valid JSON'), undefined);
    }
  });
  // Every other content type (or none): an empty body is still "no body";
  // anything else is not JSON and answers 415.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'), undefined);
  });

  // A stop lets the answers in flight finish (drainHttp) before close()
  // cuts the connections; what arrives meanwhile is refused with a 503.
  const answering = new Set<FastifyReply>();
  let draining = false;
  drains.set(app, async (ms) => {
    draining = true;
    const busy = () => [...answering].some((r) => !r.sent);
    for (const until = Date.now() + ms; busy() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    return !busy();
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (draining) {
      reply.header('connection', 'close');
      throw new AppError('UNAVAILABLE', 'The server is stopping; retry in a moment', { retryAfterSeconds: 1 });
    }
    // Until the answer is sent, or the handler took the socket over (an event stream).
    answering.add(reply);
    reply.raw.once('close', () => answering.delete(reply));
    if (req.protocol === 'https') reply.header('strict-transport-security', HSTS);
    // The web app's routes set their own caching; everything else is API.
    if (!isWebPath(req.url)) reply.headers(API_HEADERS);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    opts.metrics.httpDuration.observe(
      { method: req.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    // A 503 is the server saying so on purpose (stopping, a dependency down), not a fault.
    const level = reply.statusCode === 503 ? 'warn' : reply.statusCode >= 500 ? 'error' : 'debug';
    req.log[level]({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) {
      if (err.code === 'UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer realm="missionlink"');
      if (err.extra?.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.extra.retryAfterSeconds));
      return sendProblem(reply, err.code, err.detail, err.extra?.errors);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = fieldErrors(err.validation as ValidationItem[]);
      return sendProblem(reply, 'VALIDATION_FAILED', `The ${err.validationContext ?? 'request'} is invalid`, errors);
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(reply, 'PAYLOAD_TOO_LARGE', `The body must be at most ${BODY_LIMIT} bytes`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(reply, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendProblem(reply, 'MALFORMED_JSON');
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      if (status === 413) return sendProblem(reply, 'PAYLOAD_TOO_LARGE');
      if (status === 415) return sendProblem(reply, 'UNSUPPORTED_MEDIA_TYPE');
      return sendProblem(reply, 'VALIDATION_FAILED', 'The request is invalid');
    }
    req.log.error({ err }, 'unhandled error');
    return sendProblem(reply, 'INTERNAL', 'An unexpected error occurred; it has been logged');
  });

  // A known path asked with a method it does not serve is a 405 with Allow.
  // Fastify's router answers both with the not-found handler, so a second
  // router holding the same paths tells which methods a path has.
  const known = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 100 });
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      let set = methods.get(route.url);
      if (!set) {
        set = new Set();
        methods.set(route.url, set);
        known.on('GET', route.url, () => undefined, { url: route.url });
      }
      set.add(method);
    }
  });
  app.setNotFoundHandler((req, reply) => {
    const pathname = req.url.split('?')[0]!;
    const found = known.find('GET', pathname);
    const allowed = found ? methods.get((found.store as { url: string }).url) : undefined;
    if (allowed && !allowed.has(req.method)) {
      reply.header('allow', [...allowed].sort().join(', '));
      return sendProblem(reply, 'METHOD_NOT_ALLOWED', `${pathname} answers ${[...allowed].sort().join(', ')}, not ${req.method}`);
    }
    // A person who mistyped a page address gets the web app's own 404 page;
    // API paths and programs keep the problem+json answer.
    const page = pageNotFound.get(app as unknown as App);
    if (page && (req.method === 'GET' || req.method === 'HEAD') && isWebPath(pathname) && acceptsHtml(req.headers.accept)) {
      return page(reply);
    }
    return sendProblem(reply, 'NOT_FOUND', `No route for ${req.method} ${pathname}`);
  });

  // A body schema that accepts "no body" is documented as an optional
  // requestBody (@fastify/swagger would always mark it required).
  app.addHook('onRoute', (route) => {
    const body = route.schema?.body as { safeParse?: (v: unknown) => { success: boolean } } | undefined;
    if (typeof body?.safeParse === 'function' && body.safeParse(undefined).success) {
      route.schema = { ...route.schema, [OPTIONAL_BODY]: true } as typeof route.schema;
    }
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'MissionLink API',
        version: opts.version,
        description: 'Mission donations for live streamers. Errors are RFC 9457 problem+json with a catalogue `code`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    const checks: Record<string, string> = {};
    let ok = true;
    await Promise.all(
      Object.entries(opts.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          checks[name] = 'ok';
        } catch (err) {
          ok = false;
          checks[name] = 'unavailable';
          req.log.warn({ check: name, err: (err as Error).message }, 'readiness check failed');
        }
      }),
    );
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
  if (opts.metricsPort === undefined) {
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.type(opts.metrics.registry.contentType);
      return opts.metrics.registry.metrics();
    });
  } else {
    serveMetricsApart(app as unknown as App, opts.metrics, opts.metricsPort);
  }
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => openApiDocument(app));
  return app as unknown as App;
}

const pageNotFound = new WeakMap<App, (reply: FastifyReply) => unknown>();

/**
 * The answer to an unknown path asked by a browser (a GET or HEAD outside
 * the API that accepts text/html): the web app registers its 404 page here.
 * @example servePageOnNotFound(app, (reply) => sendIndex(reply, 404));
 */
export function servePageOnNotFound(app: App, page: (reply: FastifyReply) => unknown): void {
  pageNotFound.set(app, page);
}

function acceptsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

/** The web app's own paths (they set their own caching and headers). */
function isWebPath(url: string): boolean {
  return !/^\/(api\/|healthz|readyz|metrics|\.well-known\/)/.test(url);
}

/**
 * /metrics on a listener of its own (METRICS_PORT, on the main server's host),
 * opened and closed with the main server: scraped inside the cluster, never
 * routed through the public port.
 */
function serveMetricsApart(app: App, metrics: Metrics, port: number): void {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.on('connection', (socket) => socket.unref());
  app.addHook('onListen', async () => {
    const address = app.server.address();
    const host = typeof address === 'object' && address ? address.address : '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    app.log.info({ port: (server.address() as AddressInfo).port }, 'metrics listening');
  });
  app.addHook('onClose', async () => {
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/** The generated OpenAPI document, with the problem schema and error catalogue added. */
export function openApiDocument(app: { swagger: () => unknown }): Record<string, unknown> {
  const doc = structuredClone(app.swagger()) as { components?: { schemas?: Record<string, unknown> } } & Record<string, unknown>;
  doc.components ??= {};
  doc.components.schemas ??= {};
  // From the schema without its registry id: with the id, zod would wrap it in
  // a `$ref` to `#/$defs/Problem`, which does not resolve inside `components`.
  const problem: Record<string, unknown> = z.toJSONSchema(ProblemBody, { target: 'draft-2020-12' });
  delete problem.$schema;
  doc.components.schemas.Problem = { ...problem, description: PROBLEM_DESCRIPTION };
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const op of Object.values(item)) {
      if (!op[OPTIONAL_BODY]) continue;
      delete op[OPTIONAL_BODY];
      if (op.requestBody) (op.requestBody as { required?: boolean }).required = false;
    }
  }
  doc['x-error-catalogue'] = Object.fromEntries(
    Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, { status: e.status, title: e.title }]),
  );
  return doc;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
