/**
 * A stand-alone HTTP process serving only the bare route, built with the
 * project's own createHttpServer (same Fastify options and hooks as the real
 * server). The fallback ceiling of bench/scenarios/me.ts while the server does
 * not register the bare route itself. Env: PORT.
 */
import { createHttpServer } from '../../src/platform/http.ts';
import { createLogger } from '../../src/platform/log.ts';
import { Metrics } from '../../src/platform/metrics.ts';
import { registerBareRoute } from '../../src/platform/bare-route.ts';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT is required');

const app = await createHttpServer({
  logger: createLogger('warn'),
  metrics: new Metrics(),
  readiness: {},
  version: 'bench',
});
registerBareRoute(app);
await app.listen({ port, host: '127.0.0.1' });

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
