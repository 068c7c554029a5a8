// The channel's public face on real PostgreSQL: the directory (search,
// ranking, pagination, validation), a channel's record and top backers, and
// ended missions by page — each channel's numbers its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { prefixPattern } from './directory.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let kim: Caller; // streamer of A
let park: Caller; // streamer of B (another channel)
let lee: Caller; // streamer of C (nothing happens there)
let v1: Caller;
let v2: Caller;
let v3: Caller;
const A = 'cook_a';
const B = 'cookxb';
const C = 'gamer_c';
const ids: Record<string, string> = {};

async function propose(who: Caller, handle: string, amount: number, title: string) {
  const r = await api.propose(who, handle, amount, 600, title);
  if (r.status !== 201) throw new Error(`propose: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.mission.id as string;
}
const get = (url: string) => api.call('GET', url);

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [kim, park, lee, v1, v2, v3] = (await Promise.all(['Kim', 'Park', 'Lee', 'Viewer One', 'Viewer Two', 'Viewer Three'].map((n) => api.signUp(n)))) as [Caller, Caller, Caller, Caller, Caller, Caller];
  for (const [who, handle, displayName] of [
    [kim, A, '요리왕 Kim'],
    [park, B, 'Cooking Park'],
    [lee, C, 'Gamer Lee'],
  ] as const) {
    const r = await api.call('POST', '/api/v1/channels', who, { handle, displayName, settings: { failureKeepBps: 1000 } });
    expect(r.status).toBe(201);
  }
  await Promise.all([api.charge(v1, 100_000), api.charge(v2, 100_000), api.charge(v3, 100_000)]);

  // A: one success (12,000 + 3,000), one failure (5,000; 10 % kept), one rejection, one active, one proposed.
  ids.won = await propose(v1, A, 12_000, 'success');
  await api.call('POST', `/api/v1/missions/${ids.won}/accept`, kim);
  expect((await api.call('POST', `/api/v1/missions/${ids.won}/pledges`, v2, { amount: 3_000 })).status).toBe(201);
  await api.call('POST', `/api/v1/missions/${ids.won}/decision`, kim, { outcome: 'SUCCEEDED' });
  ids.lost = await propose(v2, A, 5_000, 'failure');
  await api.call('POST', `/api/v1/missions/${ids.lost}/accept`, kim);
  await api.call('POST', `/api/v1/missions/${ids.lost}/decision`, kim, { outcome: 'FAILED' });
  ids.rejected = await propose(v1, A, 2_000, 'rejected');
  await api.call('POST', `/api/v1/missions/${ids.rejected}/reject`, kim);
  ids.active = await propose(v1, A, 1_000, 'active');
  await api.call('POST', `/api/v1/missions/${ids.active}/accept`, kim);
  ids.proposed = await propose(v2, A, 1_000, 'proposed');

  // B: one success by another viewer.
  ids.bWon = await propose(v3, B, 7_000, 'b success');
  await api.call('POST', `/api/v1/missions/${ids.bWon}/accept`, park);
  await api.call('POST', `/api/v1/missions/${ids.bWon}/decision`, park, { outcome: 'SUCCEEDED' });

  for (const id of [ids.won, ids.lost, ids.rejected, ids.bWon]) await eventually(async () => (await api.mission(id!)).settledAt, 20_000);
}, 60_000);
afterAll(async () => t?.close());

describe('GET /api/v1/channels/:handle/stats', () => {
  it('counts missions by state, the success rate, captured money and distinct backers', async () => {
    const r = await get(`/api/v1/channels/${A}/stats`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      missions: { PROPOSED: 1, ACTIVE: 1, SUCCEEDED: 1, FAILED: 1, REJECTED: 1, EXPIRED: 0, CANCELLED: 0, CONFIRMING: 0, IN_REVIEW: 0 },
      successRate: 0.5,
      // 12,000 + 3,000 captured on success, 500 kept of the failed 5,000; nothing of the rest.
      capturedTotal: 15_500,
      backers: 2,
    });
  });

  it('never mixes in another channel, and an empty channel reads zeros with a null rate', async () => {
    expect((await get(`/api/v1/channels/${B}/stats`)).body).toEqual({
      missions: { PROPOSED: 0, ACTIVE: 0, SUCCEEDED: 1, FAILED: 0, REJECTED: 0, EXPIRED: 0, CANCELLED: 0, CONFIRMING: 0, IN_REVIEW: 0 },
      successRate: 1,
      capturedTotal: 7_000,
      backers: 1,
    });
    expect((await get(`/api/v1/channels/${C}/stats`)).body).toEqual({
      missions: { PROPOSED: 0, ACTIVE: 0, SUCCEEDED: 0, FAILED: 0, REJECTED: 0, EXPIRED: 0, CANCELLED: 0, CONFIRMING: 0, IN_REVIEW: 0 },
      successRate: null,
      capturedTotal: 0,
      backers: 0,
    });
  });

  it('answers 404 for a channel that does not exist or cannot', async () => {
    for (const h of ['nobody_here', 'NO', 'x'.repeat(100), '%00']) {
      const r = await get(`/api/v1/channels/${h}/stats`);
      expect(r.status, h).toBe(404);
      expect(r.body.code).toBe('NOT_FOUND');
    }
  });
});

describe('GET /api/v1/channels/:handle/top-backers', () => {
  it('ranks backers by what they gave or still have held, with names only', async () => {
    const r = await get(`/api/v1/channels/${A}/top-backers`);
    expect(r.status).toBe(200);
    // Viewer One: 12,000 captured + 1,000 held (the rejected 2,000 came back);
    // Viewer Two: 3,000 captured + 500 kept of the failure + 1,000 held by the proposal.
    expect(r.body).toEqual({
      items: [
        { displayName: 'Viewer One', amount: 13_000, pledges: 3 },
        { displayName: 'Viewer Two', amount: 4_500, pledges: 3 },
      ],
    });
    expect(JSON.stringify(r.body)).not.toContain(v1.id);
    expect((await get(`/api/v1/channels/${A}/top-backers?limit=1`)).body.items).toHaveLength(1);
    expect((await get(`/api/v1/channels/${B}/top-backers`)).body).toEqual({ items: [{ displayName: 'Viewer Three', amount: 7_000, pledges: 1 }] });
    expect((await get(`/api/v1/channels/${C}/top-backers`)).body).toEqual({ items: [] });
    expect((await get(`/api/v1/channels/nobody_here/top-backers`)).status).toBe(404);
    for (const bad of ['0', '21', 'x', '-1']) expect((await get(`/api/v1/channels/${A}/top-backers?limit=${bad}`)).status, bad).toBe(400);
  });
});

describe('GET /api/v1/channels (directory)', () => {
  it('lists every channel, most active first (open missions, then the latest mission)', async () => {
    const r = await get('/api/v1/channels');
    expect(r.status).toBe(200);
    expect(r.body.items.map((c: { handle: string }) => c.handle)).toEqual([A, B, C]);
    expect(r.body.nextCursor).toBeNull();
    expect(r.body.items[0]).toEqual((await get(`/api/v1/channels/${A}`)).body.channel);
  });

  it('finds a prefix of the handle or the display name, case-insensitively, with _ and % taken literally', async () => {
    const handles = async (q: string) => {
      const r = await get(`/api/v1/channels?q=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(200);
      return r.body.items.map((c: { handle: string }) => c.handle);
    };
    expect(await handles('cook')).toEqual([A, B]);
    expect(await handles('COOK_')).toEqual([A]); // not cookxb: _ is not a wildcard
    expect(await handles('cooking')).toEqual([B]); // display name
    expect(await handles('요리')).toEqual([A]);
    expect(await handles('gamer l')).toEqual([C]);
    expect(await handles('%')).toEqual([]);
    expect(await handles('zzz')).toEqual([]);
    expect(await handles('')).toEqual([A, B, C]);
    expect(await handles('  cook  ')).toEqual([A, B]);
    expect(prefixPattern('a_b%c\\')).toBe('a\\_b\\%c\\\\%');
  });

  it('pages with a cursor, each channel once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await get(`/api/v1/channels?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...r.body.items.map((c: { handle: string }) => c.handle));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([A, B, C]);
    const two = await get('/api/v1/channels?limit=2&q=cook');
    expect(two.body.items).toHaveLength(2);
    expect(two.body.nextCursor).toBeNull();
  });

  it('refuses bad queries with 400 VALIDATION_FAILED', async () => {
    for (const qs of ['limit=0', 'limit=101', 'limit=x', `q=${'a'.repeat(51)}`, 'q=%00', 'q=a%E2%80%AEb', 'cursor=nope', `cursor=${Buffer.from('[1,2,"NO!"]').toString('base64url')}`, `cursor=${Buffer.from('[1,1e400,"abc"]').toString('base64url')}`]) {
      const r = await get(`/api/v1/channels?${qs}`);
      expect(r.status, qs).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('ended missions of a channel (GET …/missions?ended=true)', () => {
  it('lists only the missions that ended, newest first, by page, for that channel only', async () => {
    const first = await get(`/api/v1/channels/${A}/missions?ended=true&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((m: { id: string }) => m.id)).toEqual([ids.rejected, ids.lost]);
    const rest = await get(`/api/v1/channels/${A}/missions?ended=true&limit=2&cursor=${first.body.nextCursor}`);
    expect(rest.body.items.map((m: { id: string }) => m.id)).toEqual([ids.won]);
    expect(rest.body.nextCursor).toBeNull();
    expect(rest.body.items[0]).toMatchObject({ state: 'SUCCEEDED', pledgedAmount: 15_000, backerCount: 2 });
    expect((await get(`/api/v1/channels/${B}/missions?ended=true`)).body.items.map((m: { id: string }) => m.id)).toEqual([ids.bWon]);
    expect((await get(`/api/v1/channels/${C}/missions?ended=true`)).body).toEqual({ items: [], nextCursor: null });
    // Without it, every state, as before.
    expect((await get(`/api/v1/channels/${A}/missions`)).body.items).toHaveLength(5);
    expect((await get(`/api/v1/channels/${A}/missions?ended=true&state=ACTIVE`)).body.items).toEqual([]);
    expect((await get(`/api/v1/channels/${A}/missions?ended=maybe`)).status).toBe(400);
  });
});
