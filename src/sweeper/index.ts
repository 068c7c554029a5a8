export { Sweeper, type SweeperDeps } from './worker.ts';
export { DailyReconcile, reconcile, dayToReconcile, RECONCILE_AREAS, RECONCILE_DELAY_MS, type ReconcileReport, type ReconcileDifference, type ReconcileArea } from './reconcile.ts';
