/**
 * A stand-alone HTTP process whose one route runs pgbench's tpcb-like
 * transaction: the reference of bench/scenarios/pledges.ts for what any
 * HTTP write of a pledge's size can reach on this machine. Built with the
 * project's own createHttpServer (same Fastify options and hooks as the real
 * server) and openPool, and as cheap as such a write gets: no token, no
 * validation, the transaction as one statement in one round trip (the way a
 * pledge is sent). Env: PORT, DATABASE_URL (the pgbench database), SCALE.
 */
import { randomInt } from 'node:crypto';
import { openPool } from '../../src/platform/db.ts';
import { serveBenchRoutes } from './bench-http.ts';
import { HTTP_TPCB_ROUTE } from './money.ts';

const scale = Number(process.env.SCALE);
const url = process.env.DATABASE_URL;
if (!Number.isInteger(scale) || scale <= 0 || !url)
  throw new Error('SCALE and DATABASE_URL are required');

const pool = openPool({ url, name: 'http-tpcb', max: 40 });

// pgbench's built-in tpcb-like script (UPDATE account, SELECT its balance,
// UPDATE teller, UPDATE branch, INSERT history) with its random choices.
const TPCB = `WITH a AS (UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2 RETURNING abalance),
     t AS (UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $3),
     b AS (UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $4),
     h AS (INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($3, $4, $2, $1, CURRENT_TIMESTAMP))
     SELECT abalance FROM a`;

await serveBenchRoutes(
  (app) =>
    app.post(HTTP_TPCB_ROUTE, { schema: { hide: true } }, async (_req, reply) => {
      const values = [
        randomInt(-5000, 5001),
        randomInt(1, 100_000 * scale + 1),
        randomInt(1, 10 * scale + 1),
        randomInt(1, scale + 1),
      ];
      const { rows } = await pool.query({ name: 'tpcb', text: TPCB, values });
      return reply.code(201).send({ balance: rows[0]?.abalance ?? null });
    }),
  () => pool.end(),
);
