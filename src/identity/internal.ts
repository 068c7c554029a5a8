import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import type { UserDirectory } from './directory.ts';
import { INTERNAL_AUDIENCE, type KeyRing } from './keys.ts';
import type { VerificationMail } from './verification.ts';

const SERVICE_TOKEN_TTL_SECONDS = 300;

/**
 * The internal identity API other roles use instead of reading the identity
 * database: a notifier asks for a backer's address here. Callers present a
 * service token (same keys, audience `missionlink-internal`, never accepted by
 * the public API and vice versa).
 */
export async function internalIdentityRoutes(app: App, keys: KeyRing, users: UserDirectory): Promise<void> {
  const requireService = async (req: FastifyRequest) => {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) throw new AppError('UNAUTHENTICATED', 'A service token is required');
    try {
      const claims = await keys.verify(token, INTERNAL_AUDIENCE);
      if (!String(claims.sub).startsWith('service:')) throw new Error('not a service');
    } catch {
      throw new AppError('UNAUTHENTICATED', 'The service token is invalid');
    }
  };
  const isId = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

  app.get('/internal/v1/users/:id', {
    schema: { hide: true, params: z.strictObject({ id: z.string().max(100) }) },
  }, async (req) => {
    await requireService(req);
    const user = isId(req.params.id) ? await users.lookup(req.params.id) : null;
    if (!user) throw new AppError('NOT_FOUND', 'No such user');
    return user;
  });

  // The verification mail of a live verification: its link carries the token,
  // recomputed for this answer only (never stored, never cached).
  app.get('/internal/v1/users/:id/email-verifications/:verificationId/mail', {
    schema: { hide: true, params: z.strictObject({ id: z.string().max(100), verificationId: z.string().max(100) }) },
  }, async (req, reply) => {
    await requireService(req);
    const { id, verificationId } = req.params;
    const mail = isId(id) && isId(verificationId) ? await users.verificationMail(id, verificationId) : null;
    if (!mail) throw new AppError('NOT_FOUND', 'No live verification with this id');
    reply.header('cache-control', 'no-store');
    return mail;
  });
}

/** Client of the internal identity API (the notifier's address book in distributed mode). */
export class IdentityClient {
  private token: { value: string; until: number } | undefined;
  private readonly cache = new Map<string, { email: string; displayName: string }>();

  constructor(private readonly baseUrl: string, private readonly keys: KeyRing, private readonly service = 'notifier') {}

  private async serviceToken(): Promise<string> {
    if (!this.token || this.token.until < Date.now() + 30_000) {
      const value = await this.keys.sign(`service:${this.service}`, INTERNAL_AUDIENCE, SERVICE_TOKEN_TTL_SECONDS);
      this.token = { value, until: Date.now() + SERVICE_TOKEN_TTL_SECONDS * 1000 };
    }
    return this.token.value;
  }

  /** The mail of a live verification (see EmailVerifications), or null; never cached. */
  async verificationMail(userId: string, verificationId: string): Promise<VerificationMail | null> {
    const path = `/internal/v1/users/${encodeURIComponent(userId)}/email-verifications/${encodeURIComponent(verificationId)}/mail`;
    const res = await fetch(new URL(path, this.baseUrl), {
      headers: { authorization: `Bearer ${await this.serviceToken()}` },
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`identity service answered ${res.status}`);
    return (await res.json()) as VerificationMail;
  }

  async addressOf(userId: string): Promise<{ email: string; displayName: string } | null> {
    const hit = this.cache.get(userId);
    if (hit) return hit;
    const res = await fetch(new URL(`/internal/v1/users/${encodeURIComponent(userId)}`, this.baseUrl), {
      headers: { authorization: `Bearer ${await this.serviceToken()}` },
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`identity service answered ${res.status}`);
    const user = (await res.json()) as { email: string; displayName: string };
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(userId, user);
    return user;
  }
}
