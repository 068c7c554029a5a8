export { Sweeper, type SweeperDeps } from './worker.ts';
