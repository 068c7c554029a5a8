import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/** The parts a process can run; `all` expands to every one of them. */
export const ROLE_NAMES = ['api', 'settlement', 'notifier', 'sweeper', 'webhooks'] as const;
export type Role = (typeof ROLE_NAMES)[number];

/** A whole decimal number in [min, max]: no blanks, fractions, exponents or hex. */
const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const port = integer(0, 65535);
const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');

const roles = z
  .string()
  .transform((v) => v.split(',').map((r) => r.trim()).filter(Boolean))
  .pipe(z.array(z.enum([...ROLE_NAMES, 'all'])).min(1, 'needs at least one role'))
  .transform((list): Role[] =>
    list.includes('all') ? [...ROLE_NAMES] : [...new Set(list as Role[])],
  );

const emailList = z
  .string()
  .transform((v) => v.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.email({ error: (i) => `${String(i.input)} is not an email address` })));

const envSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./.missionlink'),
  DATABASE_URL_IDENTITY: postgresUrl.optional(),
  DATABASE_URL_FUNDING: postgresUrl.optional(),
  NATS_URL: z
    .string()
    .refine((v) => /^(nats|tls):\/\//.test(v), 'must be a nats:// URL')
    .optional(),
  ROLES: roles.default([...ROLE_NAMES]),
  SIGNING_KEYS: z.string().optional(),
  PAYMENT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  // Keys the security audit chain; every api process of a deployment must share it.
  AUDIT_HMAC_KEY: z.string().trim().min(32, 'must be at least 32 characters').optional(),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().min(3).default('MissionLink <no-reply@missionlink.local>'),
  PLATFORM_FEE_BPS: integer(0, 10000).default(500),
  // Streamer withdrawals: the smallest one, the fee on each, and above what
  // amount one waits for an admin (WITHDRAWAL_FEE_KRW < WITHDRAWAL_MIN_KRW).
  WITHDRAWAL_MIN_KRW: integer(1, 1_000_000_000).default(10_000),
  WITHDRAWAL_FEE_KRW: integer(0, 1_000_000_000).default(0),
  WITHDRAWAL_REVIEW_ABOVE_KRW: integer(0, 1_000_000_000_000).default(1_000_000),
  IDENTITY_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  ADMIN_EMAILS: emailList.default([]),
  MIN_WINDOW_SECONDS: integer(1, 604800).default(60),
  // Pledges settled per transaction; small batches make crash tests reach the
  // between-batches point with a few hundred pledges.
  SETTLEMENT_BATCH_SIZE: integer(1, 100000).default(5000),
  // Proxies whose X-Forwarded-For/-Proto are believed (addresses or CIDRs).
  TRUST_PROXY: z
    .string()
    .transform((v) => v.split(',').map((a) => a.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine(isAddressOrCidr, { error: (i) => `${String(i.input)} is not an IP address or CIDR` })))
    .optional(),
  // Where people reach this deployment: the origin of links in mails. Never
  // taken from a request's Host header, which the sender chooses.
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  // Serve /metrics on this port only (the public PORT then answers 404 for it).
  METRICS_PORT: port.optional(),
  // The payment provider: the built-in sandbox, or PortOne V2 (then all of PORTONE_* but the URL).
  PAYMENT_PROVIDER: z.enum(['sandbox', 'portone']).default('sandbox'),
  PORTONE_API_SECRET: z.string().trim().min(1).optional(),
  PORTONE_STORE_ID: z.string().trim().min(1).optional(),
  PORTONE_CHANNEL_KEY: z.string().trim().min(1).optional(),
  // Standard Webhooks secret of PortOne's callbacks (`whsec_…`, base64).
  PORTONE_WEBHOOK_SECRET: z
    .string()
    .trim()
    .refine((v) => /^(whsec_)?[A-Za-z0-9+/]+={0,2}$/.test(v), 'must be a base64 webhook secret (whsec_…)')
    .optional(),
  // The payout provider of streamer withdrawals: the built-in sandbox, or PortOne's partner settlement
  // (then PORTONE_API_SECRET and PORTONE_PLATFORM_CONTRACT_ID, the contract new partners get).
  PAYOUT_PROVIDER: z.enum(['sandbox', 'portone']).default('sandbox'),
  PORTONE_PLATFORM_CONTRACT_ID: z.string().trim().min(1).optional(),
  PORTONE_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).default('https://api.portone.io'),
  // `1` lets outbound webhooks go to http(s)://127.0.0.1:<port> (tests, demos); any other address stays refused.
  WEBHOOK_ALLOW_LOOPBACK: z
    .enum(['0', '1'], { error: 'must be 1 (or 0)' })
    .transform((v) => v === '1')
    .default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof envSchema> & { dataDir: string };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Reads and validates the process configuration. Empty strings count as unset.
 * @example const config = loadConfig(process.env); // throws ConfigError naming the variable
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${String(i.path[0] ?? '?')}: ${i.message}`),
    );
  }
  if (parsed.data.SIGNING_KEYS !== undefined && !validSigningKeys(parsed.data.SIGNING_KEYS)) {
    throw new ConfigError(['SIGNING_KEYS: must be a non-empty JSON array of Ed25519 private JWKs, each with a distinct kid']);
  }
  if (parsed.data.WITHDRAWAL_FEE_KRW >= parsed.data.WITHDRAWAL_MIN_KRW) {
    throw new ConfigError([`WITHDRAWAL_FEE_KRW: must be less than WITHDRAWAL_MIN_KRW (${parsed.data.WITHDRAWAL_MIN_KRW}), or a withdrawal could pay out nothing`]);
  }
  if (parsed.data.PAYMENT_PROVIDER === 'portone') {
    const missing = (['PORTONE_API_SECRET', 'PORTONE_STORE_ID', 'PORTONE_CHANNEL_KEY', 'PORTONE_WEBHOOK_SECRET'] as const).filter((k) => !parsed.data[k]);
    if (missing.length > 0) throw new ConfigError(missing.map((k) => `${k}: is required when PAYMENT_PROVIDER=portone`));
  }
  if (parsed.data.PAYOUT_PROVIDER === 'portone') {
    const missing = (['PORTONE_API_SECRET', 'PORTONE_PLATFORM_CONTRACT_ID'] as const).filter((k) => !parsed.data[k]);
    if (missing.length > 0) throw new ConfigError(missing.map((k) => `${k}: is required when PAYOUT_PROVIDER=portone`));
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.DATA_DIR) };
}

function validSigningKeys(text: string): boolean {
  let keys: unknown;
  try {
    keys = JSON.parse(text);
  } catch {
    return false;
  }
  if (!Array.isArray(keys) || keys.length === 0) return false;
  const isKey = (k: unknown) => {
    const j = k as Record<string, unknown> | null;
    return (
      typeof j === 'object' && j !== null && j.kty === 'OKP' && j.crv === 'Ed25519' &&
      typeof j.d === 'string' && typeof j.x === 'string' && typeof j.kid === 'string' && j.kid !== ''
    );
  };
  return keys.every(isKey) && new Set(keys.map((k: { kid: string }) => k.kid)).size === keys.length;
}

function isAddressOrCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length || !address) return false;
  const family = isIP(address);
  if (!family) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * The origin of links in mails: PUBLIC_URL, else where this process listens
 * (a wildcard HOST is read as the loopback address).
 */
export function publicOrigin(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>): string {
  if (config.PUBLIC_URL) return new URL(config.PUBLIC_URL).origin;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return new URL(`http://${isIP(host) === 6 ? `[${host}]` : host}:${config.PORT}`).origin;
}

/** True when this configuration runs the embedded PostgreSQL (no database URL given). */
export function usesEmbeddedDatabase(config: Config): boolean {
  return config.DATABASE_URL_IDENTITY === undefined && config.DATABASE_URL_FUNDING === undefined;
}
