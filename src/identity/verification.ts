import { createHash } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { tx, type Pool } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { appendAudit } from './audit.ts';
import type { KeyRing } from './keys.ts';

/** How long a mailed link verifies (API.md 1.1: 24 h). */
export const VERIFICATION_TTL_HOURS = 24;

/**
 * The event that asks the notifier for a verification mail. Its payload is
 * `{ userId, verificationId }`: ids only, no address, no token.
 */
export const EMAIL_VERIFICATION_REQUESTED = 'user.email_verification_requested';

/** The path of the web app's page that confirms a token (`?token=…`). */
export const VERIFY_EMAIL_PATH = '/verify-email';

// Its own key space: the token of a verification is unrelated to any other
// secret derived from the signing keys.
const PURPOSE = 'email-verification v1';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** What the notifier needs to compose a verification mail. */
export interface VerificationMail {
  email: string;
  displayName: string;
  /** Absolute link to the web app's confirmation page, token included. */
  link: string;
  expiresAt: string;
}

/**
 * Verified email: the link a user is mailed, and its confirmation.
 *
 * How the token reaches the mail without being stored anywhere. The request
 * commits, in the identity database, a verification row (its id, the signing
 * key's kid, and the sha256 of its token), and then an event in the funding
 * outbox that carries only the user's and the verification's ids. The
 * notifier consumes that event exactly once (inbox + a unique row per
 * verification) and, when it sends, asks the identity service — its
 * AddressBook: this class in-process, the internal API in distributed mode
 * — for the mail's address and link. Only then is the token recomputed: it
 * is an HMAC of the verification id under a secret derived from the signing
 * keys, which every process of a deployment shares and the databases never
 * see. So the plaintext token exists only in the mail (and in memory while
 * it is composed): not in the outbox, the bus or the funding database, which
 * keep events and rows for days, and not in the identity database either,
 * whose row holds a hash a leak cannot turn back into a link. A resend
 * (the notifier crashed after the mail server took the mail) recomputes the
 * same token, so the folded duplicate carries the same link. A newer request
 * replaces the row; confirming deletes it: either way the old link, and a
 * mail about it still waiting to be sent, is dead.
 */
export class EmailVerifications {
  constructor(
    private readonly pool: Pool,
    private readonly keys: KeyRing | undefined,
  ) {}

  private ring(): KeyRing {
    if (!this.keys) throw new Error('composing a verification link needs the signing keys (SIGNING_KEYS or DATA_DIR/keys)');
    return this.keys;
  }

  /**
   * Starts a verification of the user's address, replacing any earlier one,
   * and audits it; returns the id the notifier's event carries.
   * @example const { id } = await verifications.request(userId, 'https://missionlink.example', { ip });
   */
  async request(userId: string, linkOrigin: string, ctx: { ip: string }): Promise<{ id: string }> {
    const keys = this.ring();
    const id = uuidv7();
    const kid = keys.signingKid;
    const tokenHash = sha256(keys.mac(PURPOSE, kid, id));
    await tx(this.pool, async (c) => {
      const { rowCount } = await c.query(
        `INSERT INTO email_verifications (user_id, id, email, key_id, token_hash, link_origin, expires_at)
         SELECT u.id, $2::uuid, u.email, $3, $4, $5, now() + make_interval(hours => $6) FROM users u WHERE u.id = $1
         ON CONFLICT (user_id) DO UPDATE
           SET id = EXCLUDED.id, email = EXCLUDED.email, key_id = EXCLUDED.key_id, token_hash = EXCLUDED.token_hash,
               link_origin = EXCLUDED.link_origin, created_at = now(), expires_at = EXCLUDED.expires_at`,
        [userId, id, kid, tokenHash, linkOrigin, VERIFICATION_TTL_HOURS],
      );
      if (rowCount !== 1) throw new AppError('UNAUTHENTICATED', 'The account of this token no longer exists');
      await appendAudit(c, { action: 'email_verification_requested', userId, ip: ctx.ip, details: { verification: id } });
    });
    return { id };
  }

  /**
   * Spends a token: the address it was mailed to becomes verified. Unknown,
   * used, replaced and expired tokens are all INVALID_TOKEN. Returns the user.
   */
  async confirm(token: string, ctx: { ip: string }): Promise<string> {
    const outcome = await tx(this.pool, async (c) => {
      // DELETE … RETURNING: of two confirmations at once, one gets the row.
      const { rows } = await c.query<{ id: string; user_id: string; email: string; live: boolean }>(
        `DELETE FROM email_verifications WHERE token_hash = $1 RETURNING id, user_id, email, expires_at > now() AS live`,
        [sha256(token)],
      );
      const v = rows[0];
      // An expired row is deleted all the same: it can never verify anything.
      if (!v || !v.live) return undefined;
      const { rowCount } = await c.query(
        `UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1 AND email = $2`,
        [v.user_id, v.email],
      );
      if (rowCount !== 1) return undefined;
      await appendAudit(c, { action: 'email_verified', userId: v.user_id, ip: ctx.ip, details: { verification: v.id } });
      return v.user_id;
    });
    if (!outcome) throw new AppError('INVALID_TOKEN', 'The verification link is unknown, already used, replaced by a newer one, or expired');
    return outcome;
  }

  /**
   * The mail of a verification that is still live (not replaced, used or
   * expired), or null: then there is nothing worth sending.
   */
  async mailOf(userId: string, verificationId: string): Promise<VerificationMail | null> {
    const { rows } = await this.pool.query<{ id: string; key_id: string; link_origin: string; email: string; display_name: string; expires_at: Date }>(
      `SELECT v.id, v.key_id, v.link_origin, u.email, u.display_name, v.expires_at
         FROM email_verifications v JOIN users u ON u.id = v.user_id AND u.email = v.email
        WHERE v.id = $1 AND v.user_id = $2 AND v.expires_at > now()`,
      [verificationId, userId],
    );
    const v = rows[0];
    if (!v) return null;
    const keys = this.ring();
    // A key removed from the ring since: its links cannot be recomputed; the user asks again.
    if (!keys.holds(v.key_id)) return null;
    const token = keys.mac(PURPOSE, v.key_id, v.id);
    return {
      email: v.email,
      displayName: v.display_name,
      link: `${v.link_origin}${VERIFY_EMAIL_PATH}?token=${token}`,
      expiresAt: v.expires_at.toISOString(),
    };
  }
}
