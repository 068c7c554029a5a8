import type { Pool, Queryable } from '../platform/db.ts';

// Result rows of the checks below: bigint sums arrive as strings or numbers.
type Row = Record<string, string>;

export interface LedgerProblem {
  check: string;
  detail: string;
}

/**
 * A check another module adds to a verification (a subledger that must agree
 * with the ledger, such as the pledge book's holds): it runs in the
 * verification's read-only snapshot and names what it found wrong.
 */
export type LedgerCheck = (c: Queryable) => Promise<LedgerProblem[]>;

export interface LedgerReport {
  ok: boolean;
  checkedAt: string;
  durationMs: number;
  accounts: number;
  transfers: number;
  ledgers: Record<string, { debitsPosted: number; creditsPosted: number; debitsPending: number; creditsPending: number }>;
  problems: LedgerProblem[];
}

/**
 * Runs a verification and records it in `ledger_verifications`, so every
 * process (and the ops page) can show the last result.
 */
export async function verifyAndRecord(pool: Pool, checks: LedgerCheck[] = []): Promise<LedgerReport> {
  const report = await verifyLedger(pool, checks);
  await pool.query('INSERT INTO ledger_verifications (ok, duration_ms, report) VALUES ($1, $2, $3)', [report.ok, report.durationMs, JSON.stringify(report)]);
  await pool.query(`DELETE FROM ledger_verifications WHERE checked_at < now() - interval '30 days'`);
  return report;
}

/** The last recorded verification, if any. */
export async function lastVerification(pool: Queryable): Promise<LedgerReport | null> {
  const { rows } = await pool.query<{ report: LedgerReport }>('SELECT report FROM ledger_verifications ORDER BY id DESC LIMIT 1');
  return rows[0]?.report ?? null;
}

/**
 * Proves the books: per ledger Σdebits = Σcredits; every account's balance
 * equals what its transfers add up to; no limited account is overdrawn; every
 * pending transfer is open, posted or voided once, by a resolution that
 * matches it; both accounts of every transfer exist, on its ledger; and
 * whatever `checks` the subledgers add (the missions module's verifyPledges:
 * every pledge matches its hold transfer). Read-only, in one REPEATABLE READ
 * snapshot.
 * @example const report = await verifyLedger(pool, [verifyPledges]); if (!report.ok) console.error(report.problems);
 */
export async function verifyLedger(pool: Pool, checks: LedgerCheck[] = []): Promise<LedgerReport> {
  const started = Date.now();
  const problems: LedgerProblem[] = [];
  const client = await pool.connect();
  try {
    await client.query<Row>('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');

    const totals = await client.query<Row>(
      `SELECT ledger, sum(debits_posted)::bigint AS dpo, sum(credits_posted)::bigint AS cpo,
              sum(debits_pending)::bigint AS dp, sum(credits_pending)::bigint AS cp, count(*)::bigint AS n
         FROM accounts GROUP BY ledger ORDER BY ledger`,
    );
    const ledgers: LedgerReport['ledgers'] = {};
    let accounts = 0;
    for (const r of totals.rows) {
      accounts += Number(r.n);
      ledgers[r.ledger!] = { debitsPosted: Number(r.dpo), creditsPosted: Number(r.cpo), debitsPending: Number(r.dp), creditsPending: Number(r.cp) };
      if (Number(r.dpo) !== Number(r.cpo)) problems.push({ check: 'balanced', detail: `${r.ledger}: posted debits ${r.dpo} ≠ posted credits ${r.cpo}` });
      if (Number(r.dp) !== Number(r.cp)) problems.push({ check: 'balanced', detail: `${r.ledger}: pending debits ${r.dp} ≠ pending credits ${r.cp}` });
    }

    // Recompute every account from its transfers. A pending transfer counts as
    // pending until a post/void references it; a post counts its own amount.
    const mismatches = await client.query<Row>(
      `WITH effects AS (
         SELECT t.debit_account_id AS account, t.amount AS dpo, 0::bigint AS dp, 0::bigint AS cpo, 0::bigint AS cp FROM transfers t WHERE t.flags IN (0, 2)
         UNION ALL
         SELECT t.credit_account_id, 0, 0, t.amount, 0 FROM transfers t WHERE t.flags IN (0, 2)
         UNION ALL
         SELECT t.debit_account_id, 0, t.amount, 0, 0 FROM transfers t
          WHERE t.flags = 1 AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = t.id)
         UNION ALL
         SELECT t.credit_account_id, 0, 0, 0, t.amount FROM transfers t
          WHERE t.flags = 1 AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = t.id)
       ), sums AS (
         SELECT account, sum(dpo)::bigint AS dpo, sum(dp)::bigint AS dp, sum(cpo)::bigint AS cpo, sum(cp)::bigint AS cp
           FROM effects GROUP BY account
       )
       SELECT a.id, a.code, a.owner,
              a.debits_posted, coalesce(s.dpo, 0) AS exp_dpo, a.debits_pending, coalesce(s.dp, 0) AS exp_dp,
              a.credits_posted, coalesce(s.cpo, 0) AS exp_cpo, a.credits_pending, coalesce(s.cp, 0) AS exp_cp
         FROM accounts a LEFT JOIN sums s ON s.account = a.id
        WHERE a.debits_posted <> coalesce(s.dpo, 0) OR a.debits_pending <> coalesce(s.dp, 0)
           OR a.credits_posted <> coalesce(s.cpo, 0) OR a.credits_pending <> coalesce(s.cp, 0)
        LIMIT 50`,
    );
    for (const m of mismatches.rows) {
      problems.push({
        check: 'account_matches_transfers',
        detail: `account ${m.id} (${m.code} ${m.owner}): stored dpo/dp/cpo/cp ${m.debits_posted}/${m.debits_pending}/${m.credits_posted}/${m.credits_pending}, transfers give ${m.exp_dpo}/${m.exp_dp}/${m.exp_cpo}/${m.exp_cp}`,
      });
    }

    const overdrawn = await client.query<Row>(
      `SELECT id, code, owner, credits_posted - debits_posted - debits_pending AS available
         FROM accounts WHERE flags & 1 = 1 AND debits_posted + debits_pending > credits_posted LIMIT 50`,
    );
    for (const o of overdrawn.rows) problems.push({ check: 'not_overdrawn', detail: `account ${o.id} (${o.code} ${o.owner}) is at ${o.available}` });

    const badResolutions = await client.query<Row>(
      `SELECT r.id, r.flags, r.amount, p.id AS pending, p.flags AS pflags, p.amount AS pamount
         FROM transfers r LEFT JOIN transfers p ON p.id = r.pending_id
        WHERE r.flags IN (2, 4)
          AND (p.id IS NULL OR p.flags <> 1 OR r.debit_account_id <> p.debit_account_id
               OR r.credit_account_id <> p.credit_account_id OR r.ledger <> p.ledger
               OR (r.flags = 2 AND r.amount > p.amount) OR (r.flags = 4 AND r.amount <> p.amount))
        LIMIT 50`,
    );
    for (const b of badResolutions.rows) problems.push({ check: 'pending_resolved_once', detail: `transfer ${b.id} (flags ${b.flags}) does not match pending ${b.pending ?? 'missing'}` });

    // Transfers have no foreign keys (migration 0010): their writers check
    // that both accounts exist on the transfer's ledger, and this proves it.
    const badAccounts = await client.query<Row>(
      `SELECT t.id, t.ledger, t.debit_account_id AS debit, d.ledger AS dledger, t.credit_account_id AS credit, c.ledger AS cledger
         FROM transfers t LEFT JOIN accounts d ON d.id = t.debit_account_id LEFT JOIN accounts c ON c.id = t.credit_account_id
        WHERE d.ledger IS DISTINCT FROM t.ledger OR c.ledger IS DISTINCT FROM t.ledger LIMIT 50`,
    );
    for (const x of badAccounts.rows) {
      const side = (name: string, id: string | undefined, ledger: string | undefined) =>
        ledger === x.ledger ? [] : [`its ${name} account ${id} ${ledger ? `is on ${ledger}` : 'does not exist'}`];
      const what = [...side('debit', x.debit, x.dledger), ...side('credit', x.credit, x.cledger)].join(', ');
      problems.push({ check: 'single_ledger', detail: `transfer ${x.id} (${x.ledger}): ${what}` });
    }

    // The subledgers' own checks (e.g. the pledge book's), in the same snapshot.
    for (const check of checks) problems.push(...(await check(client)));

    const count = await client.query<Row>('SELECT count(*)::bigint AS n FROM transfers');
    await client.query<Row>('COMMIT');
    return {
      ok: problems.length === 0,
      checkedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
      accounts,
      transfers: Number(count.rows[0]!.n),
      ledgers,
      problems,
    };
  } catch (err) {
    await client.query<Row>('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
