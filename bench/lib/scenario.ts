/**
 * The contract every benchmark scenario follows. A scenario measures one
 * figure of the product (the metric) and, in the same run, the ceiling that
 * figure is held against; the runner turns the pair into a ratio and a verdict.
 */
import { withForeignCpu } from './cpu.ts';

/** Timing of a measurement, the same for every scenario of one run. */
export interface Timing {
  /** Load before the first measured round, not recorded (JIT, caches, pools). */
  warmupSeconds: number;
  /** Length of one measured round. */
  roundSeconds: number;
  /** Measured rounds of each side; the median is reported. */
  rounds: number;
}

export interface ScenarioContext {
  timing: Timing;
  /** Human-readable progress (stderr); stdout is kept for the JSON document. */
  log(message: string): void;
}

/** What a scenario hands back; the runner adds ratio and verdict. */
export interface Measurement {
  metric: string;
  value: number;
  unit: string;
  ceiling: { name: string; value: number };
  details: Record<string, unknown>;
  /** Anything that makes the figures untrustworthy (errors, non-2xx answers); any entry fails the scenario. */
  problems?: string[];
  /** How disturbed the measurement was; see noiseOf. */
  noise?: Noise;
}

export interface Noise {
  /** Cores kept busy by processes outside this run, per measured round (null off Linux). */
  foreignCores: (number | null)[];
  /** Slowest to fastest round, for the value and the ceiling (1 = steady). */
  spread: { value: number; ceiling: number };
  /** True when another workload or unsteady rounds make the ratio doubtful. */
  noisy: boolean;
}

/** Above these, a run is flagged noisy (it still counts). */
export const NOISY_FOREIGN_CORES = 0.25;
export const NOISY_SPREAD = 1.3;

export interface Scenario {
  name: string;
  /** One line: what is measured against what. */
  description: string;
  /** Lowest acceptable value / ceiling. */
  target: number;
  run(ctx: ScenarioContext): Promise<Measurement>;
}

export interface ScenarioResult extends Measurement {
  name: string;
  ratio: number;
  target: number;
  pass: boolean;
  seconds: number;
}

export interface ScenarioFailure {
  name: string;
  error: string;
  pass: false;
  seconds: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export interface Alternated<T> {
  a: T[];
  b: T[];
  /** Cores used by processes outside this run during each round of a and b. */
  foreign: { a: (number | null)[]; b: (number | null)[] };
}

/**
 * Measures two sides of a comparison in alternating rounds (A B, B A, A B…),
 * after one warm-up of each, so slow drift of a noisy machine falls on both
 * sides alike. Returns every round's figure of each side, in order, and how
 * busy the rest of the machine was meanwhile.
 * @example const { a, b } = await alternate(ctx, 'http', (s) => http(s), 'raw', (s) => raw(s));
 */
export async function alternate<T>(
  ctx: ScenarioContext,
  nameA: string,
  measureA: (seconds: number) => Promise<T>,
  nameB: string,
  measureB: (seconds: number) => Promise<T>,
): Promise<Alternated<T>> {
  const { warmupSeconds, roundSeconds, rounds } = ctx.timing;
  if (warmupSeconds > 0) {
    ctx.log(`warm-up ${nameA} ${warmupSeconds}s`);
    await measureA(warmupSeconds);
    ctx.log(`warm-up ${nameB} ${warmupSeconds}s`);
    await measureB(warmupSeconds);
  }
  const out: Alternated<T> = { a: [], b: [], foreign: { a: [], b: [] } };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    for (const side of order) {
      const { result, foreignCores } = await withForeignCpu(() =>
        side === 'a' ? measureA(roundSeconds) : measureB(roundSeconds),
      );
      out[side].push(result);
      out.foreign[side].push(foreignCores);
      const others = foreignCores === null ? '' : `; other processes ${foreignCores} core`;
      ctx.log(
        `round ${i + 1}/${rounds} ${side === 'a' ? nameA : nameB}: ${summary(result)}${others}`,
      );
    }
  }
  return out;
}

/**
 * Summarises how disturbed an alternated measurement was.
 * @example const noise = noiseOf(rounds, (r) => r.perSecond);
 */
export function noiseOf<T>(rounds: Alternated<T>, perSecond: (r: T) => number): Noise {
  const spreadOf = (xs: number[]) => {
    const min = Math.min(...xs);
    return min > 0 ? round(Math.max(...xs) / min, 2) : Number.POSITIVE_INFINITY;
  };
  const foreignCores = [...rounds.foreign.a, ...rounds.foreign.b];
  const spread = {
    value: spreadOf(rounds.a.map(perSecond)),
    ceiling: spreadOf(rounds.b.map(perSecond)),
  };
  const noisy =
    foreignCores.some((c) => c !== null && c > NOISY_FOREIGN_CORES) ||
    spread.value > NOISY_SPREAD ||
    spread.ceiling > NOISY_SPREAD;
  return { foreignCores, spread, noisy };
}

function summary(result: unknown): string {
  if (!result || typeof result !== 'object' || !('perSecond' in result))
    return JSON.stringify(result);
  const r = result as {
    perSecond: number;
    answeredPerSecond?: number;
    refusals?: { answered: number } | null;
    cpuMsPerOp?: number | null;
    cpuUsPerOp?: number | null;
    generatorCpu?: number;
  };
  const parts = [`${round(r.perSecond)}/s`];
  if (r.refusals && typeof r.answeredPerSecond === 'number')
    parts[0] = `${round(r.answeredPerSecond)}/s answered (${round(r.perSecond)}/s 2xx, ${r.refusals.answered} refused as expected)`;
  if (typeof r.cpuMsPerOp === 'number') parts.push(`${round(r.cpuMsPerOp, 2)} ms CPU/op`);
  if (typeof r.cpuUsPerOp === 'number') parts.push(`${round(r.cpuUsPerOp)} µs CPU/op`);
  if (typeof r.generatorCpu === 'number') parts.push(`generator ${r.generatorCpu} core`);
  return parts.join(', ');
}
