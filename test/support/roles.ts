// MissionLink role processes (`missionlink serve` with ROLES=…) for
// distributed-mode tests: each on a fixed port so it can be killed and
// restarted at the same address. Built on process.ts, whose cleanUpAll()
// kills every one of them (and only them).
import { freePort, spawnServer, type Exit, type ServerProcess } from './process.ts';

export interface RoleSpec {
  name: string;
  roles: string;
  /** Extra environment for this process (undefined removes a variable). */
  env?: Record<string, string | undefined>;
}

export class RoleProcess {
  private srv: ServerProcess | undefined;
  /** Output of earlier incarnations (before a kill), for failure reports. */
  private earlier = '';
  starts = 0;
  kills = 0;

  constructor(
    readonly spec: RoleSpec,
    readonly port: number,
    private readonly dataDir: string,
    private readonly env: Record<string, string | undefined>,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.srv && !this.srv.exitInfo() ? this.srv.pid : undefined;
  }

  /**
   * Starts the process (`env`: variables for this incarnation only, e.g. a
   * crash point); unless `wait` is false, resolves once /readyz answers 200.
   */
  async start(opts: { wait?: boolean; ms?: number; env?: Record<string, string | undefined> } = {}): Promise<void> {
    if (this.srv && !this.srv.exitInfo()) throw new Error(`${this.name} is already running`);
    if (this.srv) this.earlier += this.srv.stdout() + this.srv.stderr();
    this.srv = await spawnServer({
      dataDir: this.dataDir,
      args: ['serve'],
      port: this.port,
      env: { LOG_LEVEL: 'warn', ...this.env, ROLES: this.spec.roles, ...this.spec.env, ...opts.env },
    });
    this.starts++;
    if (opts.wait !== false) await this.ready(opts.ms);
  }

  /** Resolves when the current incarnation exits. */
  async exited(): Promise<Exit> {
    if (!this.srv) throw new Error(`${this.name} was never started`);
    return this.srv.exited;
  }

  async ready(ms = 120_000): Promise<void> {
    if (!this.srv) throw new Error(`${this.name} was never started`);
    await this.srv.waitReady(ms);
  }

  /** kill -9: no clean-up, like a power cut. */
  async kill9(): Promise<void> {
    const srv = this.srv;
    if (!srv || srv.exitInfo()) return;
    srv.child.kill('SIGKILL');
    await srv.exited;
    this.kills++;
  }

  /** Everything the process (all its incarnations) wrote. */
  output(): string {
    return this.earlier + (this.srv ? this.srv.stdout() + this.srv.stderr() : '');
  }
}

/**
 * Creates (not yet started) role processes on free ports sharing one DATA_DIR.
 * @example const [api1, worker] = await roleProcesses([{ name: 'api-1', roles: 'api' }, …], dataDir, env);
 */
export async function roleProcesses(specs: RoleSpec[], dataDir: string, env: Record<string, string | undefined>): Promise<RoleProcess[]> {
  const out: RoleProcess[] = [];
  const taken = new Set<number>();
  for (const spec of specs) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    out.push(new RoleProcess(spec, port, dataDir, env));
  }
  return out;
}
