import { existsSync, readFileSync } from 'node:fs';

/** Whether /proc describes processes here (Linux). */
export const PROC = existsSync('/proc/self/stat');

/**
 * Whether `pid` still runs. A zombie (exited, not yet reaped: a postmaster
 * orphaned where PID 1 reaps nothing) answers kill(0) but is gone.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!PROC) return true;
  try {
    // pid (comm) state … — comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false; // gone since kill(0)
  }
}
