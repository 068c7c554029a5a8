// Whom a streamer can block from the Studio without knowing an id.
import type { Block, Mission } from './types.ts';

/** Someone who proposed a mission on the channel lately, by name. */
export interface Proposer {
  userId: string;
  name: string;
}

/**
 * The proposers of the channel's newest missions who are not blocked, newest
 * first, each once: whom a streamer blocks without knowing any id.
 */
export function recentProposers(
  missions: readonly Mission[],
  blocks: readonly Block[],
): Proposer[] {
  const blocked = new Set(blocks.map((b) => b.userId));
  const seen = new Map<string, Proposer>();
  for (const m of missions) {
    if (blocked.has(m.createdBy) || seen.has(m.createdBy) || !m.proposerName) continue;
    seen.set(m.createdBy, { userId: m.createdBy, name: m.proposerName });
  }
  return [...seen.values()];
}
