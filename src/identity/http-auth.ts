import type { FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.ts';
import type { IdentityService } from './service.ts';

function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
  if (!match) throw new AppError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>"');
  return match[1];
}

/**
 * Authentication for routes. Authorisation (who may act on what) is decided
 * by each module from stored facts, never from token claims.
 */
export interface Authenticator {
  /** The caller's user id; 401 without a valid access token. */
  requireUser(req: FastifyRequest): Promise<string>;
  /** The caller's user id when a token is sent (an invalid one is still a 401). */
  optionalUser(req: FastifyRequest): Promise<string | undefined>;
}

export function createAuthenticator(identity: IdentityService): Authenticator {
  return {
    async requireUser(req) {
      const token = bearer(req);
      if (!token) throw new AppError('UNAUTHENTICATED', 'Sign in: this request needs an access token');
      return identity.authenticate(token);
    },
    async optionalUser(req) {
      const token = bearer(req);
      return token ? identity.authenticate(token) : undefined;
    },
  };
}

