#!/usr/bin/env node
// Runs MissionLink as separate role processes on one machine, against a
// PostgreSQL and a NATS JetStream given by URL — the distributed mode, locally.
//
//   DATABASE_URL_IDENTITY=postgres://… DATABASE_URL_FUNDING=postgres://… \
//   NATS_URL=nats://127.0.0.1:4222 node scripts/run-roles.mjs
//
// Starts two api processes (PORT, PORT+1) and one settlement, notifier,
// sweeper and webhooks (PORT+2…PORT+5, serving /healthz, /readyz and /metrics only). All
// share DATA_DIR (signing keys, webhook secret, mailbox). Ctrl-C stops them all.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const name of ['DATABASE_URL_IDENTITY', 'DATABASE_URL_FUNDING', 'NATS_URL']) {
  if (!process.env[name]) {
    console.error(`run-roles: ${name} is required`);
    process.exit(2);
  }
}
const base = Number(process.env.PORT ?? 8080);
const dataDir = path.resolve(process.env.DATA_DIR ?? path.join(root, '.missionlink-roles'));
mkdirSync(dataDir, { recursive: true });

const roles = [
  { name: 'api-1', roles: 'api', port: base },
  { name: 'api-2', roles: 'api', port: base + 1 },
  { name: 'settlement', roles: 'settlement', port: base + 2 },
  { name: 'notifier', roles: 'notifier', port: base + 3 },
  { name: 'sweeper', roles: 'sweeper', port: base + 4 },
  { name: 'webhooks', roles: 'webhooks', port: base + 5 },
];

const children = roles.map((r) => {
  const child = spawn(process.execPath, [path.join(root, 'bin/missionlink.js'), 'serve'], {
    env: { ...process.env, ROLES: r.roles, PORT: String(r.port), DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line) process.stdout.write(`[${r.name}] ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`[${r.name}] exited (${signal ?? code})\n`);
    if (!stopping) stop(1);
  });
  process.stdout.write(`[${r.name}] ROLES=${r.roles} on http://127.0.0.1:${r.port}\n`);
  return child;
});

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 11_000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
