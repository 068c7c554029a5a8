import fastifyCookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../platform/errors.ts';
import { problemResponses as problems, type App } from '../platform/http.ts';
import { NoBody, userText } from '../platform/schemas.ts';
import type { Authenticator } from './http-auth.ts';
import { REFRESH_TOKEN_TTL_DAYS, type IdentityService } from './service.ts';

export const REFRESH_COOKIE = 'ml_refresh';
const COOKIE_PATH = '/api/v1/auth';

const NoControlChars = /^[^\p{Cc}]*$/u;
const Email = z.email({ error: 'must be a valid email address' }).max(254);
// Lengths count characters (code points), as people and PostgreSQL do — not
// UTF-16 units, which would count an emoji twice.
const chars = (s: string) => [...s].length;
const Password = z
  .string()
  .refine((s) => chars(s) >= 10, 'must be at least 10 characters')
  .refine((s) => chars(s) <= 128, 'must be at most 128 characters')
  .meta({ minLength: 10, maxLength: 128 });
const DisplayName = userText({ min: 1, max: 50 });
// Login takes any string a registered address could be, but never control
// characters (PostgreSQL text cannot even hold NUL).
const LoginEmail = z.string().min(1).max(254).regex(NoControlChars, 'must not contain control characters');
// The body may be missing entirely: the token may come from the session cookie instead.
const RefreshBody = z.strictObject({ refreshToken: z.string().min(1).max(512).optional() }).optional();

const UserSchema = z.object({ id: z.string(), email: z.string(), displayName: z.string(), createdAt: z.string(), emailVerified: z.boolean() });
const TokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});
const MeSchema = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  emailVerified: z.boolean(),
  roles: z.array(z.enum(['viewer', 'streamer', 'admin'])),
  channel: z.string().nullable(),
});

// Tokens this server mints are 43 base64url characters; others are simply unknown (INVALID_TOKEN).
const VerificationToken = z.string().min(1, 'must not be empty').max(200);

/**
 * @param linkOrigin where mailed links point (PUBLIC_URL): never the request's
 *   Host, which would let a sender aim a verification link at a host of theirs.
 */
export async function identityRoutes(app: App, identity: IdentityService, auth: Authenticator, linkOrigin: string): Promise<void> {
  await app.register(fastifyCookie);
  const ctx = (req: FastifyRequest) => ({ ip: req.ip });

  // `Secure` whenever the client used https: directly, or through a proxy in
  // TRUST_PROXY whose X-Forwarded-Proto says so (req.protocol believes only
  // those). The same attributes when clearing, so the browser replaces it.
  const cookieOptions = (req: FastifyRequest) => ({
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: req.protocol === 'https',
    path: COOKIE_PATH,
  });
  const setRefreshCookie = (req: FastifyRequest, reply: FastifyReply, token: string) =>
    reply.setCookie(REFRESH_COOKIE, token, { ...cookieOptions(req), maxAge: REFRESH_TOKEN_TTL_DAYS * 86400 });
  const refreshTokenOf = (req: FastifyRequest, body: { refreshToken?: string } | undefined) =>
    body?.refreshToken ?? (req.cookies[REFRESH_COOKIE] || undefined);

  app.post('/api/v1/auth/register', {
    schema: {
      tags: ['identity'],
      summary: 'Create an account',
      body: z.strictObject({ email: Email, password: Password, displayName: DisplayName }),
      response: { 201: z.object({ user: UserSchema }), ...problems(400, 409, 413, 415) },
    },
  }, async (req, reply) => {
    const user = await identity.register(req.body, ctx(req));
    return reply.code(201).send({ user });
  });

  app.post('/api/v1/auth/login', {
    schema: {
      tags: ['identity'],
      summary: 'Sign in with email and password',
      body: z.strictObject({
        email: LoginEmail,
        password: z.string().min(1).refine((s) => chars(s) <= 128, 'must be at most 128 characters'),
      }),
      response: { 200: TokenPairSchema, ...problems(400, 401, 413, 415, 429) },
    },
  }, async (req, reply) => {
    const pair = await identity.login(req.body, ctx(req));
    setRefreshCookie(req, reply, pair.refreshToken);
    return pair;
  });

  app.post('/api/v1/auth/refresh', {
    schema: {
      tags: ['identity'],
      summary: 'Trade a refresh token for a new pair; the old one is spent',
      description: 'The token may come from the body or the httpOnly session cookie (none at all is a 401). Reusing a spent token revokes its whole family.',
      body: RefreshBody,
      response: { 200: TokenPairSchema, ...problems(400, 401, 413, 415) },
    },
  }, async (req, reply) => {
    // No token anywhere is the same as a bad one: the caller is not signed in.
    const token = refreshTokenOf(req, req.body);
    if (!token) throw new AppError('INVALID_REFRESH_TOKEN', 'No refresh token was sent (in the body or the session cookie)');
    const pair = await identity.refresh(token, ctx(req));
    setRefreshCookie(req, reply, pair.refreshToken);
    return pair;
  });

  app.post('/api/v1/auth/logout', {
    schema: {
      tags: ['identity'],
      summary: 'End the session of a refresh token',
      description: 'The token may come from the body or the session cookie. Idempotent: an unknown, spent or missing token still answers 204.',
      body: RefreshBody,
      response: { 204: z.undefined().describe('Signed out'), ...problems(400, 413, 415) },
    },
  }, async (req, reply) => {
    const token = refreshTokenOf(req, req.body);
    if (token) await identity.logout(token, ctx(req));
    reply.clearCookie(REFRESH_COOKIE, cookieOptions(req));
    return reply.code(204).send();
  });

  app.post('/api/v1/auth/email-verification', {
    schema: {
      tags: ['identity'],
      summary: 'Mail the signed-in user a link that verifies their address',
      description: `The link (\`/verify-email?token=…\` in the mail's text/plain part) is valid for 24 hours; asking again replaces it. ` +
        'The `admin` role of ADMIN_EMAILS needs a verified address.',
      security: [{ bearer: [] }],
      body: NoBody,
      response: { 202: z.undefined().describe('The mail is on its way'), ...problems(400, 401, 413, 415) },
    },
  }, async (req, reply) => {
    const userId = await auth.requireUser(req);
    await identity.requestEmailVerification(userId, linkOrigin, ctx(req));
    return reply.code(202).send();
  });

  app.post('/api/v1/auth/email-verification/confirm', {
    schema: {
      tags: ['identity'],
      summary: 'Verify an address with the token of its mailed link',
      description: 'Needs no session: the token is the proof. Single use; unknown, used, replaced and expired tokens are 400 INVALID_TOKEN.',
      body: z.strictObject({ token: VerificationToken }),
      response: { 204: z.undefined().describe('The address is verified'), ...problems(400, 413, 415) },
    },
  }, async (req, reply) => {
    await identity.confirmEmailVerification(req.body.token, ctx(req));
    return reply.code(204).send();
  });

  app.get('/api/v1/me', {
    schema: {
      tags: ['identity'],
      summary: 'The signed-in user, with roles',
      security: [{ bearer: [] }],
      response: { 200: MeSchema, ...problems(401) },
    },
  }, async (req) => identity.me(await auth.requireUser(req)));

  app.get('/.well-known/jwks.json', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return identity.jwks();
  });
}
