// The DATA_DIR lock under a real race: several processes try to take it at
// the same instant, on a fresh DATA_DIR and on one with a stale lock left by a
// dead process. Exactly one may win each time; everyone else is refused with
// the "in use" message.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUpAll, REPO_ROOT, tempDataDir } from '../support/process.ts';

const RACERS = 3;

afterAll(async () => {
  await cleanUpAll();
}, 30_000);

function runHolder(dataDir: string, tryAt: number, releaseAt: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/run-ts.js', 'test/support/lock-holder.ts', dataDir, String(tryAt), String(releaseAt)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`lock holder exited ${code}: ${err}`));
    });
  });
}

/** The pid of a process that has certainly exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('exit', () => resolve(child.pid!));
  });
}

describe('DATA_DIR lock', () => {
  it('lets exactly one of several simultaneous starters win, with or without a stale lock', async () => {
    const fresh = await tempDataDir();
    const stale = await tempDataDir();
    await mkdir(fresh, { recursive: true });
    await mkdir(stale, { recursive: true });
    await writeFile(path.join(stale, 'embedded.lock'), String(await deadPid()));

    // Generous lead time: every racer has booted before the instant on a busy machine.
    const tryAt = Date.now() + 3_500;
    const releaseAt = tryAt + 1_500;
    const results = await Promise.all(
      [fresh, stale].map((dir) => Promise.all(Array.from({ length: RACERS }, () => runHolder(dir, tryAt, releaseAt)))),
    );
    for (const [i, lines] of results.entries()) {
      const dir = [fresh, stale][i]!;
      expect(lines.filter((l) => l.startsWith('LOCKED')), `${dir}: ${lines.join(' | ')}`).toHaveLength(1);
      for (const l of lines.filter((x) => !x.startsWith('LOCKED'))) {
        expect(l).toContain(`REFUSED DATA_DIR ${dir} is in use`);
      }
    }
  }, 60_000);
});
