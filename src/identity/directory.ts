import type { Pool } from '../platform/db.ts';
import type { KeyRing } from './keys.ts';
import { EmailVerifications, type VerificationMail } from './verification.ts';

/**
 * Read-only lookups of users by id for other modules (display names for
 * pledges, mail addresses for the notifier). In distributed mode a notifier
 * without the identity database asks an api process over HTTP instead.
 */
export class UserDirectory {
  private readonly cache = new Map<string, { email: string; displayName: string }>();
  private readonly verifications: EmailVerifications;

  /** `keys` compose verification links (a process without them cannot). */
  constructor(private readonly pool: Pool, keys?: KeyRing) {
    this.verifications = new EmailVerifications(pool, keys);
  }

  async lookup(userId: string): Promise<{ email: string; displayName: string } | null> {
    const hit = this.cache.get(userId);
    if (hit) return hit;
    const { rows } = await this.pool.query<{ email: string; display_name: string }>('SELECT email, display_name FROM users WHERE id = $1', [userId]);
    if (!rows[0]) return null;
    const user = { email: rows[0].email, displayName: rows[0].display_name };
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(userId, user);
    return user;
  }

  /** The notifier's address book. */
  addressOf(userId: string) {
    return this.lookup(userId);
  }

  /** The notifier's verification mail: address and link, or null when that verification is no longer live. */
  verificationMail(userId: string, verificationId: string): Promise<VerificationMail | null> {
    return this.verifications.mailOf(userId, verificationId);
  }

  async displayNameOf(userId: string): Promise<string> {
    return (await this.lookup(userId))?.displayName ?? 'unknown';
  }
}
