import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/platform/net.ts';

export { freePort };

/** Path of the nats-server binary, or null (then NATS suites skip, unless REQUIRE_NATS=1). */
export function natsServerBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null'], { encoding: 'utf8' });
  const bin = found.stdout.trim().split('\n')[0];
  return bin ? bin : null;
}

/** For describe.skipIf: true when the suite must skip (announced loudly). */
export function skipWithoutNats(suite: string): boolean {
  if (natsServerBinary()) return false;
  if (process.env.REQUIRE_NATS === '1') throw new Error(`${suite}: nats-server is required (REQUIRE_NATS=1) but was not found`);
  console.warn(`\n*** SKIPPING ${suite}: nats-server not found (install Debian's nats-server; CI sets REQUIRE_NATS=1) ***\n`);
  return true;
}

/**
 * A nats-server with JetStream of the test's own (free port, temporary file
 * store), which the test may stop, freeze and restart — never the machine's.
 */
export class TestNats {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number, readonly storeDir: string) {}

  static async start(): Promise<TestNats> {
    const n = new TestNats(await freePort(), await mkdtemp(path.join(os.tmpdir(), 'missionlink-nats-')));
    await n.up();
    return n;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the server on the same port and store. */
  async up(): Promise<void> {
    const bin = natsServerBinary();
    if (!bin) throw new Error('nats-server not found');
    this.child = spawn(bin, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`nats-server did not start: ${out}`)), 10_000);
      this.child!.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Server is ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      this.child!.on('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`nats-server exited ${code}: ${out}`));
      });
    });
  }

  /** Stops the server abruptly (kill -9). */
  async down(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.down();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}
