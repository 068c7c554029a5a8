// The Alertmanager configuration: amtool accepts it, routes each kind of
// alert to the intended receiver (`amtool config routes test`), and a real
// Alertmanager started from it inhibits the lag warnings while "settlement
// stopped" pages.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../support/process.ts';
import { haveTool, which } from '../deploy/support.ts';
import { ALERTMANAGER_FILE, alertingRules } from './support.ts';

const hasAmtool = haveTool(
  'amtool',
  'checking the Alertmanager configuration',
  'apt-get install prometheus-alertmanager',
);
const alertmanagerBinary = which('prometheus-alertmanager') ?? which('alertmanager');
const hasAlertmanager =
  hasAmtool &&
  (alertmanagerBinary !== undefined ||
    haveTool(
      'alertmanager',
      'testing inhibition on a real Alertmanager',
      'apt-get install prometheus-alertmanager',
    ));

/** The receiver amtool resolves for a label set. */
function receiverFor(labels: Record<string, string>): string {
  const args = [
    'config',
    'routes',
    'test',
    `--config.file=${ALERTMANAGER_FILE}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ];
  return execFileSync('amtool', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

describe.skipIf(!hasAmtool)('Alertmanager configuration', () => {
  it('passes amtool check-config', () => {
    const out = execFileSync('amtool', ['check-config', ALERTMANAGER_FILE], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
    expect(out).toMatch(/3 receivers/);
  });

  it('routes by severity: critical pages, warnings go to the chat, dev never pages', () => {
    expect(
      receiverFor({
        alertname: 'MissionLinkSettlementStopped',
        severity: 'critical',
        namespace: 'missionlink',
        component: 'settlement',
      }),
    ).toBe('ops-pager');
    expect(
      receiverFor({
        alertname: 'MissionLinkSettlementLagHigh',
        severity: 'warning',
        namespace: 'missionlink',
        component: 'settlement',
      }),
    ).toBe('ops-chat');
    expect(
      receiverFor({
        alertname: 'MissionLinkSettlementStopped',
        severity: 'critical',
        namespace: 'missionlink-dev',
      }),
    ).toBe('ops-chat');
    expect(receiverFor({ alertname: 'Watchdog', severity: 'none' })).toBe('ops-default');
    // --verify.receivers makes amtool itself fail on a mismatch.
    const wrong = spawnSync(
      'amtool',
      [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER_FILE}`,
        '--verify.receivers=ops-chat',
        'severity=critical',
        'namespace=missionlink',
      ],
      { encoding: 'utf8' },
    );
    expect(wrong.status).not.toBe(0);
  });

  it('routes every alert of the rules to a pager or the chat', () => {
    for (const a of alertingRules()) {
      const receiver = receiverFor({ alertname: a.alert!, namespace: 'missionlink', ...a.labels });
      expect(receiver, a.alert).toBe(a.labels!.severity === 'critical' ? 'ops-pager' : 'ops-chat');
    }
  });
});

describe.skipIf(!hasAlertmanager)('a real Alertmanager with this configuration', () => {
  let am: ChildProcess | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    if (am && am.exitCode === null) {
      am.kill('SIGTERM');
      await new Promise((r) => am!.once('exit', r));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('silences settlement warnings while "settlement stopped" fires, in the same namespace only', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-am-'));
    const port = await freePort();
    am = spawn(
      alertmanagerBinary ?? 'alertmanager',
      [
        `--config.file=${ALERTMANAGER_FILE}`,
        `--storage.path=${dir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    am.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const base = `http://127.0.0.1:${port}/api/v2`;
    const ready = await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => undefined))?.ok,
      15_000,
      100,
    );
    expect(ready, stderr).toBe(true);

    const alert = (labels: Record<string, string>) => ({
      labels: { namespace: 'missionlink', ...labels },
      startsAt: new Date().toISOString(),
    });
    const posted = await fetch(`${base}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert({
          alertname: 'MissionLinkSettlementStopped',
          severity: 'critical',
          component: 'settlement',
        }),
        alert({
          alertname: 'MissionLinkSettlementLagHigh',
          severity: 'warning',
          component: 'settlement',
          outcome: 'SUCCEEDED',
        }),
        alert({
          alertname: 'MissionLinkSettlementBacklog',
          severity: 'warning',
          component: 'settlement',
        }),
        alert({ alertname: 'MissionLinkMailBacklog', severity: 'warning', component: 'notifier' }),
        alert({
          alertname: 'MissionLinkSettlementLagHigh',
          severity: 'warning',
          component: 'settlement',
          outcome: 'SUCCEEDED',
          namespace: 'missionlink-dev',
        }),
      ]),
    });
    expect(posted.status).toBe(200);

    type AmAlert = {
      labels: Record<string, string>;
      status: { state: string; inhibitedBy: string[] };
    };
    const states = await waitFor(
      async () => {
        const list = (await (await fetch(`${base}/alerts`)).json()) as AmAlert[];
        return list.length === 5 && list.some((a) => a.status.state === 'suppressed')
          ? list
          : undefined;
      },
      10_000,
      200,
    );
    expect(states, 'alerts never got their inhibition state').toBeDefined();
    const state = (name: string, ns = 'missionlink') =>
      states!.find((a) => a.labels.alertname === name && a.labels.namespace === ns)!.status;
    expect(state('MissionLinkSettlementStopped').state).toBe('active');
    expect(state('MissionLinkSettlementLagHigh').state).toBe('suppressed');
    expect(state('MissionLinkSettlementLagHigh').inhibitedBy.length).toBe(1);
    expect(state('MissionLinkSettlementBacklog').state).toBe('suppressed');
    expect(state('MissionLinkMailBacklog').state).toBe('active');
    expect(state('MissionLinkSettlementLagHigh', 'missionlink-dev').state).toBe('active');
  }, 30_000);
});
