/**
 * CPU time of a process and its descendants (e.g. the server and its embedded
 * PostgreSQL), read from /proc. CPU per request is far less sensitive to a
 * noisy machine than requests per second, so scenarios report it beside
 * throughput. Linux only: elsewhere every reading is null.
 */
import { readdirSync, readFileSync } from 'node:fs';

// USER_HZ: 100 on every Linux architecture Node runs on.
const TICKS_PER_SECOND = 100;

interface Stat {
  ppid: number;
  seconds: number;
}

function stat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state ppid … utime(14) stime(15) cutime(16) cstime(17).
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { ppid: Number(f[1]), seconds: ticks / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by `pid` and every live descendant (children that
 * already exited count through their parent's cutime/cstime).
 * @example const before = cpuSeconds(server.pid); … const used = cpuSeconds(server.pid)! - before!;
 */
export function cpuSeconds(pid: number): number | null {
  if (process.platform !== 'linux') return null;
  const root = stat(pid);
  if (!root) return null;
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    const p = Number(name);
    if (!Number.isInteger(p) || p <= 0) continue;
    const s = stat(p);
    if (s) stats.set(p, s);
  }
  const children = new Map<number, number[]>();
  for (const [p, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), p]);
  let total = 0;
  const queue = [pid];
  while (queue.length) {
    const p = queue.pop()!;
    total += stats.get(p)?.seconds ?? 0;
    queue.push(...(children.get(p) ?? []));
  }
  return total;
}

/**
 * Measures `fn` and the CPU seconds the trees of `pids` spent meanwhile
 * (null off Linux).
 */
export async function withCpu<T>(
  pids: number | readonly number[],
  fn: () => Promise<T>,
): Promise<{ result: T; cpuSeconds: number | null }> {
  const total = () => {
    let sum = 0;
    for (const pid of typeof pids === 'number' ? [pids] : pids) {
      const s = cpuSeconds(pid);
      if (s === null) return null;
      sum += s;
    }
    return sum;
  };
  const before = total();
  const result = await fn();
  const after = total();
  return { result, cpuSeconds: before === null || after === null ? null : after - before };
}

/**
 * CPU seconds all processes of the machine have used (user, nice, system;
 * interrupt time is left out, as no process is charged for it).
 */
export function machineBusySeconds(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    // cpu user nice system idle iowait irq softirq steal …
    const [user, nice, system] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system!) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * Runs `fn` and tells how many cores, on average, processes *outside* this
 * benchmark run kept busy meanwhile: the noise a measurement suffered.
 */
export async function withForeignCpu<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; foreignCores: number | null }> {
  const m0 = machineBusySeconds();
  const o0 = cpuSeconds(process.pid);
  const t0 = performance.now();
  const result = await fn();
  const m1 = machineBusySeconds();
  const o1 = cpuSeconds(process.pid);
  const wall = (performance.now() - t0) / 1000;
  if (m0 === null || m1 === null || o0 === null || o1 === null || wall <= 0)
    return { result, foreignCores: null };
  return {
    result,
    foreignCores: Math.max(0, Math.round(((m1 - m0 - (o1 - o0)) / wall) * 100) / 100),
  };
}
