// Test fixture: tries to take the DATA_DIR lock at a given instant, prints
// LOCKED or REFUSED <message>, and holds a won lock until another instant.
// Usage: node bin/run-ts.js test/support/lock-holder.ts <dataDir> <tryAtMs> <releaseAtMs>
import { lockDataDir } from '../../src/platform/datadir.ts';

const [dir, tryAt, releaseAt] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
// Busy-wait, not a timer: lines the racers up as closely as the machine allows.
while (Date.now() < tryAt) {
  // spin
}
try {
  const release = await lockDataDir(dir);
  process.stdout.write(`LOCKED ${process.pid}\n`);
  await new Promise((r) => setTimeout(r, Math.max(0, releaseAt - Date.now())));
  await release();
} catch (err) {
  process.stdout.write(`REFUSED ${(err as Error).message}\n`);
}
