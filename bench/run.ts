/**
 * Benchmark runner: `npm run bench [-- [options] [scenario…]]`.
 *
 * Runs the scenarios of bench/scenarios/ (all, or those named), prints one
 * JSON document on stdout, progress on stderr, and writes the same document
 * to bench/results/latest.json. Exit code: 0 when every scenario ran (and,
 * with --strict, met its target), 1 otherwise, 2 for a usage error.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, wasInterrupted } from './lib/processes.ts';
import type { Scenario, ScenarioFailure, ScenarioResult, Timing } from './lib/scenario.ts';

const SCENARIO_DIR = path.join(REPO_ROOT, 'bench', 'scenarios');
const RESULT_FILE = path.join(REPO_ROOT, 'bench', 'results', 'latest.json');

const USAGE = `usage: npm run -s bench -- [--list] [--strict] [--warmup S] [--seconds S] [--rounds N] [scenario…]
  --list       print the scenarios and exit
  --strict     exit 1 when a scenario misses its target, not only when it fails to run
  --warmup S   warm-up seconds per side (default 2)
  --seconds S  seconds per measured round (default 3)
  --rounds N   measured rounds per side; the median is reported (default 4)`;

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const timing: Timing = { warmupSeconds: 2, roundSeconds: 3, rounds: 4 };
  const names: string[] = [];
  let strict = false;
  let list = false;
  const whole = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) usage(`${flag} needs a whole number ≥ ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--strict') strict = true;
    else if (arg === '--list') list = true;
    else if (arg === '--warmup') timing.warmupSeconds = whole(arg, argv[++i], 0);
    else if (arg === '--seconds') timing.roundSeconds = whole(arg, argv[++i], 1);
    else if (arg === '--rounds') timing.rounds = whole(arg, argv[++i], 1);
    else if (arg === '--help' || arg === '-h') usage('');
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else names.push(arg);
  }
  return { timing, names, strict, list };
}

async function loadScenarios(): Promise<Scenario[]> {
  const files = (await readdir(SCENARIO_DIR))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(SCENARIO_DIR, file)).href)) as {
      scenario?: Scenario;
    };
    if (!mod.scenario) throw new Error(`bench/scenarios/${file} does not export a scenario`);
    if (mod.scenario.name !== path.basename(file, '.ts'))
      throw new Error(`bench/scenarios/${file} exports scenario "${mod.scenario.name}"`);
    scenarios.push(mod.scenario);
  }
  return scenarios;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

async function machine(timing: Timing) {
  const cpus = os.cpus();
  const pkg = JSON.parse(
    await readFile(path.join(REPO_ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8'),
  ) as { version: string };
  const status = git(['status', '--porcelain']);
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    loadGenerator: `autocannon ${pkg.version}`,
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: status === null ? null : status.length > 0,
    timing,
  };
}

const log = (message: string) => process.stderr.write(`${message}\n`);

const { timing, names, strict, list } = parseArgs(process.argv.slice(2));
const all = await loadScenarios();
if (list) {
  for (const s of all) process.stdout.write(`${s.name}\t${s.description} (target ≥ ${s.target})\n`);
  process.exit(0);
}
const unknown = names.filter((n) => !all.some((s) => s.name === n));
if (unknown.length)
  usage(`unknown scenario ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
const selected = names.length ? all.filter((s) => names.includes(s.name)) : all;

const startedAt = new Date().toISOString();
const machineInfo = await machine(timing);
log(
  `benchmarks: ${selected.map((s) => s.name).join(', ')} on ${machineInfo.cpus} cpus, node ${machineInfo.node}`,
);

const results: (ScenarioResult | ScenarioFailure)[] = [];
for (const scenario of selected) {
  if (wasInterrupted()) break;
  log(`\n▶ ${scenario.name}: ${scenario.description}`);
  const t0 = Date.now();
  const ctx = { timing, log: (m: string) => log(`  [${scenario.name}] ${m}`) };
  try {
    const m = await scenario.run(ctx);
    const ratio = m.ceiling.value > 0 ? Math.round((m.value / m.ceiling.value) * 1000) / 1000 : 0;
    const problems = m.problems ?? [];
    const pass = ratio >= scenario.target && problems.length === 0;
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    results.push({
      name: scenario.name,
      metric: m.metric,
      value: m.value,
      unit: m.unit,
      ceiling: m.ceiling,
      ratio,
      target: scenario.target,
      pass,
      ...(problems.length ? { problems } : {}),
      ...(m.noise ? { noise: m.noise } : {}),
      details: m.details,
      seconds,
    });
    log(
      `${pass ? '✔' : '✘'} ${scenario.name}: ${m.value} ${m.unit} vs ${m.ceiling.value} (${m.ceiling.name}) = ${ratio} (target ≥ ${scenario.target}) in ${seconds}s`,
    );
    for (const p of problems) log(`  problem: ${p}`);
    if (m.noise?.noisy) {
      log(
        `  warning: noisy measurement (other processes used up to ${Math.max(...m.noise.foreignCores.map((c) => c ?? 0))} core; ` +
          `round spread ${m.noise.spread.value}/${m.noise.spread.ceiling}); compare with care or run again on a quiet machine`,
      );
    }
  } catch (err) {
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    results.push({
      name: scenario.name,
      error: (err as Error).stack ?? String(err),
      pass: false,
      seconds,
    });
    log(`✘ ${scenario.name} failed to run: ${(err as Error).message}`);
  }
}

const doc = {
  machine: machineInfo,
  startedAt,
  finishedAt: new Date().toISOString(),
  scenarios: results,
};
const text = `${JSON.stringify(doc, null, 2)}\n`;
await mkdir(path.dirname(RESULT_FILE), { recursive: true });
await writeFile(RESULT_FILE, text);
process.stdout.write(text);
log(`\nwritten to ${path.relative(REPO_ROOT, RESULT_FILE)}`);

const ranAll = results.every((r) => !('error' in r));
process.exitCode = ranAll && (!strict || results.every((r) => r.pass)) ? 0 : 1;
