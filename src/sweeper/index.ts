export { Sweeper } from './worker.ts';
