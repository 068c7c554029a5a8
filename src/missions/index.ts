// Public surface of the missions module.
export { ChannelService, DEFAULT_SETTINGS, type Channel, type ChannelSettings } from './channels.ts';
export { MissionService } from './service.ts';
export {
  ESCROW_SLOTS,
  MISSION_STATES,
  ON_FAILURE,
  TERMINAL,
  UNCONFIRMED,
  CLOSED_TO_BETS,
  type Mission,
  type MissionRow,
  type MissionState,
  type MissionUnit,
  type OnFailure,
  type Pledge,
} from './model.ts';
export type { Decision, DecisionInput } from './transitions.ts';
export { reachesThreshold, type Dispute, type DisputeView, type Resolution } from './disputes.ts';
export { missionRoutes, MissionSchema, DisputeViewSchema } from './routes.ts';
export { ChannelDirectory, type ChannelStats, type TopBacker } from './directory.ts';
export { channelDirectoryRoutes } from './directory-routes.ts';
export { LiveHub, pruneLiveEvents, type LiveType } from './live.ts';
export { liveRoutes } from './live-routes.ts';
export { MissionLifecycle, type AcceptedMission, type LifecycleSubscriber } from './lifecycle.ts';
export { MissionExpirer, type MissionExpiry } from './expiry.ts';
// The pledge book, for settlement, notify and ledger verify (never its tables).
export {
  withMissionLocked,
  missionRow,
  finalAt,
  endedUnsettled,
  heldPledges,
  markPledgesSettled,
  hasHeldPledges,
  settledTotals,
  escrowAccounts,
  markSettled,
  backerTotals,
  missionHeadlines,
  missionTitles,
  pledgeBookStats,
  verifyPledges,
  verifyBooks,
  type LockMode,
  type HeldPledge,
  type SettledPledge,
  type EscrowAccount,
  type BackerTotal,
  type MissionHeadline,
  type PledgeBookStats,
} from './book.ts';
// Voiding a user's held pledges on undecided missions (payment reversals, released holds).
export { voidHeldPledges, type VoidedPledge, type VoidedPledges } from './voids.ts';
