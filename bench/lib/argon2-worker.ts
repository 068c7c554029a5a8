/**
 * A child process that measures raw password verification: the same
 * `verifyPassword` and ARGON2_PARAMS as the server, on a libuv threadpool of
 * the same size (inherited UV_THREADPOOL_SIZE), with `concurrency` verifies in
 * flight. Driven over IPC by bench/scenarios/login.ts.
 */
import { hashPassword, verifyPassword } from '../../src/identity/passwords.ts';

export interface VerifyRequest {
  password: string;
  concurrency: number;
  seconds: number;
}

export interface VerifyResult {
  perSecond: number;
  completed: number;
  seconds: number;
  /** CPU milliseconds this process spent per completed verify. */
  cpuMsPerOp: number;
}

if (!process.send) throw new Error('argon2-worker runs as a forked child with an IPC channel');

let phc: { password: string; hash: string } | undefined;

async function measure(req: VerifyRequest): Promise<VerifyResult> {
  if (phc?.password !== req.password)
    phc = { password: req.password, hash: await hashPassword(req.password) };
  const { hash } = phc;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + req.seconds * 1000;
  let completed = 0;
  let all = 0;
  let wrong = 0;
  await Promise.all(
    Array.from({ length: req.concurrency }, async () => {
      while (performance.now() < end) {
        const ok = await verifyPassword(hash, req.password);
        if (!ok) wrong++;
        all++;
        // Only verifies finished inside the window count.
        if (performance.now() <= end) completed++;
      }
    }),
  );
  if (wrong > 0) throw new Error(`${wrong} verifications of the right password failed`);
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerOp = (cpu.user + cpu.system) / 1000 / Math.max(1, all);
  return { perSecond: completed / req.seconds, completed, seconds: req.seconds, cpuMsPerOp };
}

process.on('message', (msg) => {
  measure(msg as VerifyRequest).then(
    (result) => process.send!(result),
    (err: unknown) => process.send!({ error: (err as Error).message }),
  );
});
// The parent closing the channel ends this process.
process.on('disconnect', () => process.exit(0));
