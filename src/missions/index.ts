// Public surface of the missions module.
export { ChannelService, DEFAULT_SETTINGS, type Channel, type ChannelSettings } from './channels.ts';
export { MissionService } from './service.ts';
export { ESCROW_SLOTS, MISSION_STATES, TERMINAL, type Mission, type MissionRow, type MissionState, type Pledge } from './model.ts';
export type { Decision } from './transitions.ts';
export { missionRoutes } from './routes.ts';
export { LiveHub, pruneLiveEvents, type LiveType } from './live.ts';
export { liveRoutes } from './live-routes.ts';
export { MissionLifecycle, type AcceptedMission, type LifecycleSubscriber } from './lifecycle.ts';
export { MissionExpirer, type MissionExpiry } from './expiry.ts';
// The pledge book, for settlement, notify and ledger verify (never its tables).
export {
  withMissionLocked,
  missionRow,
  endedUnsettled,
  heldPledges,
  markPledgesSettled,
  hasHeldPledges,
  settledTotals,
  escrowAccounts,
  markSettled,
  backerTotals,
  missionHeadlines,
  pledgeBookStats,
  verifyPledges,
  verifyBooks,
  type LockMode,
  type HeldPledge,
  type SettledPledge,
  type EscrowAccount,
  type BackerTotal,
} from './book.ts';
