#!/usr/bin/env node
// Generates web/src/api.gen.ts, the web app's types of the API, from the
// OpenAPI document the server publishes at GET /api/v1/openapi.json.
//
//   npm run gen:api-types                     write web/src/api.gen.ts
//   node scripts/gen-api-types.mjs --check    exit 1 when it is stale
//
// The document comes from the server's own code, not from a running server:
// the api role is composed (createMissionLink) on database pools that refuse
// every query, with the workers off, and GET /api/v1/openapi.json is injected.
// Composing the routes touches no database, so neither does this script (a
// query would fail it loudly). The output is formatted with the repository's
// Prettier settings, so `npm run format` leaves it as it is; the same input
// gives the same file byte for byte (test/e2e/api-types.test.ts checks it).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where the generated types go. */
export const OUTPUT = path.join(root, 'web/src/api.gen.ts');

const HEADER = `// GENERATED FILE, DO NOT EDIT: the types of GET /api/v1/openapi.json, made by
// openapi-typescript from the server's route schemas. Regenerate after a route
// schema changes with \`npm run gen:api-types\` (scripts/gen-api-types.mjs);
// test/e2e/api-types.test.ts fails while this file is stale.
`;

/** A pg Pool that is never connected: any use of the database throws. */
function poolWithoutDatabase(pg, name) {
  const pool = new pg.Pool({ max: 1 });
  const refuse = () => {
    throw new Error(
      `gen-api-types: something queried the ${name} database while composing the server`,
    );
  };
  pool.connect = refuse;
  pool.query = refuse;
  return pool;
}

/**
 * The OpenAPI document exactly as GET /api/v1/openapi.json serves it. Sets this
 * process's audit key to a throwaway one (createMissionLink does): call it in a
 * process of its own, never beside a server that appends audit entries.
 */
export async function publishedDocument() {
  const { default: pg } = await import('pg');
  const { createMissionLink } = await import('../src/app.ts');
  const { KeyRing, newPrivateJwk } = await import('../src/identity/keys.ts');
  const { loadConfig } = await import('../src/platform/config.ts');
  const { createLogger } = await import('../src/platform/log.ts');
  const config = loadConfig({
    ROLES: 'api',
    LOG_LEVEL: 'silent',
    // Throwaway secrets: with them nothing is read from or written to DATA_DIR.
    AUDIT_HMAC_KEY: 'gen-api-types: an audit key that signs nothing',
    PAYMENT_WEBHOOK_SECRET: 'gen-api-types-unused-secret',
  });
  const ml = await createMissionLink({
    config,
    logger: createLogger('silent'),
    pools: {
      identity: poolWithoutDatabase(pg, 'identity'),
      funding: poolWithoutDatabase(pg, 'funding'),
    },
    keys: await KeyRing.fromJwks([await newPrivateJwk()]),
    startWorkers: false,
  });
  try {
    const res = await ml.http.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    if (res.statusCode !== 200)
      throw new Error(`GET /api/v1/openapi.json answered ${res.statusCode}: ${res.body}`);
    return res.json();
  } finally {
    // Not ml.stopWorkers(): none was started, and its final audit anchor would query.
    await ml.http.close();
    await ml.bus.close();
  }
}

/** The text of web/src/api.gen.ts for an OpenAPI document. */
export async function renderApiTypes(doc) {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const prettier = await import('prettier');
  const ast = await openapiTS(doc, { silent: true });
  const text = HEADER + '\n' + astToString(ast);
  const options = (await prettier.resolveConfig(OUTPUT)) ?? {};
  return prettier.format(text, { ...options, filepath: OUTPUT });
}

/** What web/src/api.gen.ts should contain now. */
export async function generateApiTypes() {
  return renderApiTypes(await publishedDocument());
}

const isMain =
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  // The server's sources are TypeScript (run through tsx, as bin/missionlink.js does).
  const { register } = await import('tsx/esm/api');
  register();
  const text = await generateApiTypes();
  const current = await readFile(OUTPUT, 'utf8').catch(() => undefined);
  const relative = path.relative(root, OUTPUT);
  if (process.argv.includes('--check')) {
    if (current !== text) {
      console.error(`${relative} is stale: run npm run gen:api-types`);
      process.exitCode = 1;
    }
  } else if (current === text) {
    console.log(`${relative} is up to date`);
  } else {
    await writeFile(OUTPUT, text);
    console.log(`wrote ${relative}`);
  }
}
