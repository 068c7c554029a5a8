export { SettlementWorker, captureOf, feeSplit, pendingSettlements, type SettlementHooks } from './worker.ts';
