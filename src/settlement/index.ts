export { SettlementWorker, captureOf, feeSplit, type SettlementHooks } from './worker.ts';
