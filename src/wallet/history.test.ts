// The cash history reads like a statement (extensions of the entries of
// GET /api/v1/wallet/transactions): each entry with a mission carries its
// title (points entries too), and a hold made final says what left for good
// (`capturedAmount`): all of a capture, the streamer's share of a failed
// mission's refund, what went back to the card on a cash refund.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let viewer: Caller;
let failed = '';
let won = '';
const HANDLE = 'history_ch';

interface Entry {
  kind: string;
  amount: number;
  missionId?: string;
  missionTitle?: string;
  capturedAmount?: number;
}

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [streamer, viewer] = await Promise.all([api.signUp('Streamer'), api.signUp('Viewer')]);
  await api.channel(streamer, HANDLE, { failureKeepBps: 1000 });
  await api.charge(viewer, 30_000);
  failed = (await api.propose(viewer, HANDLE, 10_000, 600, '매운 떡볶이 다 먹기')).body.mission.id;
  won = (await api.propose(viewer, HANDLE, 5_000, 600, '라면 끓이기')).body.mission.id;
  for (const [id, outcome] of [
    [failed, 'FAILED'],
    [won, 'SUCCEEDED'],
  ] as const) {
    expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
    expect(
      (await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome })).status,
    ).toBe(200);
  }
  await eventually(
    async () => (await api.mission(failed)).settledAt && (await api.mission(won)).settledAt,
    20_000,
  );
  expect((await api.call('POST', '/api/v1/wallet/refunds', viewer, { amount: 2_000 })).status).toBe(
    201,
  );
}, 60_000);
afterAll(async () => t?.close());

describe('GET /api/v1/wallet/transactions: titles and what left for good', () => {
  it('names each mission and says what a settled hold captured', async () => {
    const r = await api.call('GET', '/api/v1/wallet/transactions?limit=100', viewer);
    expect(r.status).toBe(200);
    const rows = (r.body.items as Entry[]).map((e) => [
      e.kind,
      e.amount,
      e.missionTitle ?? null,
      e.capturedAmount ?? null,
    ]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['charge', 30_000, null, null],
        ['pledge', -10_000, '매운 떡볶이 다 먹기', null],
        ['pledge', -5_000, '라면 끓이기', null],
        // The failure: 9,000 back, the streamer's 10 % kept.
        ['partial_capture', 9_000, '매운 떡볶이 다 먹기', 1_000],
        // The success: nothing back, all 5,000 captured.
        ['capture', 0, '라면 끓이기', 5_000],
        ['cash_refund', -2_000, null, null],
        ['cash_refund_done', 0, null, 2_000],
      ]),
    );
    expect(rows).toHaveLength(7);
    for (const e of r.body.items as Entry[]) if (e.missionTitle) expect(e.missionId).toBeTruthy();
  });

  it('titles point movements of a prediction too', async () => {
    const m = (await api.propose(viewer, HANDLE, 1_000, 600, '예측 미션')).body.mission.id;
    expect((await api.call('POST', `/api/v1/missions/${m}/accept`, streamer)).status).toBe(200);
    expect(
      (
        await api.call('POST', `/api/v1/missions/${m}/prediction/bets`, viewer, {
          side: 'FAILED',
          points: 50,
        })
      ).status,
    ).toBe(201);
    const items = (await api.call('GET', '/api/v1/wallet/points/transactions', viewer)).body
      .items as Entry[];
    expect(items.map((e) => [e.kind, e.amount, e.missionTitle ?? null])).toEqual([
      ['bet', -50, '예측 미션'],
      ['signup', 1_000, null],
    ]);
  });

  it('documents both fields in the OpenAPI document', async () => {
    const doc = (await api.call('GET', '/api/v1/openapi.json')).body;
    const item =
      doc.paths['/api/v1/wallet/transactions'].get.responses['200'].content['application/json']
        .schema.properties.items.items.properties;
    expect(Object.keys(item)).toEqual(expect.arrayContaining(['missionTitle', 'capturedAmount']));
  });
});
