import { createHash, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { alive } from './pids.ts';

/** Secrets generated on first start and kept in DATA_DIR (mode 0600, never logged). */
export interface DataDirSecrets {
  postgresPassword: string;
  identityPassword: string;
  fundingPassword: string;
  paymentWebhookSecret: string;
}

export async function ensureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  // 0711: the embedded PostgreSQL runs as its own user and must traverse this
  // directory to reach its data folder, but may not list it.
  await chmod(dir, 0o711);
}

/**
 * Writes `content` to `file` only if the file does not exist yet, atomically:
 * processes racing on an empty DATA_DIR all end up reading the winner's file.
 */
export async function createOnce(file: string, content: string): Promise<string> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  try {
    await link(tmp, file);
    return content;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFile(file, 'utf8');
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

const secret = () => randomBytes(32).toString('base64url');

export async function loadSecrets(dir: string): Promise<DataDirSecrets> {
  const file = path.join(dir, 'secrets.json');
  const fresh: DataDirSecrets = {
    postgresPassword: secret(),
    identityPassword: secret(),
    fundingPassword: secret(),
    paymentWebhookSecret: secret(),
  };
  const text = await createOnce(file, JSON.stringify(fresh, null, 2));
  return JSON.parse(text) as DataDirSecrets;
}

export class DataDirInUseError extends Error {}

/** A read-only command found no embedded database where DATA_DIR points. */
export class NoDatabaseError extends Error {}

/**
 * Takes the exclusive lock that guards the embedded database of a DATA_DIR.
 *
 * On Linux the lock is an abstract-namespace Unix socket named after the
 * directory: the kernel binds it atomically (exactly one of any number of
 * simultaneous starters wins) and removes it when its process dies, however it
 * dies, so there is no stale lock to take over and no race in taking one over.
 * `embedded.lock` then only records the holder's pid for the error message.
 * Elsewhere, a lock file created atomically is used (see lockWithFile).
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  if (process.platform !== 'linux') return lockWithFile(dir);
  const file = path.join(dir, 'embedded.lock');
  const id = createHash('sha256').update(await realpath(dir)).digest('hex').slice(0, 40);
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path: `\0missionlink-data-dir-${id}`, exclusive: true }, () => resolve());
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const holder = (await readFile(file, 'utf8').catch(() => '')).trim();
    throw new DataDirInUseError(
      `DATA_DIR ${dir} is in use by another MissionLink process${/^\d+$/.test(holder) ? ` (pid ${holder})` : ''}; ` +
        'stop it first or choose another DATA_DIR',
    );
  }
  server.unref();
  await writeFile(file, String(process.pid), { mode: 0o600 });
  return async () => {
    const owner = await readFile(file, 'utf8').catch(() => '');
    if (owner.trim() === String(process.pid)) await unlink(file).catch(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/**
 * The portable fallback: a lock file created atomically (link of a written
 * file), taken over when its holder is dead (renamed aside, checked, removed).
 * Three starters racing over a stale lock can still both win here; on Linux
 * the socket lock above has no such window.
 */
async function lockWithFile(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, 'embedded.lock');
  const me = String(process.pid);
  for (let attempt = 0; attempt < 5; attempt++) {
    const tmp = `${file}.${me}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, me, { mode: 0o600 });
    try {
      await link(tmp, file);
      return async () => {
        const owner = await readFile(file, 'utf8').catch(() => '');
        if (owner.trim() === me) await unlink(file).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    const seen = (await readFile(file, 'utf8').catch(() => '')).trim();
    const holder = Number(seen);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new DataDirInUseError(
        `DATA_DIR ${dir} is in use by another MissionLink process (pid ${holder}); ` +
          'stop it first or choose another DATA_DIR',
      );
    }
    const aside = `${file}.${me}.stale`;
    try {
      await rename(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // someone else cleared it
      throw err;
    }
    const moved = (await readFile(aside, 'utf8').catch(() => '')).trim();
    // A racer's fresh lock was moved, not the stale one: give it back (best
    // effort; only a third racer in the same instant could slip in between).
    if (moved !== seen) await link(aside, file).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
  }
  throw new DataDirInUseError(`could not lock DATA_DIR ${dir}: other processes keep taking the lock`);
}
