import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { AppError } from './errors.ts';
import { BODY_LIMIT, createHttpServer, drainHttp, type App } from './http.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';

// The whole app, for the platform behaviour of real routes …
let t: TestApp;
// … and a bare server with routes that fail on purpose.
let bare: App;
let readyAnswer: () => Promise<unknown> = async () => undefined;
const logged: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  const sink = { write: (line: string) => logged.push(line) } as unknown as NodeJS.WritableStream;
  bare = await createHttpServer({ logger: createLogger('error', sink), metrics: new Metrics(), readiness: { db: () => readyAnswer() }, version: 'test' });
  bare.get('/boom', async () => {
    throw new Error('SELECT password_hash FROM users WHERE email = $1 failed');
  });
  bare.get('/sql', async () => t.db.pools.identity.query('SELECT * FROM no_such_table WHERE secret_column = 1'));
  bare.get('/things/:id', { schema: { params: z.object({ id: z.string() }) } }, async (req) => ({ id: req.params.id }));
  bare.post('/echo', { schema: { body: z.strictObject({ n: z.number().int(), nested: z.strictObject({ s: z.string() }).optional() }) } }, async (req) => req.body);
  bare.post('/limited', async () => {
    throw new AppError('RATE_LIMITED', 'Slow down', { retryAfterSeconds: 7 });
  });
  bare.get('/bad-response', { schema: { response: { 200: z.object({ n: z.number() }) } } }, async () => ({ n: 'not a number' }) as unknown as { n: number });
  await bare.ready();
});
afterAll(async () => {
  await bare?.close();
  await t?.close();
});

type Res = Awaited<ReturnType<App['inject']>>;
const REGISTER = '/api/v1/auth/register';
const send = (url: string, payload: string | Buffer | undefined, contentType?: string, server: App = t.ml.http) =>
  server.inject({ method: 'POST', url, payload, headers: contentType ? { 'content-type': contentType } : {} });

/** Every error answer: problem+json with all five fields, and nothing that betrays the internals. */
function expectProblem(res: Res, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  const body = res.json();
  expect(body).toEqual(
    expect.objectContaining({
      type: `https://missionlink.dev/errors#${code.toLowerCase().replaceAll('_', '-')}`,
      title: expect.any(String),
      status,
      detail: expect.any(String),
      code,
    }),
  );
  expect(Object.keys(body).every((k) => ['type', 'title', 'status', 'detail', 'code', 'errors'].includes(k))).toBe(true);
  expect(res.body).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts\b|stack/);
  expect(res.body).not.toMatch(/SELECT|INSERT|UPDATE|FROM |WHERE|relation|syntax/i);
  return body;
}

describe('request bodies', () => {
  it.each(['{', '{"email":', "{'email':'a@b.kr'}", '{"a":1,}', 'nul', 'undefined', '{"a":1}}', '\u0000'])(
    'answers 400 MALFORMED_JSON for %j',
    async (payload) => {
      expectProblem(await send(REGISTER, payload, 'application/json'), 400, 'MALFORMED_JSON');
    },
  );

  it('answers 413 PAYLOAD_TOO_LARGE above 64 KiB, and reads a body of exactly 64 KiB', async () => {
    const exactly = JSON.stringify({ email: 'a@b.kr', password: 'x'.repeat(BODY_LIMIT - 50), displayName: 'A' });
    expect(Buffer.byteLength(exactly)).toBe(BODY_LIMIT);
    // read and validated (the password is far too long), not refused for its size
    expect((await send(REGISTER, exactly, 'application/json')).json().code).toBe('VALIDATION_FAILED');
    expectProblem(await send(REGISTER, `${exactly} `, 'application/json'), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await send(REGISTER, JSON.stringify({ junk: 'x'.repeat(1 << 20) }), 'application/json'), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await send('/api/v1/auth/login', Buffer.alloc(BODY_LIMIT + 1, 0x7b), 'application/json'), 413, 'PAYLOAD_TOO_LARGE');
  });

  it.each([
    ['text/plain', '{"email":"a@b.kr"}'],
    ['text/plain;charset=UTF-8', 'hello'],
    ['application/x-www-form-urlencoded', 'email=a%40b.kr&password=x'],
    ['multipart/form-data; boundary=x', '--x\r\n\r\n--x--'],
    ['application/xml', '<a/>'],
    ['application/jsonx', '{}'],
    ['application/problem+json', '{}'],
    ['not a media type', '{}'],
  ])('answers 415 UNSUPPORTED_MEDIA_TYPE for a body sent as %s', async (type, payload) => {
    expectProblem(await send(REGISTER, payload, type), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 415 for a body without any content type', async () => {
    expectProblem(await send(REGISTER, Buffer.from('{"email":"a@b.kr"}')), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('reads JSON whatever the charset parameter or the case of the media type', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
      const res = await send('/echo', '{"n":1}', type, bare);
      expect(res.statusCode, `${type}: ${res.body}`).toBe(200);
    }
  });

  it('treats an empty body as no body, with any content type or none', async () => {
    for (const type of [undefined, 'application/json', 'text/plain;charset=UTF-8', 'application/octet-stream']) {
      expect((await send('/api/v1/auth/logout', '', type)).statusCode, String(type)).toBe(204);
      // and a route that needs a body says so with a 400, not a 415
      expectProblem(await send(REGISTER, '', type), 400, 'VALIDATION_FAILED');
    }
  });

  it('lists validation errors by dotted path', async () => {
    const body = expectProblem(await send('/echo', '{"n":1.5,"nested":{"s":2,"x":true},"y":0}', 'application/json', bare), 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: 'n', message: expect.any(String) },
        { path: 'nested.s', message: expect.any(String) },
        { path: 'nested.x', message: 'unknown field' },
        { path: 'y', message: 'unknown field' },
      ]),
    );
  });

  it('never lets __proto__ or constructor keys through', async () => {
    for (const payload of ['{"n":1,"__proto__":{"admin":true}}', '{"n":1,"constructor":{"prototype":{"admin":true}}}']) {
      const body = expectProblem(await send('/echo', payload, 'application/json', bare), 400, 'VALIDATION_FAILED');
      expect(body.errors[0].message).toBe('unknown field');
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('errors', () => {
  it('answers 404 problem+json for an unknown route, 405 for a method a known one does not serve (contract 1.1)', async () => {
    expectProblem(await t.ml.http.inject({ method: 'GET', url: '/api/v1/nope' }), 404, 'NOT_FOUND');
    expectProblem(await t.ml.http.inject({ method: 'GET', url: '/api/v1/auth/login' }), 405, 'METHOD_NOT_ALLOWED');
    expectProblem(await t.ml.http.inject({ method: 'DELETE', url: '/api/v1/me' }), 405, 'METHOD_NOT_ALLOWED');
    expectProblem(await t.ml.http.inject({ method: 'POST', url: '/nope?x=1', payload: {} }), 404, 'NOT_FOUND');
  });

  it('answers problem+json for URLs the router cannot even decode', async () => {
    expectProblem(await t.ml.http.inject({ method: 'GET', url: '/api/v1/%' }), 400, 'VALIDATION_FAILED');
    expectProblem(await bare.inject({ method: 'GET', url: '/things/%zz' }), 400, 'VALIDATION_FAILED');
    expectProblem(await bare.inject({ method: 'GET', url: `/things/${'x'.repeat(500)}` }), 404, 'NOT_FOUND');
    expect((await bare.inject({ method: 'GET', url: '/things/abc' })).json()).toEqual({ id: 'abc' });
  });

  it('hides the internals of an unexpected error behind 500 INTERNAL, and logs it', async () => {
    const res = await bare.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'req-boom-1' } });
    const body = expectProblem(res, 500, 'INTERNAL');
    expect(res.body).not.toContain('password_hash');
    expect(res.headers['x-request-id']).toBe('req-boom-1');
    expect(body.detail).not.toContain('failed');
    expect(logged.some((l) => l.includes('req-boom-1') && l.includes('password_hash'))).toBe(true);
  });

  it('never shows the SQL or the database error of a failed query', async () => {
    const res = await bare.inject({ method: 'GET', url: '/sql' });
    expectProblem(res, 500, 'INTERNAL');
    expect(res.body).not.toMatch(/no_such_table|secret_column|does not exist/);
  });

  it('answers 500 INTERNAL when a handler returns what its schema forbids', async () => {
    const res = await bare.inject({ method: 'GET', url: '/bad-response' });
    expectProblem(res, 500, 'INTERNAL');
    expect(res.body).not.toContain('not a number');
  });

  it('turns AppError into its catalogue status, with Retry-After when given', async () => {
    const res = await bare.inject({ method: 'POST', url: '/limited' });
    expect(expectProblem(res, 429, 'RATE_LIMITED').detail).toBe('Slow down');
    expect(res.headers['retry-after']).toBe('7');
  });
});

describe('request ids', () => {
  it('echoes a sane x-request-id and makes one up otherwise', async () => {
    expect((await t.ml.http.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } })).headers['x-request-id']).toBe('abc-123');
    for (const given of [undefined, 'has spaces', 'x'.repeat(65), '<script>']) {
      const id = (await t.ml.http.inject({ method: 'GET', url: '/healthz', headers: given ? { 'x-request-id': given } : {} })).headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('health and discovery', () => {
  it('/healthz answers 200 {"status":"ok"}', async () => {
    const res = await t.ml.http.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 while the databases answer', async () => {
    const res = await t.ml.http.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', checks: { db_identity: 'ok', db_funding: 'ok' } });
  });

  it('/readyz answers 503 when a dependency does not, without its error', async () => {
    readyAnswer = async () => {
      throw new Error('connect ECONNREFUSED 10.1.2.3:5432 password authentication failed');
    };
    try {
      const res = await bare.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { db: 'unavailable' } });
      expect(res.body).not.toMatch(/ECONNREFUSED|password/);
    } finally {
      readyAnswer = async () => undefined;
    }
    expect((await bare.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('/metrics speaks the Prometheus text format, with request durations by route template', async () => {
    await t.ml.http.inject({ method: 'GET', url: '/healthz' });
    await t.ml.http.inject({ method: 'GET', url: '/api/v1/no-such-route/123' });
    const res = await t.ml.http.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('# TYPE missionlink_http_request_duration_seconds histogram');
    expect(res.body).toMatch(/missionlink_http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} \d+/);
    expect(res.body).toMatch(/missionlink_db_pool_connections\{database="identity"\}/);
    // unmatched paths never become label values (unbounded cardinality)
    expect(res.body).not.toContain('no-such-route');
  });

  it('/api/v1/openapi.json is an OpenAPI 3.1 document with the identity paths', async () => {
    const res = await t.ml.http.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    for (const [path, method] of [
      ['/api/v1/auth/register', 'post'],
      ['/api/v1/auth/login', 'post'],
      ['/api/v1/auth/refresh', 'post'],
      ['/api/v1/auth/logout', 'post'],
      ['/api/v1/me', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    expect(doc.paths['/api/v1/me'].get.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.paths['/api/v1/auth/register'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '409']));
    // errors are documented as problem+json
    expect(doc.paths['/api/v1/auth/login'].post.responses['401'].content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    // the register body is strict and bounded as documented
    const register = doc.paths['/api/v1/auth/register'].post.requestBody.content['application/json'].schema;
    expect(register).toMatchObject({ additionalProperties: false, required: ['email', 'password', 'displayName'] });
    expect(register.properties.password).toMatchObject({ minLength: 10, maxLength: 128 });
    // a body that may be left out is documented as optional; one that may not, as required
    expect(doc.paths['/api/v1/auth/logout'].post.requestBody.required).toBe(false);
    expect(doc.paths['/api/v1/auth/refresh'].post.requestBody.required).toBe(false);
    expect(doc.paths['/api/v1/auth/login'].post.requestBody.required).toBe(true);
    expect(JSON.stringify(doc)).not.toContain('x-optional-body');
    // the health endpoints are not part of the public API
    expect(doc.paths['/healthz']).toBeUndefined();
  });

  it('every $ref of the OpenAPI document resolves inside it', async () => {
    const doc = (await t.ml.http.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref, ref).toMatch(/^#\//);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
      expect(target, `${ref} resolves`).toBeDefined();
    }
  });
});

describe('drainHttp (the first step of a stop)', () => {
  it('lets the answers in flight finish, refuses what arrives meanwhile with a 503, and counts an event stream as answered', async () => {
    const app = await createHttpServer({ logger: createLogger('silent'), metrics: new Metrics(), readiness: {}, version: 'test' });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    app.get('/slow', async () => {
      await gate;
      return { done: true };
    });
    app.get('/stream', async (_req, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
      reply.raw.write(': open\n\n');
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const stream = new AbortController();
      const streaming = await fetch(`${base}/stream`, { signal: stream.signal });
      expect(streaming.status).toBe(200);
      const slow = fetch(`${base}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
      await new Promise((r) => setTimeout(r, 50));

      const drained = drainHttp(app, 5_000);
      const late = await fetch(`${base}/slow`);
      expect(late.status).toBe(503);
      expect(late.headers.get('retry-after')).toBe('1');
      expect(late.headers.get('connection')).toBe('close');
      expect(await late.json()).toMatchObject({ code: 'UNAVAILABLE' });

      let done = false;
      void drained.then(() => (done = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(done, 'the drain waits for the slow answer').toBe(false);
      release();
      expect(await drained).toBe(true);
      expect(await slow).toEqual({ status: 200, body: { done: true } });
      stream.abort();
    } finally {
      release();
      await app.close();
    }
  });

  it('gives up after its time and says so', async () => {
    const app = await createHttpServer({ logger: createLogger('silent'), metrics: new Metrics(), readiness: {}, version: 'test' });
    app.get('/stuck', () => new Promise(() => undefined));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const stuck = fetch(`${base}/stuck`).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      expect(await drainHttp(app, 200)).toBe(false);
      await app.close();
      await stuck;
    } finally {
      await app.close();
    }
  });
});
