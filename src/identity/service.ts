import { createHash, randomBytes } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { isUniqueViolation, tx, type Pool } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import type { Logger } from '../platform/log.ts';
import type { Metrics } from '../platform/metrics.ts';
import { appendAudit, appendAuditNow, AUDIT_RIDER_FIRST_PARAM, type AuditAction } from './audit.ts';
import { ACCESS_TOKEN_TTL_SECONDS, API_AUDIENCE, type KeyRing } from './keys.ts';
import { dummyHash, hashPassword, verifyPassword } from './passwords.ts';
import { LoginThrottle, THROTTLE_COLUMNS, type ThrottleRow } from './throttle.ts';
import { EMAIL_VERIFICATION_REQUESTED, EmailVerifications } from './verification.ts';

export const REFRESH_TOKEN_TTL_DAYS = 30;

export interface User {
  id: string;
  email: string;
  displayName: string;
  createdAt: string;
  /** The owner followed a mailed link to this address (API.md 1.1). */
  emailVerified: boolean;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Answers "which channel does this user own?" — provided by the channels module. */
export interface ChannelDirectory {
  ownedChannel(userId: string): Promise<string | null>;
}

export interface RequestContext {
  ip: string;
}

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  created_at: Date;
}

const toUser = (r: Omit<UserRow, 'password_hash'> & { email_verified_at: Date | null }): User => ({
  id: r.id,
  email: r.email,
  displayName: r.display_name,
  createdAt: r.created_at.toISOString(),
  emailVerified: r.email_verified_at !== null,
});

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How long this process believes "not verified yet" of a cached user before
 * asking again: another api process may have confirmed the address since.
 * "Verified" is final (addresses never change), so it is believed for good.
 */
const UNVERIFIED_FRESH_MS = 2000;
/** How long a `sub` that is no user is remembered as such (a flood of forged-but-signed tokens costs one query each this often). */
const UNKNOWN_USER_MS = 30_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest();

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Small LRU on a Map's insertion order. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  delete(k: K): void {
    this.map.delete(k);
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

/** Commits an event to the funding outbox (the identity service has no funding database of its own). */
export type OutboxWriter = (topic: string, key: string, payload: Record<string, unknown>) => Promise<void>;

export interface IdentityDeps {
  pool: Pool;
  keys: KeyRing;
  adminEmails: string[];
  metrics: Metrics;
  log: Logger;
  channels?: ChannelDirectory;
  /** Where verification mails are asked for (the notifier consumes the event). */
  outbox?: OutboxWriter;
}

/**
 * Accounts, credentials and sessions. The only code that reads the identity
 * database; other modules ask it through this interface.
 */
/** A new refresh token, and the values of its row (id, family, user, hash, days to live); only the hash is stored. */
/** The refresh-token row's INSERT, for newRefreshToken's values as parameters $first…$first+4, selected `from` a row source if given. */
function refreshTokenInsert(first: number, from = ''): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at)
          SELECT ${p(0)}::uuid, ${p(1)}::uuid, ${p(2)}::uuid, ${p(3)}::bytea, now() + make_interval(days => ${p(4)}::int) ${from}`;
}

function newRefreshToken(userId: string, familyId: string): { token: string; values: unknown[] } {
  const token = randomBytes(32).toString('base64url');
  return { token, values: [uuidv7(), familyId, userId, sha256(token), REFRESH_TOKEN_TTL_DAYS] };
}

export class IdentityService {
  private readonly throttle: LoginThrottle;
  // Verified access tokens (of existing users) until they expire: an Ed25519 verify costs ~200 µs.
  private readonly verified = new Lru<string, { sub: string; exp: number }>(20_000);
  // Users never change but for the verification of their address (see UNVERIFIED_FRESH_MS), so they cache well.
  private readonly users = new Lru<string, { user: User; at: number }>(20_000);
  // Token subjects that are no user, until when (ms) that is believed.
  private readonly unknownUsers = new Lru<string, number>(10_000);
  // One query per user at a time, however many requests wait for it.
  private readonly loading = new Map<string, Promise<User | null>>();
  readonly verifications: EmailVerifications;
  channels: ChannelDirectory;

  constructor(private readonly deps: IdentityDeps) {
    this.throttle = new LoginThrottle(deps.pool);
    this.channels = deps.channels ?? { ownedChannel: async () => null };
    this.verifications = new EmailVerifications(deps.pool, deps.keys);
    void dummyHash();
  }

  /**
   * Creates an account. Emails are unique case-insensitively.
   * @example await identity.register({ email: 'a@b.kr', password: 'long enough', displayName: 'A' }, { ip })
   */
  async register(input: { email: string; password: string; displayName: string }, ctx: RequestContext): Promise<User> {
    const email = normaliseEmail(input.email);
    const passwordHash = await hashPassword(input.password);
    const id = uuidv7();
    try {
      return await tx(this.deps.pool, async (c) => {
        const { rows } = await c.query<UserRow & { email_verified_at: Date | null }>(
          `INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, $3, $4)
           RETURNING id, email, display_name, created_at, email_verified_at`,
          [id, email, input.displayName.trim(), passwordHash],
        );
        await appendAudit(c, { action: 'register', userId: id, ip: ctx.ip });
        return toUser(rows[0]!);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw new AppError('EMAIL_TAKEN', 'An account with this email already exists');
      throw err;
    }
  }

  /**
   * Checks a password and opens a session. Unknown email and wrong password
   * give the same error after the same work (a dummy hash is verified).
   */
  async login(input: { email: string; password: string }, ctx: RequestContext): Promise<TokenPair> {
    const email = normaliseEmail(input.email);
    const { pool, metrics } = this.deps;
    return this.throttle.serialise(email, ctx.ip, async () => {
      // The account and the throttle rows in one round trip.
      const { rows } = await pool.query<UserRow & { throttle: ThrottleRow[]; email_verified_at: Date | null }>({
        name: 'login-lookup',
        text: `SELECT u.id, u.email, u.display_name, u.password_hash, u.created_at, u.email_verified_at,
                      (SELECT coalesce(json_agg(json_build_object('key', t.key, 'failures', t.failures, 'age', t.age)), '[]')
                         FROM (SELECT ${THROTTLE_COLUMNS} FROM login_throttle t WHERE t.key = ANY($2)) AS t) AS throttle
                 FROM (VALUES (1)) AS one LEFT JOIN users u ON u.email = $1`,
        values: [email, this.throttle.keys(email, ctx.ip)],
      });
      const state = this.throttle.evaluate(rows[0]!.throttle, email, ctx.ip);
      const blocked = state.blocked;
      if (blocked) {
        metrics.loginThrottled.inc({ scope: blocked.scope });
        await appendAuditNow(pool, { action: 'login_throttled', ip: ctx.ip, details: { scope: blocked.scope } });
        throw new AppError('RATE_LIMITED', 'Too many failed logins; try again later', { retryAfterSeconds: blocked.retryAfter });
      }
      const user = rows[0]!.id ? rows[0] : undefined;
      const ok = await verifyPassword(user?.password_hash ?? (await dummyHash()), input.password);
      if (!user || !ok) {
        metrics.loginFailures.inc({ reason: 'invalid_credentials' });
        // The failure counts and is audited together, or neither happens.
        await tx(pool, async (c) => {
          await this.throttle.recordFailure(c, email, ctx.ip);
          await appendAudit(c, { action: 'login_failed', userId: user?.id ?? null, ip: ctx.ip });
        });
        throw new AppError('INVALID_CREDENTIALS', 'Email or password is wrong');
      }
      if (state.accountFailures) await this.throttle.recordSuccess(pool, email, ctx.ip);
      // The session and its audit entry, all or nothing: one statement when
      // this process knows the audit chain's end, else one transaction.
      const refresh = newRefreshToken(user.id, uuidv7());
      await appendAuditNow(pool, { action: 'login', userId: user.id, ip: ctx.ip }, {
        name: 'refresh-token',
        text: refreshTokenInsert(AUDIT_RIDER_FIRST_PARAM, 'FROM entry'),
        values: refresh.values,
      });
      return this.pair(user.id, refresh.token, this.isAdmin(toUser(user)));
    });
  }

  /**
   * Spends a refresh token for a new pair. A token presented twice revokes
   * every token of its family (someone else holds a copy).
   */
  async refresh(refreshToken: string, ctx: RequestContext): Promise<TokenPair> {
    const outcome = await tx(this.deps.pool, async (c) => {
      const { rows } = await c.query<{
        id: string; family_id: string; user_id: string; spent_at: Date | null; revoked_at: Date | null; expired: boolean;
        email: string | null; verified: boolean;
      }>(
        `SELECT r.id, r.family_id, r.user_id, r.spent_at, r.revoked_at, r.expires_at <= now() AS expired,
                u.email, u.email_verified_at IS NOT NULL AS verified
           FROM refresh_tokens r LEFT JOIN users u ON u.id = r.user_id WHERE r.token_hash = $1 FOR UPDATE OF r`,
        [sha256(refreshToken)],
      );
      const row = rows[0];
      if (!row) return { kind: 'invalid' as const };
      if (row.spent_at || row.revoked_at) {
        await c.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [row.family_id]);
        if (row.spent_at) {
          await appendAudit(c, { action: 'refresh_reuse', userId: row.user_id, ip: ctx.ip, details: { family: row.family_id } });
        }
        return { kind: 'invalid' as const };
      }
      if (row.expired) return { kind: 'invalid' as const };
      await c.query('UPDATE refresh_tokens SET spent_at = now() WHERE id = $1', [row.id]);
      const next = await this.insertRefreshToken(c, row.user_id, row.family_id);
      await appendAudit(c, { action: 'refresh', userId: row.user_id, ip: ctx.ip });
      const admin = row.verified && row.email !== null && this.deps.adminEmails.includes(row.email);
      return { kind: 'ok' as const, pair: await this.pair(row.user_id, next, admin) };
    });
    if (outcome.kind === 'invalid') throw new AppError('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or already used');
    return outcome.pair;
  }

  /** Ends the session the token belongs to (its whole family). Unknown tokens are ignored. */
  async logout(refreshToken: string, ctx: RequestContext): Promise<void> {
    await tx(this.deps.pool, async (c) => {
      const { rows } = await c.query<{ user_id: string; family_id: string }>(
        `UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now())
          WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
          RETURNING user_id, family_id`,
        [sha256(refreshToken)],
      );
      if (rows[0]) await appendAudit(c, { action: 'logout', userId: rows[0].user_id, ip: ctx.ip, details: { family: rows[0].family_id } });
    });
  }

  /**
   * Verifies an access token; returns the user id or throws UNAUTHENTICATED.
   * Beyond the signature (KeyRing.verify: issuer, audience, expiry, an `iat`
   * at most 60 s ahead, a lifetime of at most 900 s), its `sub` must be a
   * user: a token signed for anyone else would otherwise create rows in the
   * modules it reaches. Known users come from the cache (no query on the hot
   * path), unknown subjects are remembered briefly.
   */
  async authenticate(accessToken: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const hit = this.verified.get(accessToken);
    if (hit && hit.exp > now) return hit.sub;
    let claims: { sub: string; exp: number };
    try {
      claims = await this.deps.keys.verify(accessToken, API_AUDIENCE);
    } catch {
      throw new AppError('UNAUTHENTICATED', 'The access token is missing, invalid or expired');
    }
    if (!(await this.userExists(claims.sub))) throw new AppError('UNAUTHENTICATED', 'The account of this token does not exist');
    this.verified.set(accessToken, { sub: claims.sub, exp: claims.exp });
    return claims.sub;
  }

  private async userExists(userId: string): Promise<boolean> {
    if (this.users.get(userId)) return true;
    const unknownUntil = this.unknownUsers.get(userId);
    if (unknownUntil !== undefined && unknownUntil > Date.now()) return false;
    return (await this.loadUser(userId)) !== null;
  }

  /**
   * A user by id, from the cache when it can be believed.
   * @example const user = await identity.getUser(userId); // null when there is none
   */
  async getUser(userId: string): Promise<User | null> {
    const cached = this.users.get(userId);
    if (cached && (cached.user.emailVerified || Date.now() - cached.at < UNVERIFIED_FRESH_MS)) return cached.user;
    return this.loadUser(userId);
  }

  private loadUser(userId: string): Promise<User | null> {
    if (!USER_ID.test(userId)) return Promise.resolve(null);
    let pending = this.loading.get(userId);
    if (!pending) {
      pending = (async () => {
        try {
          const { rows } = await this.deps.pool.query<Omit<UserRow, 'password_hash'> & { email_verified_at: Date | null }>({
            name: 'user-by-id',
            text: 'SELECT id, email, display_name, created_at, email_verified_at FROM users WHERE id = $1',
            values: [userId],
          });
          if (!rows[0]) {
            this.unknownUsers.set(userId, Date.now() + UNKNOWN_USER_MS);
            return null;
          }
          const user = toUser(rows[0]);
          this.users.set(userId, { user, at: Date.now() });
          return user;
        } finally {
          this.loading.delete(userId);
        }
      })();
      this.loading.set(userId, pending);
    }
    return pending;
  }

  /** The caller's profile with roles computed from stored facts. */
  async me(userId: string) {
    const user = await this.getUser(userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'The account of this token no longer exists');
    const channel = await this.channels.ownedChannel(userId);
    const roles: ('viewer' | 'streamer' | 'admin')[] = ['viewer'];
    if (channel) roles.push('streamer');
    if (this.isAdmin(user)) roles.push('admin');
    return { id: user.id, email: user.email, displayName: user.displayName, emailVerified: user.emailVerified, roles, channel };
  }

  /**
   * Mails the user a link that verifies their address (a new one replaces
   * the old). The mail itself is the notifier's: this commits the
   * verification, then the event that asks for its mail (see
   * EmailVerifications for what the event carries and why).
   * @example await identity.requestEmailVerification(userId, 'https://missionlink.example', { ip })
   */
  async requestEmailVerification(userId: string, linkOrigin: string, ctx: RequestContext): Promise<void> {
    const outbox = this.deps.outbox;
    if (!outbox) throw new AppError('UNAVAILABLE', 'This process cannot send mail');
    const { id } = await this.verifications.request(userId, linkOrigin, ctx);
    // After the verification has committed, so that the notifier finds it.
    // Should this fail, the caller gets an error and asks again (a new link
    // replaces the one that was never mailed).
    await outbox(EMAIL_VERIFICATION_REQUESTED, userId, { userId, verificationId: id });
  }

  /** Spends a verification token (INVALID_TOKEN when it is unknown, used, replaced or expired). */
  async confirmEmailVerification(token: string, ctx: RequestContext): Promise<void> {
    const userId = await this.verifications.confirm(token, ctx);
    this.users.delete(userId);
  }

  /** Drops failed-login windows that ended long ago. */
  /** Records an operator's act on a user in the audit chain (who did it is in `details.operator`). */
  async auditOperatorAct(action: Extract<AuditAction, 'holds_released'>, userId: string, details: Record<string, unknown>, ctx: RequestContext): Promise<void> {
    await appendAuditNow(this.deps.pool, { action, userId, ip: ctx.ip, details });
  }

  pruneThrottle(): Promise<void> {
    return this.throttle.prune();
  }

  /** Public keys that verify this deployment's tokens. */
  jwks() {
    return this.deps.keys.jwks;
  }

  /**
   * ADMIN_EMAILS names addresses, and an address is only someone's once they
   * proved it: whoever registered it first is no admin until then.
   */
  isAdmin(user: User): boolean {
    return user.emailVerified && this.deps.adminEmails.includes(user.email);
  }

  private async insertRefreshToken(c: { query: Pool['query'] }, userId: string, familyId: string): Promise<string> {
    const { token, values } = newRefreshToken(userId, familyId);
    await c.query({ name: 'refresh-token-insert', text: refreshTokenInsert(1), values });
    return token;
  }

  /**
   * A new access token with its refresh token. Operators' access tokens say
   * so (`roles: ["admin"]`), for the edge's coarse check of /api/v1/ops/*
   * (deploy/base/gateway/ops.yaml); the API decides from stored facts on
   * every request all the same.
   */
  private async pair(userId: string, refreshToken: string, admin: boolean): Promise<TokenPair> {
    const accessToken = await this.deps.keys.sign(userId, API_AUDIENCE, ACCESS_TOKEN_TTL_SECONDS, admin ? { roles: ['admin'] } : {});
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS };
  }
}
