export { SettlementWorker, captureOf, earnedOf, feeSplit, pendingSettlements, type SettlementHooks } from './worker.ts';
export { takingsByKstDay, type DayTakings } from './takings.ts';
