import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Authenticator, IdentityService } from '../identity/index.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http.ts';
import { NoBody, problems } from '../platform/schemas.ts';
import type { OpsService } from './service.ts';

export async function opsRoutes(app: App, ops: OpsService, identity: IdentityService, auth: Authenticator): Promise<void> {
  // The admin role: an ADMIN_EMAILS address its owner has verified (IdentityService.isAdmin).
  const requireAdmin = async (req: FastifyRequest) => {
    const user = await identity.getUser(await auth.requireUser(req));
    if (!user) throw new AppError('UNAUTHENTICATED', 'The account of this token no longer exists');
    if (!identity.isAdmin(user)) throw new AppError('FORBIDDEN', 'Only operators (ADMIN_EMAILS, once the address is verified) can see this');
  };
  const security = [{ bearer: [] }];

  app.get('/api/v1/ops/summary', {
    schema: {
      tags: ['ops'], summary: 'Operational figures for the ops page (admin only)', security,
      description: 'Counters are cumulative since the process started; compute rates from consecutive polls.',
      response: { 200: z.looseObject({ at: z.string() }), ...problems(401, 403) },
    },
  }, async (req) => {
    await requireAdmin(req);
    return (await ops.summary()) as unknown as { at: string };
  });

  app.post('/api/v1/ops/ledger/verify', {
    schema: {
      tags: ['ops'], summary: 'Verify the books now (admin only)', security, body: NoBody,
      response: { 200: z.looseObject({ ok: z.boolean() }), ...problems(401, 403) },
    },
  }, async (req) => {
    await requireAdmin(req);
    return (await ops.verifyLedger()) as unknown as { ok: boolean };
  });
}
