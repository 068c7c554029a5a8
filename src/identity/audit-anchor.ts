import type { Pool, Queryable } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';
import { loadAuditKey, useAuditKey, type AuditKey } from './audit-key.ts';

// The audit chain lives in the identity database; its anchors live in the
// funding database (table audit_anchors, migrations/funding/0017), out of
// reach of whoever owns the identity database. An anchor says "the chain had
// `entries` entries and the last one's hash was `head`", signed with the audit
// key. The api process (which holds both pools) writes one every few seconds
// when the chain grew, and once more at a clean stop: never on the login path.

/** How often an api process anchors the chain's head (when it grew). */
export const ANCHOR_INTERVAL_MS = 5_000;

/** Why an anchor or a chain does not check out (stable strings, for reports and tests). */
export type AuditProblem =
  | 'missing entry'
  | 'broken link'
  | 'content changed'
  | 'hashed without the key'
  | 'tail removed'
  | 'anchor mismatch'
  | 'switch-over point moved'
  | 'anchor forged'
  | 'anchors made with another key';

export interface Anchor {
  id: number;
  entries: number;
  head: string;
  keyedFrom: number;
  keyId: string;
  at: Date;
  mac: string;
}

const anchorText = (a: Omit<Anchor, 'id' | 'mac'>) => JSON.stringify(['audit-anchor', a.entries, a.head, a.keyedFrom, a.keyId, a.at.toISOString()]);

/**
 * The newest anchor (the one counting the most entries: api processes anchor
 * side by side, so not always the last written), or null.
 */
export async function newestAnchor(funding: Queryable): Promise<Anchor | null> {
  const { rows } = await funding.query<Anchor>({
    name: 'audit-anchor-newest',
    text: `SELECT id, entries, head, keyed_from AS "keyedFrom", key_id AS "keyId", at, mac
             FROM audit_anchors ORDER BY entries DESC, id DESC LIMIT 1`,
  });
  return rows[0] ?? null;
}

/** What is wrong with an anchor for the holder of `key`, if anything. */
export function anchorProblem(anchor: Anchor, key: AuditKey): { reason: AuditProblem; detail: string } | undefined {
  if (anchor.keyId !== key.id) {
    return {
      reason: 'anchors made with another key',
      detail: `the anchors name audit key ${anchor.keyId}, this process holds ${key.id}: is AUDIT_HMAC_KEY (or DATA_DIR) the api processes' own?`,
    };
  }
  if (key.anchorMac(anchorText(anchor)) !== anchor.mac) {
    return { reason: 'anchor forged', detail: `anchor ${anchor.id} (${anchor.entries} entries) does not carry the audit key's MAC` };
  }
  return undefined;
}

export type AnchorResult =
  | { anchored: true; entries: number; head: string }
  | { anchored: false; reason: 'unchanged' | 'empty' | AuditProblem; detail?: string };

/**
 * Anchors the audit chain's head in the funding database. Refuses (and logs)
 * when the chain no longer matches the newest anchor: a shortened or rewritten
 * chain is never anchored over.
 * @example const job = await AuditAnchor.open({ identity, funding, config, log }); job.start(); … await job.stop();
 */
export class AuditAnchor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private lastProblem: string | undefined;

  constructor(private readonly deps: { identity: Pool; funding: Pool; key: AuditKey; log: Logger; intervalMs?: number }) {}

  /** Loads the deployment's audit key, makes it this process's key for appends, and returns the job (not started). */
  static async open(deps: { identity: Pool; funding: Pool; config: { AUDIT_HMAC_KEY?: string; dataDir: string }; log: Logger; intervalMs?: number }): Promise<AuditAnchor> {
    const key = await loadAuditKey(deps.config);
    useAuditKey(key);
    return new AuditAnchor({ ...deps, key });
  }

  /** Anchors every few seconds (a tick is skipped while the previous one runs). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.anchorNow()
        .catch((err: Error) => this.deps.log.warn({ err: err.message }, 'audit anchor failed; retrying at the next tick'))
        .finally(() => (this.running = undefined));
    }, this.deps.intervalMs ?? ANCHOR_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the timer and anchors once more (the pools must still be open). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.anchorNow().catch((err: Error) => this.deps.log.warn({ err: err.message }, 'final audit anchor failed'));
  }

  /** Anchors the chain's current head, unless it is unchanged, empty, or does not match the newest anchor. */
  async anchorNow(): Promise<AnchorResult> {
    const { identity, funding, key } = this.deps;
    const newest = await newestAnchor(funding);
    // The head, the entry at the newest anchor and the switch-over point, in one round trip.
    const { rows } = await identity.query<{ keyed_from: number | null; entries: number | null; head: string | null; at_anchor: string | null }>({
      name: 'audit-anchor-state',
      text: `SELECT (SELECT keyed_from FROM audit_chain) AS keyed_from, h.seq AS entries, h.hash AS head,
                    (SELECT hash FROM audit_log WHERE seq = $1) AS at_anchor
               FROM (VALUES (1)) AS one
               LEFT JOIN LATERAL (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS h ON true`,
      values: [newest?.entries ?? 0],
    });
    const state = rows[0]!;
    const refuse = (reason: AuditProblem, detail: string): AnchorResult => {
      if (this.lastProblem !== `${reason}: ${detail}`) {
        this.lastProblem = `${reason}: ${detail}`;
        this.deps.log.error({ reason, detail }, 'the security audit log does not match its newest anchor; not anchoring (run missionlink audit verify)');
      }
      return { anchored: false, reason, detail };
    };
    if (newest) {
      const wrong = anchorProblem(newest, key);
      if (wrong) return refuse(wrong.reason, wrong.detail);
      if (state.keyed_from !== newest.keyedFrom) {
        return refuse('switch-over point moved', `the anchors say keyed hashes start at entry ${newest.keyedFrom}, the identity database says ${state.keyed_from}`);
      }
      if ((state.entries ?? 0) < newest.entries) {
        return refuse('tail removed', `the newest anchor counts ${newest.entries} entries, the log ends at ${state.entries ?? 0}`);
      }
      if (state.at_anchor !== newest.head) return refuse('anchor mismatch', `entry ${newest.entries} is not the one anchored at ${newest.at.toISOString()}`);
      if (state.entries === newest.entries) return { anchored: false, reason: 'unchanged' };
    }
    if (state.entries === null || state.head === null) return { anchored: false, reason: 'empty' };
    if (state.keyed_from === null) return refuse('switch-over point moved', 'the identity database has lost its switch-over point (table audit_chain)');
    this.lastProblem = undefined;
    const anchor = { entries: state.entries, head: state.head, keyedFrom: state.keyed_from, keyId: key.id, at: new Date() };
    await funding.query({
      name: 'audit-anchor-insert',
      text: 'INSERT INTO audit_anchors (entries, head, keyed_from, key_id, at, mac) VALUES ($1, $2, $3, $4, $5, $6)',
      values: [anchor.entries, anchor.head, anchor.keyedFrom, anchor.keyId, anchor.at, key.anchorMac(anchorText(anchor))],
    });
    return { anchored: true, entries: anchor.entries, head: anchor.head };
  }
}
