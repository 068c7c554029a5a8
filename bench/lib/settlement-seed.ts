/**
 * Seeding of the settlement benchmark: a mission with many held pledges,
 * created without HTTP load. Used by bench/lib/settlement-child.ts.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createMissionLink, type MissionLink } from '../../src/app.ts';
import { loadKeyRing } from '../../src/identity/keys.ts';
import { ensureAccount } from '../../src/ledger/index.ts';
import { ESCROW_SLOTS } from '../../src/missions/index.ts';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import { loadSecrets } from '../../src/platform/datadir.ts';
import { openPool, type Pool } from '../../src/platform/db.ts';
import { withDatabase } from '../../src/platform/embedded-pg.ts';
import { createLogger } from '../../src/platform/log.ts';
import { prepareDatabases, type Embedded } from '../../src/platform/runtime.ts';
import type { SettlementHooks } from '../../src/settlement/index.ts';

export interface BigMissionApp {
  config: Config;
  ml: MissionLink;
  pools: { identity: Pool; funding: Pool };
  embedded: Embedded;
  /** Superuser connection to the funding database (ANALYZE, CHECKPOINT, scratch tables). */
  superFunding: pg.Client;
  ownerToken: string;
  missionId: string;
  /** Milliseconds: embedded PostgreSQL start with provisioning and migrations; app, users and mission. */
  postgresStartMs: number;
  setupMs: number;
  close(): Promise<void>;
}

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

/**
 * The product in a fresh DATA_DIR: its own embedded PostgreSQL
 * (prepareDatabases: provisioning and migrations as `missionlink start` does
 * them), the app from createMissionLink with its workers not started (nothing
 * settles behind the caller's back), and an ACTIVE mission made through the
 * routes: a streamer's channel, a proposer's charge and proposal (its first
 * pledge), the streamer's accept.
 */
export async function bigMissionApp(
  dataDir: string,
  opts: { batchSize?: number; settlementHooks?: SettlementHooks } = {},
): Promise<BigMissionApp> {
  const t0 = performance.now();
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...(opts.batchSize ? { SETTLEMENT_BATCH_SIZE: String(opts.batchSize) } : {}),
  });
  const log = createLogger('silent');
  const { embedded, urls } = await prepareDatabases(config, log, ['funding', 'identity']);
  const postgresStartMs = ms(t0);
  const pools = {
    identity: openPool({ url: urls.identity!, name: 'identity', max: 5 }),
    // The same pool size as `missionlink start`.
    funding: openPool({ url: urls.funding!, name: 'funding', max: 20 }),
  };
  const superFunding = new pg.Client({
    connectionString: withDatabase(embedded!.server.superUrl, 'funding'),
  });
  let ml: MissionLink | undefined;
  const close = async () => {
    await superFunding.end().catch(() => undefined);
    if (ml) {
      await ml.http.close().catch(() => undefined);
      await ml.stopWorkers().catch(() => undefined);
    }
    await Promise.all(Object.values(pools).map((p) => p.end().catch(() => undefined)));
    await embedded!.server.stop();
    await embedded!.release();
  };
  try {
    await superFunding.connect();
    ml = await createMissionLink({
      config,
      logger: log,
      pools,
      keys: await loadKeyRing(config.dataDir),
      paymentWebhookSecret: (await loadSecrets(config.dataDir)).paymentWebhookSecret,
      startWorkers: false,
      ...(opts.settlementHooks ? { hooks: { settlement: opts.settlementHooks } } : {}),
    });
    const t1 = performance.now();
    const ownerToken = await user(ml, 'bench-streamer');
    const proposer = await user(ml, 'bench-proposer');
    const handle = `settle_${randomBytes(4).toString('hex')}`;
    await inject(ml, 'POST', '/api/v1/channels', 201, ownerToken, {
      handle,
      displayName: 'Settlement bench',
      settings: { missionMinAmount: 1000 },
    });
    await inject(ml, 'POST', '/api/v1/wallet/charges', 201, proposer, { amount: 10_000 });
    const proposed = await inject(
      ml,
      'POST',
      `/api/v1/channels/${handle}/missions`,
      201,
      proposer,
      {
        title: 'Settle a big mission',
        amount: 1_000,
        durationSeconds: 3_600,
      },
    );
    const missionId = proposed.mission.id as string;
    await inject(ml, 'POST', `/api/v1/missions/${missionId}/accept`, 200, ownerToken);
    return {
      config,
      ml,
      pools,
      embedded: embedded!,
      superFunding,
      ownerToken,
      missionId,
      postgresStartMs,
      setupMs: ms(t1),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** One call to the app's routes without a socket; throws unless the status is `status`. */
export async function inject(
  ml: MissionLink,
  method: 'GET' | 'POST',
  url: string,
  status: number,
  token?: string,
  payload?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- benchmark code reads arbitrary JSON answers
): Promise<Record<string, any>> {
  const res = await ml.http.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  if (res.statusCode !== status)
    throw new Error(`${method} ${url}: expected ${status}, got ${res.statusCode} ${res.body}`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  return res.json() as Record<string, any>;
}

export async function user(ml: MissionLink, name: string): Promise<string> {
  const email = `${name}-${randomBytes(4).toString('hex')}@bench.test`;
  const password = 'bench-password-0123';
  await inject(ml, 'POST', '/api/v1/auth/register', 201, undefined, {
    email,
    password,
    displayName: name,
  });
  return (await inject(ml, 'POST', '/api/v1/auth/login', 200, undefined, { email, password }))
    .accessToken as string;
}

/**
 * Bulk pledges to `missionId` from `backers` new wallets, set-based, keeping
 * the books as the product would: each backer's charge (a posted transfer
 * from the sandbox provider, and its `charges` row), each pledge's pending
 * hold from the backer's wallet into a random escrow slot of the mission,
 * the matching balance columns, pledge rows, mission_backers and the slot
 * totals. Pledge ids are UUIDv7 in order, like the product's.
 */
export async function seedPledges(
  pool: Pool,
  missionId: string,
  count: number,
  backers: number,
): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const provider = await ensureAccount(c, 'KRW', 'payment_provider', 'sandbox');
    const uuid = (await c.query(`SELECT to_regproc('uuidv7') IS NOT NULL AS v7`)).rows[0].v7
      ? 'uuidv7()'
      : 'gen_random_uuid()';
    await c.query(
      `CREATE TEMP TABLE seed_pledges ON COMMIT DROP AS
         SELECT g AS n, ${uuid} AS id, ${uuid} AS hold_id, g % $2 AS backer_n,
                (1000 + ((g * 7919) % 10) * 100)::bigint AS amount, floor(random() * $3)::int AS slot
           FROM generate_series(0, $1 - 1) AS g`,
      [count, backers, ESCROW_SLOTS],
    );
    await c.query(
      `CREATE TEMP TABLE seed_backers ON COMMIT DROP AS
         SELECT p.backer_n AS n, ${uuid} AS user_id, ${uuid} AS wallet_id, ${uuid} AS charge_id,
                sum(p.amount)::bigint AS pledged,
                -- Charged: what they pledge plus up to 10,000 left over, rounded to 1,000 (≤ 1,000,000).
                (ceil(sum(p.amount) / 1000.0) * 1000 + 10000)::bigint AS charged,
                (array_agg(p.slot ORDER BY p.n))[1] AS first_slot
           FROM seed_pledges p GROUP BY p.backer_n`,
    );
    await c.query(
      `CREATE TEMP TABLE seed_escrow ON COMMIT DROP AS
         SELECT id, split_part(owner, ':', 2)::int AS slot FROM accounts
          WHERE ledger = 'KRW' AND code = 'mission_escrow' AND owner LIKE $1`,
      [`${missionId}:%`],
    );
    const slots = (await c.query('SELECT count(*)::int AS n FROM seed_escrow')).rows[0].n as number;
    if (slots !== ESCROW_SLOTS)
      throw new Error(`mission ${missionId} has ${slots} escrow slots, expected ${ESCROW_SLOTS}`);
    // Wallets hold the charge (credits_posted) and the holds (debits_pending).
    await c.query(
      `INSERT INTO accounts (id, ledger, code, owner, flags, credits_posted, debits_pending)
       SELECT wallet_id, 'KRW', 'user_wallet', user_id::text, 1, charged, pledged FROM seed_backers`,
    );
    await c.query(
      `INSERT INTO charges (id, user_id, amount, status, provider, provider_ref, completed_at)
       SELECT charge_id, user_id, charged, 'succeeded', 'sandbox', 'sandbox_' || charge_id, now() FROM seed_backers`,
    );
    await c.query(
      `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags)
       SELECT charge_id, $1, wallet_id, charged, 'KRW', 'charge', 0 FROM seed_backers`,
      [provider.id],
    );
    await c.query(
      `UPDATE accounts SET debits_posted = debits_posted + (SELECT sum(charged) FROM seed_backers) WHERE id = $1`,
      [provider.id],
    );
    await c.query(
      `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, mission_id)
       SELECT p.hold_id, b.wallet_id, e.id, p.amount, 'KRW', 'pledge_hold', 1, $1
         FROM seed_pledges p JOIN seed_backers b ON b.n = p.backer_n JOIN seed_escrow e ON e.slot = p.slot
        ORDER BY p.n`,
      [missionId],
    );
    await c.query(
      `UPDATE accounts a SET credits_pending = a.credits_pending + s.total
         FROM (SELECT e.id, sum(p.amount)::bigint AS total FROM seed_pledges p JOIN seed_escrow e ON e.slot = p.slot GROUP BY e.id) s
        WHERE a.id = s.id`,
    );
    await c.query(
      `INSERT INTO pledges (id, mission_id, backer_id, backer_name, amount, hold_transfer_id, wallet_account_id, escrow_account_id, status, created_at)
       SELECT p.id, $1, b.user_id, 'Bench backer ' || b.n, p.amount, p.hold_id, b.wallet_id, e.id, 'HELD', now()
         FROM seed_pledges p JOIN seed_backers b ON b.n = p.backer_n JOIN seed_escrow e ON e.slot = p.slot
        ORDER BY p.n`,
      [missionId],
    );
    await c.query(
      'INSERT INTO mission_backers (mission_id, backer_id) SELECT $1, user_id FROM seed_backers',
      [missionId],
    );
    await c.query(
      `UPDATE mission_totals t SET amount = t.amount + s.amount, pledges = t.pledges + s.pledges, backers = t.backers + coalesce(f.backers, 0)
         FROM (SELECT slot, sum(amount)::bigint AS amount, count(*)::int AS pledges FROM seed_pledges GROUP BY slot) s
         LEFT JOIN (SELECT first_slot AS slot, count(*)::int AS backers FROM seed_backers GROUP BY first_slot) f ON f.slot = s.slot
        WHERE t.mission_id = $1 AND t.slot = s.slot`,
      [missionId],
    );
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
