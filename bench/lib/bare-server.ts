/**
 * A stand-alone HTTP process serving only the bare route, built with the
 * project's own createHttpServer (same Fastify options and hooks as the real
 * server). The fallback ceiling of bench/scenarios/me.ts while the server does
 * not register the bare route itself. Env: PORT.
 */
import { registerBareRoute } from './bare-route.ts';
import { serveBenchRoutes } from './bench-http.ts';

await serveBenchRoutes(registerBareRoute);
