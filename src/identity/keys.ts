import { createHmac, hkdfSync } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import { createOnce } from '../platform/datadir.ts';

export const ISSUER = 'missionlink';
export const API_AUDIENCE = 'missionlink-api';
export const INTERNAL_AUDIENCE = 'missionlink-internal';
export const ACCESS_TOKEN_TTL_SECONDS = 900;
/** The longest lifetime (`exp − iat`) of any token this deployment believes (API.md 1.1). */
export const MAX_TOKEN_LIFETIME_SECONDS = 900;
/** How far ahead of our clock an `iat` may be (the signer's clock runs fast). */
export const MAX_CLOCK_SKEW_SECONDS = 60;

interface PrivateJwk extends JWK {
  kid: string;
  d: string;
}

/**
 * Ed25519 signing keys. The first key signs; every key verifies, so a rotated
 * key keeps validating the tokens it signed until they expire.
 */
export class KeyRing {
  private constructor(
    private readonly signer: { kid: string; key: Awaited<ReturnType<typeof importJWK>> },
    readonly jwks: { keys: JWK[] },
    private readonly verifyKeys: ReturnType<typeof createLocalJWKSet>,
    /** Each key's private scalar, by kid: the input of derived secrets. */
    private readonly privateParts: Map<string, Buffer>,
  ) {}

  static async fromJwks(privateJwks: PrivateJwk[]): Promise<KeyRing> {
    if (privateJwks.length === 0) throw new Error('no signing keys');
    for (const k of privateJwks) {
      if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || !k.d || !k.x || !k.kid) {
        throw new Error('signing keys must be Ed25519 private JWKs with a kid');
      }
    }
    if (new Set(privateJwks.map((k) => k.kid)).size !== privateJwks.length) throw new Error('signing key ids (kid) must be unique');
    // Only the public members: whatever else a stored key carries (`d`,
    // `key_ops: ["sign"]`, `ext`) must neither leak nor stop it verifying.
    const publicKeys: JWK[] = privateJwks.map((k) => ({ kty: 'OKP', crv: 'Ed25519', x: k.x, kid: k.kid, alg: 'EdDSA', use: 'sig' }));
    const first = privateJwks[0]!;
    const key = await importJWK({ ...first, alg: 'EdDSA' }, 'EdDSA');
    const jwks = { keys: publicKeys };
    const privateParts = new Map(privateJwks.map((k) => [k.kid, Buffer.from(k.d, 'base64url')]));
    return new KeyRing({ kid: first.kid, key }, jwks, createLocalJWKSet(jwks), privateParts);
  }

  /** Signs a token for `sub` with the given audience and lifetime. */
  async sign(sub: string, audience: string, ttlSeconds: number, claims: JWTPayload = {}): Promise<string> {
    // One reading of the clock for both: jose reads it again for a relative
    // expiry, and a second ticking in between made a token verify() refuses.
    const issuedAt = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.signer.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setSubject(sub)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .setJti(crypto.randomUUID())
      .sign(this.signer.key);
  }

  /**
   * Verifies signature, issuer, audience and expiry, and that the token is
   * one we could have issued: `iat` at most 60 s ahead of our clock and a
   * lifetime (`exp − iat`) of at most 900 s — a stolen signing key aside,
   * nobody holds a token that outlives a rotation by years. Throws when any
   * check fails.
   */
  async verify(token: string, audience: string): Promise<JWTPayload & { sub: string; exp: number; iat: number }> {
    const { payload } = await jwtVerify(token, this.verifyKeys, {
      issuer: ISSUER,
      audience,
      algorithms: ['EdDSA'],
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    });
    const { iat, exp } = payload as { iat: number; exp: number };
    if (iat > Math.floor(Date.now() / 1000) + MAX_CLOCK_SKEW_SECONDS) throw new Error('the token was issued in the future');
    if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS) throw new Error('the token lives too long');
    return payload as JWTPayload & { sub: string; exp: number; iat: number };
  }

  /** The kid of the key that signs (and derives new secrets). */
  get signingKid(): string {
    return this.signer.kid;
  }

  /** Whether the ring holds key `kid`. */
  holds(kid: string): boolean {
    return this.privateParts.has(kid);
  }

  /**
   * A keyed MAC of `message` under a secret derived from key `kid`'s private
   * part (HKDF-SHA256 with `purpose` as its info, so the secret of one use
   * is unrelated to any other's and to the signature key itself). Every
   * process of a deployment holds the same keys, so each computes the same
   * value; without the keys nobody can. Throws when the ring lacks `kid`.
   * @example keys.mac('email-verification', keys.signingKid, verificationId) // base64url, 43 chars
   */
  mac(purpose: string, kid: string, message: string): string {
    const ikm = this.privateParts.get(kid);
    if (!ikm) throw new Error(`no signing key ${kid} in the ring`);
    const secret = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), `missionlink ${purpose}`, 32));
    return createHmac('sha256', secret).update(message).digest('base64url');
  }
}

export async function newPrivateJwk(): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid } as PrivateJwk;
}

/**
 * Loads the key ring from SIGNING_KEYS, or from DATA_DIR/keys (generating the
 * first key there on first start; the highest-numbered file signs).
 */
export async function loadKeyRing(dataDir: string, signingKeysEnv?: string): Promise<KeyRing> {
  if (signingKeysEnv) return KeyRing.fromJwks(JSON.parse(signingKeysEnv) as PrivateJwk[]);
  const dir = path.join(dataDir, 'keys');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let files = await keyFiles(dir);
  if (files.length === 0) {
    await createOnce(path.join(dir, '0001.jwk.json'), JSON.stringify(await newPrivateJwk()));
    files = await keyFiles(dir);
  }
  const keys = await Promise.all(
    files.reverse().map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as PrivateJwk),
  );
  return KeyRing.fromJwks(keys);
}

/** Adds a new signing key to DATA_DIR/keys; older keys keep verifying. */
export async function rotateKeys(dataDir: string): Promise<string> {
  const dir = path.join(dataDir, 'keys');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = await keyFiles(dir);
  const next = String((files.length ? Number(files.at(-1)!.slice(0, 4)) : 0) + 1).padStart(4, '0');
  const jwk = await newPrivateJwk();
  await createOnce(path.join(dir, `${next}.jwk.json`), JSON.stringify(jwk));
  return jwk.kid;
}

async function keyFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^\d{4}\.jwk\.json$/.test(f)).sort();
}
