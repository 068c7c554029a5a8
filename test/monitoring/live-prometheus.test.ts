// A real Prometheus, started from a temporary configuration on a free port,
// scrapes a real MissionLink (`missionlink start`, embedded PostgreSQL) on its
// METRICS_PORT, as the ServiceMonitors scrape the port `metrics` in the
// cluster (deploy/base/common/configmap.yaml sets METRICS_PORT), after
// some traffic — register, login (and failed logins until throttled), charge,
// propose, pledge, accept, bet, decide — and evaluates our rule file. Every
// recording rule and every dashboard query must return data, except the short
// list below of what needs traffic this test does not generate.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  api,
  cleanUpAll,
  freePort,
  sleep,
  spawnServer,
  tempDataDir,
  waitFor,
  type ServerProcess,
} from '../support/process.ts';
import { DEPLOY, haveTool, which } from '../deploy/support.ts';
import {
  APP_METRICS,
  dashboardQueries,
  DISTRIBUTED_ONLY,
  metricNames,
  recordingRules,
  ruleGroups,
  substitute,
} from './support.ts';

const hasPrometheus = haveTool(
  'prometheus',
  'scraping a running MissionLink with a real Prometheus',
  'apt-get install prometheus',
);

/** Queries that need what this test does not produce: NATS JetStream (distributed mode). */
const NEEDS_TRAFFIC_NOT_GENERATED_HERE = new Set(DISTRIBUTED_ONLY);

/** The settings every MissionLink pod gets (the common ConfigMap of deploy/base). */
const PRODUCTION_CONFIG = (
  parse(readFileSync(path.join(DEPLOY, 'base/common/configmap.yaml'), 'utf8')) as {
    data: Record<string, string>;
  }
).data;

/** Two distinct free ports: the public PORT and METRICS_PORT. */
async function twoFreePorts(): Promise<[number, number]> {
  const port = await freePort();
  for (;;) {
    const other = await freePort();
    if (other !== port) return [port, other];
  }
}

describe.skipIf(!hasPrometheus)('a real Prometheus scraping a real MissionLink', () => {
  let server: ServerProcess;
  /** Where /metrics is served: METRICS_PORT, as in production. */
  let metricsUrl: string;
  let prometheus: ChildProcess | undefined;
  let promDir: string | undefined;
  let promUrl: string;
  let promLog = '';

  beforeAll(async () => {
    // Production serves /metrics apart (METRICS_PORT); so does this process,
    // on a free port of its own.
    const [appPort, metricsPort] = await twoFreePorts();
    server = await spawnServer({
      dataDir: await tempDataDir(),
      args: ['start'],
      port: appPort,
      env: { MIN_WINDOW_SECONDS: '1', LOG_LEVEL: 'warn', METRICS_PORT: String(metricsPort) },
    });
    await server.waitReady(60_000);
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    // Traffic before the first scrape creates the labelled series…
    await traffic(server.url, metricsUrl, 'a');

    promDir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-prom-'));
    // Our rule file with every group evaluated each second instead of every 30 s.
    const groups = ruleGroups().map((g) => ({ ...g, interval: '1s' }));
    await writeFile(path.join(promDir, 'rules.yaml'), stringify({ groups }));
    const target = new URL(metricsUrl).host;
    await writeFile(
      path.join(promDir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
        rule_files: [path.join(promDir, 'rules.yaml')],
        scrape_configs: [
          {
            job_name: 'missionlink',
            static_configs: [{ targets: [target], labels: { role: 'all' } }],
          },
        ],
      }),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      which('prometheus')!,
      [
        `--config.file=${path.join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    const up = await waitFor(
      async () => (await query('up{job="missionlink"} == 1').catch(() => [])).length > 0,
      30_000,
      250,
    );
    if (!up) throw new Error(`Prometheus never scraped MissionLink:\n${promLog}`);
    await sleep(3000);
    // …and traffic after it makes the counters and histograms move.
    await traffic(server.url, metricsUrl, 'b');
    await sleep(4000);
  }, 120_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await Promise.race([new Promise((r) => prometheus!.once('exit', r)), sleep(5000)]);
      if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
    }
    if (promDir) await rm(promDir, { recursive: true, force: true });
    await cleanUpAll();
  }, 30_000);

  async function query(
    expr: string,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  }
  const needsUntestedTraffic = (expr: string) =>
    metricNames(expr).some((n) => NEEDS_TRAFFIC_NOT_GENERATED_HERE.has(n));

  it('scrapes the metrics port, as production does; the public port answers 404 for /metrics', async () => {
    expect(PRODUCTION_CONFIG.METRICS_PORT, 'METRICS_PORT in the common ConfigMap').toMatch(
      /^[1-9]\d*$/,
    );
    expect(PRODUCTION_CONFIG.METRICS_PORT).not.toBe(PRODUCTION_CONFIG.PORT);
    const up = await query('up{job="missionlink"}');
    expect(up.map((s) => [s.metric.instance, s.value[1]])).toEqual([
      [new URL(metricsUrl).host, '1'],
    ]);
    expect(new URL(metricsUrl).port).not.toBe(String(server.port));
    for (const spelling of ['/metrics', '/metrics/', '/METRICS', '/%6detrics'])
      expect((await fetch(`${server.url}${spelling}`)).status, spelling).toBe(404);
    // The public port still answers the kubelet's probes.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('scrapes every application metric MissionLink exports (the bus ones only in distributed mode)', async () => {
    const names = new Set(
      (
        (await (await fetch(`${promUrl}/api/v1/label/__name__/values`)).json()) as {
          data: string[];
        }
      ).data,
    );
    const missing = Object.entries(APP_METRICS)
      .filter(([name]) => !DISTRIBUTED_ONLY.has(name))
      .map(([name, type]) => (type === 'histogram' ? `${name}_bucket` : name))
      .filter((n) => !names.has(n));
    expect(missing).toEqual([]);
    // Nothing exported by the app is missing from APP_METRICS (default process metrics aside).
    const defaults = /^missionlink_(process_|nodejs_)/;
    const undocumented = [...names]
      .filter((n) => n.startsWith('missionlink_') && !defaults.test(n) && !n.includes(':'))
      .filter((n) => !Object.keys(APP_METRICS).some((m) => n === m || n.startsWith(`${m}_`)));
    expect(undocumented).toEqual([]);
  });

  it('evaluates every recording rule to data', async () => {
    const empty: string[] = [];
    for (const r of recordingRules()) {
      if (needsUntestedTraffic(r.expr)) continue;
      const result = await query(r.record!);
      if (!result.length) empty.push(r.record!);
    }
    expect(empty).toEqual([]);
  });

  it('answers every dashboard query with data', async () => {
    const empty: string[] = [];
    const skipped: string[] = [];
    for (const q of dashboardQueries()) {
      if (needsUntestedTraffic(q.expr)) {
        skipped.push(`${q.dashboard} "${q.panel}"`);
        continue;
      }
      const result = await query(substitute(q.expr));
      // A histogram quantile over windows without observations is NaN: that is no data either.
      if (!result.some((s) => !Number.isNaN(Number(s.value[1]))))
        empty.push(`${q.dashboard} "${q.panel}": ${q.expr}`);
    }
    expect(empty).toEqual([]);
    // The short list of what needs traffic this test does not generate.
    expect(skipped).toEqual([
      'missionlink-workers.json "Consumer lag"',
      'missionlink-workers.json "Dead-lettered events"',
    ]);
  });

  it('keeps the alerts quiet on a healthy MissionLink', async () => {
    const firing = (await query('ALERTS{alertstate="firing"}')).map((s) => s.metric.alertname);
    expect(firing).toEqual([]);
  });
});

/**
 * One round of traffic: accounts, a failed-login burst until throttled,
 * charges, a channel, two missions (one succeeds with a bet on it, one fails)
 * with pledges, and an event-stream client; then waits, reading `metricsUrl`,
 * until settlement and mails are done.
 */
async function traffic(base: string, metricsUrl: string, round: string): Promise<void> {
  const password = 'a long password for tests';
  const ok = (r: { status: number; body: unknown }, status: number, what: string) => {
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Record<string, Record<string, string>> & Record<string, string>;
  };
  const user = async (name: string) => {
    const email = `${name}-${round}-${Date.now()}@example.kr`;
    ok(
      await api(base, 'POST', '/api/v1/auth/register', { email, password, displayName: name }),
      201,
      'register',
    );
    const login = ok(
      await api(base, 'POST', '/api/v1/auth/login', { email, password }),
      200,
      'login',
    );
    return { email, token: login.accessToken as string };
  };
  const streamer = await user('streamer');
  const viewer = await user('viewer');
  const backer = await user('backer');
  // Failed logins until the per-account limit answers 429.
  for (let i = 0; i < 12; i++)
    await api(base, 'POST', '/api/v1/auth/login', {
      email: backer.email,
      password: 'wrong password!!',
    });
  for (const who of [viewer, backer])
    ok(
      await api(base, 'POST', '/api/v1/wallet/charges', { amount: 50_000 }, who.token),
      201,
      'charge',
    );
  const handle = `live_${round}_${Date.now() % 1e8}`;
  ok(
    await api(base, 'POST', '/api/v1/channels', { handle, displayName: handle }, streamer.token),
    201,
    'channel',
  );

  const sse = new AbortController();
  const stream = fetch(`${base}/api/v1/channels/${handle}/events`, { signal: sse.signal }).catch(
    () => undefined,
  );
  try {
    for (const outcome of ['SUCCEEDED', 'FAILED']) {
      const proposed = ok(
        await api(
          base,
          'POST',
          `/api/v1/channels/${handle}/missions`,
          { title: `Mission ${outcome}`, amount: 5_000, durationSeconds: 600 },
          viewer.token,
        ),
        201,
        'propose',
      );
      const id = proposed.mission!.id!;
      ok(
        await api(base, 'POST', `/api/v1/missions/${id}/pledges`, { amount: 3_000 }, backer.token),
        201,
        'pledge',
      );
      ok(
        await api(base, 'POST', `/api/v1/missions/${id}/accept`, undefined, streamer.token),
        200,
        'accept',
      );
      ok(
        await api(
          base,
          'POST',
          `/api/v1/missions/${id}/prediction/bets`,
          { side: 'SUCCEEDED', points: 100 },
          backer.token,
        ),
        201,
        'bet',
      );
      ok(
        await api(base, 'POST', `/api/v1/missions/${id}/decision`, { outcome }, streamer.token),
        200,
        'decide',
      );
    }
    // Settlement and mails happen asynchronously; wait until nothing is pending.
    const settled = await waitFor(
      async () => {
        const text = await (await fetch(metricsUrl)).text();
        return (
          /^missionlink_settlement_jobs_pending 0$/m.test(text) &&
          /^missionlink_mails_pending 0$/m.test(text) &&
          /^missionlink_mails_total\{result="sent"\}/m.test(text)
        );
      },
      20_000,
      200,
    );
    if (!settled) throw new Error('settlement and mails did not finish');
  } finally {
    sse.abort();
    await stream;
  }
}
