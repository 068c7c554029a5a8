/**
 * `missionlink start` with the bench's ceiling route: the same start function
 * (src/main.ts runUntilStopped: embedded PostgreSQL, every role, the same
 * stop signals and log lines), plus GET /bench/bare on the same HTTP server
 * through `extraRoutes`. Configured by the environment, like the product.
 * Started by startServer({}, { bareRoute: true }).
 */
import { runUntilStopped } from '../../src/main.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/log.ts';
import { registerBareRoute } from './bare-route.ts';

const config = loadConfig(process.env);
await runUntilStopped(config, createLogger(config.LOG_LEVEL), { extraRoutes: [registerBareRoute] });
