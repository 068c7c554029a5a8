import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createOnce, ensureDataDir } from '../platform/datadir.ts';

/** Where the key is generated when AUDIT_HMAC_KEY is not set (mode 0600). */
export const AUDIT_KEY_FILE = 'audit-hmac.key';

const derive = (secret: Buffer, purpose: string) => createHmac('sha256', secret).update(purpose).digest();

/**
 * The secret that keys the security audit chain and signs its anchors. It is
 * kept outside the identity database (AUDIT_HMAC_KEY, or DATA_DIR), so the
 * database's owner can edit rows but cannot recompute their hashes. Holds only
 * keys derived from the secret, one per purpose; prints and serialises as its
 * id, never as key material.
 * @example const key = AuditKey.from(process.env.AUDIT_HMAC_KEY!); key.entryMac(text);
 */
export class AuditKey {
  /** Names the key in anchors and reports (a MAC of a fixed text: reveals nothing of the key). */
  readonly id: string;
  readonly #entries: Buffer;
  readonly #anchors: Buffer;

  private constructor(secret: Buffer) {
    this.id = derive(secret, 'missionlink audit key id').toString('hex').slice(0, 16);
    this.#entries = derive(secret, 'missionlink audit chain entries v1');
    this.#anchors = derive(secret, 'missionlink audit chain anchors v1');
  }

  /** The key of a secret text (as in AUDIT_HMAC_KEY or the generated file; surrounding blanks ignored). */
  static from(secret: string): AuditKey {
    const text = secret.trim();
    if (text.length < 32) throw new Error('the audit key must be at least 32 characters');
    return new AuditKey(Buffer.from(text, 'utf8'));
  }

  /** HMAC-SHA-256 (hex) of one chain entry's canonical text. */
  entryMac(text: string): string {
    return createHmac('sha256', this.#entries).update(text).digest('hex');
  }

  /** HMAC-SHA-256 (hex) of one anchor's canonical text. */
  anchorMac(text: string): string {
    return createHmac('sha256', this.#anchors).update(text).digest('hex');
  }

  toJSON() {
    return { id: this.id };
  }

  toString() {
    return `AuditKey(${this.id})`;
  }
}

/**
 * The audit key of this deployment: AUDIT_HMAC_KEY when set, else the one in
 * DATA_DIR, generated there on first use (atomically: processes starting
 * together share one). Every process that appends audit entries, and `audit
 * verify`, must get the same key. With `create: false` (verifying) a missing
 * key is an error, never a fresh one.
 * @example const key = await loadAuditKey(config);
 */
export async function loadAuditKey(
  config: { AUDIT_HMAC_KEY?: string; dataDir: string },
  opts: { create?: boolean } = {},
): Promise<AuditKey> {
  if (config.AUDIT_HMAC_KEY) return AuditKey.from(config.AUDIT_HMAC_KEY);
  const file = path.join(config.dataDir, AUDIT_KEY_FILE);
  if (opts.create === false) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      throw new Error(`no audit key: set AUDIT_HMAC_KEY, or DATA_DIR to the api processes' own (${file} does not exist)`);
    });
    return AuditKey.from(text);
  }
  await ensureDataDir(config.dataDir);
  return AuditKey.from(await createOnce(file, `${randomBytes(32).toString('base64url')}\n`));
}

let processKey: AuditKey | undefined;

/**
 * Sets the key this process appends audit entries with (the composition root
 * does, from loadAuditKey). One key per process, as one identity database per
 * process: appends made before it is set are refused.
 */
export function useAuditKey(key: AuditKey): void {
  processKey = key;
}

/** The key set by useAuditKey; throws when there is none. */
export function appendKey(): AuditKey {
  if (!processKey) throw new Error('no audit key set: the api role loads it (loadAuditKey, useAuditKey) before appending');
  return processKey;
}
