/**
 * A stand-alone HTTP process for a benchmark ceiling: the project's own
 * createHttpServer (same Fastify options and hooks as the real server), the
 * routes `register` adds, listening on 127.0.0.1:PORT, stopped cleanly on
 * SIGTERM/SIGINT (after `onClose`).
 */
import { createHttpServer, type App } from '../../src/platform/http.ts';
import { createLogger } from '../../src/platform/log.ts';
import { Metrics } from '../../src/platform/metrics.ts';

export async function serveBenchRoutes(
  register: (app: App) => void,
  onClose: () => Promise<unknown> = async () => undefined,
): Promise<void> {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('PORT is required');
  const app = await createHttpServer({
    logger: createLogger('warn'),
    metrics: new Metrics(),
    readiness: {},
    version: 'bench',
  });
  register(app);
  await app.listen({ port, host: '127.0.0.1' });
  const stop = () => {
    Promise.all([app.close(), onClose()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
