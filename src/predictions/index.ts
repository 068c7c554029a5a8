// Public surface of the predictions module (channel points only).
export { PredictionService, locksAtFor, poolsOf, poolsOfMany, POOL_SLOTS, type PredictionView, type Bet } from './service.ts';
export { parimutuel, type Side, type Stake } from './payout.ts';
export { predictionRoutes } from './routes.ts';
