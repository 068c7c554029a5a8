// Public surface of the ops module: what operators see (admin only).
export { OpsService, type OpsSummary } from './service.ts';
export { opsRoutes } from './routes.ts';
