// Test fixture: a process that prepares a database as a starting
// `missionlink` does — its migrations, then the routines of the given
// folders — and prints what it applied (JSON), or exits 1 with the error on
// stderr, as a start that refuses to go on.
// Usage: node bin/run-ts.js test/support/migrate-child.ts <url> <db> <ownerRole> <appRole> <routineFolder>...
import { migrate, type DatabaseName } from '../../src/platform/migrate.ts';

const [url, db, setRole, grantTo, ...routineFolders] = process.argv.slice(2);
try {
  const applied = await migrate(url!, db as DatabaseName, { setRole, grantTo, routineFolders });
  process.stdout.write(`${JSON.stringify(applied)}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
