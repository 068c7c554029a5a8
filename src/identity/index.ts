// Public surface of the identity module.
export { IdentityService, normaliseEmail, type ChannelDirectory, type OutboxWriter, type User, type TokenPair } from './service.ts';
export { EMAIL_VERIFICATION_REQUESTED, VERIFICATION_TTL_HOURS, VERIFY_EMAIL_PATH, type VerificationMail } from './verification.ts';
export { identityRoutes, REFRESH_COOKIE } from './routes.ts';
export { createAuthenticator, type Authenticator } from './http-auth.ts';
export { loadKeyRing, rotateKeys, KeyRing, API_AUDIENCE, INTERNAL_AUDIENCE } from './keys.ts';
export { verifyAuditChain, type AuditCheck } from './audit.ts';
export { loadAuditKey } from './audit-key.ts';
export { UserDirectory } from './directory.ts';
export { internalIdentityRoutes, IdentityClient } from './internal.ts';
export { AuditAnchor } from './audit-anchor.ts';
