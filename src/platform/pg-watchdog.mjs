// Watchdog for the embedded PostgreSQL. The parent process holds our stdin
// open; when it goes away, however it died (even `kill -9`), stdin ends and
// we stop the postmaster it left behind, so no orphan server outlives it.
// Arguments: <parentPid> <pgDataDir> <lockFile>
//
// Protocol on stdin (one item a line): the pid of every postmaster the parent
// spawns, sent right after the spawn, and `stopped` before a clean end. The
// parent starts us *before* it spawns PostgreSQL: a parent killed while the
// server was still starting used to leave it running, because we only came to
// life once the server was ready.
import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';

const [parentPid, pgDataDir, lockFile] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether `pid` still runs; a zombie (exited, not yet reaped) does not. */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  if (!procAvailable()) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A pid may be reused once its process is gone: where /proc exists, only a
 * process whose command line names our data folder is ours to stop.
 */
function ours(pid) {
  if (!alive(pid)) return false;
  let cmdline;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (err) {
    return err.code === 'ENOENT' && !procAvailable();
  }
  return cmdline.split('\0').includes(pgDataDir);
}

function procAvailable() {
  try {
    readFileSync('/proc/self/cmdline');
    return true;
  } catch {
    return false;
  }
}

function postmasterPid() {
  try {
    const pid = Number(readFileSync(path.join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const reported = new Set();
let cleanStop = false;
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    if (line.trim() === 'stopped') cleanStop = true;
    else if (/^\d+$/.test(line.trim())) reported.add(Number(line.trim()));
  }
});

function candidates() {
  const pids = new Set(reported);
  const fromFile = postmasterPid();
  if (fromFile) pids.add(fromFile);
  return [...pids].filter(ours);
}

async function stopServer(pid) {
  // SIGINT = PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 80 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGQUIT');
  for (let i = 0; i < 20 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

let done = false;
async function cleanUp() {
  if (done) return;
  done = true;
  // The parent writes a postmaster's pid in the same tick as it spawns it, so
  // a pid we were never told about can only come from postmaster.pid. (No
  // waiting for that file to appear: by then it could be the server of a new
  // process that has taken over this DATA_DIR.)
  // After a clean stop postmaster.pid is not consulted either: a new process
  // may already be starting its own server on this DATA_DIR.
  const pids = cleanStop ? [...reported].filter(ours) : candidates();
  await Promise.all(pids.map((pid) => stopServer(pid).catch(() => undefined)));
  try {
    if (readFileSync(lockFile, 'utf8').trim() === parentPid) unlinkSync(lockFile);
  } catch {
    // no lock left to release
  }
  process.exit(0);
}

process.stdin.on('end', cleanUp);
process.stdin.on('close', cleanUp);
process.stdin.on('error', cleanUp);
process.stdin.resume();
// Belt and braces: also notice a vanished parent by polling.
setInterval(() => {
  if (!alive(Number(parentPid))) void cleanUp();
}, 1000);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => undefined);
