// Bad input on the channel and mission routes: each refusal is a precise
// problem+json with its catalogue code, and moves no money (wallets, ledger
// rows, missions, pledges and idempotency keys unchanged; the books verify).
// Non-owners get 403 whatever the state; unknown ids 404 (also non-uuids);
// closed missions refuse pledges with 409 MISSION_NOT_OPEN; random bodies on
// every money route never cause a 5xx.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks as verifyLedger } from './index.ts'; // the ledger's checks and the pledge book's
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { mailboxOf, verifyEmail } from '../../test/support/mail.ts';
import {
  anyValue,
  BAD_AMOUNTS_JSON,
  bodyFor,
  expectNoMoneyMoved,
  expectProblem,
  INTEGRAL_NOTATIONS,
  raw,
} from '../../test/support/bad-input.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let other: Caller; // owns another channel
let viewer: Caller;
let backer: Caller;
let everyone: Caller[];
/** One mission in every state, on `bad_ch`, all settled. */
const m: Record<
  'PROPOSED' | 'ACTIVE' | 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'CANCELLED' | 'EXPIRED',
  string
> = {} as never;
const CLOSED = ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED', 'EXPIRED'] as const;
const ADMIN_EMAIL = 'bad-input-ops@example.kr';
const UNKNOWN_IDS = [
  '01890000-0000-7000-8000-000000000000',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  'not-a-uuid',
  '123',
  '01890000-0000-7000-8000-00000000000g',
  '01890000-0000-7000-8000-0000000000000',
  "'%20OR%201=1",
  '%00',
  'x'.repeat(100),
  'x'.repeat(101),
  'x'.repeat(500),
];

async function settled(id: string) {
  return eventually(async () => {
    const mission = await api.mission(id);
    return mission.settledAt ? mission : undefined;
  });
}

async function missionIn(state: keyof typeof m): Promise<string> {
  const p = await api.propose(
    viewer,
    'bad_ch',
    2_000,
    state === 'EXPIRED' ? 1 : 600,
    `Mission ${state}`,
  );
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  const id = p.body.mission.id as string;
  expect(
    (await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount: 3_000 })).status,
  ).toBe(201);
  const act = (path: string, body?: unknown) =>
    api.call('POST', `/api/v1/missions/${id}/${path}`, streamer, body);
  if (state === 'REJECTED') expect((await act('reject')).status).toBe(200);
  if (['ACTIVE', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'].includes(state))
    expect((await act('accept')).status).toBe(200);
  if (state === 'SUCCEEDED' || state === 'FAILED')
    expect((await act('decision', { outcome: state })).status).toBe(200);
  if (state === 'CANCELLED') expect((await act('cancel')).status).toBe(200);
  if (state === 'EXPIRED') {
    await eventually(async () => (await api.mission(id)).state === 'EXPIRED');
  }
  if (state !== 'PROPOSED' && state !== 'ACTIVE') await settled(id);
  return id;
}

beforeAll(async () => {
  // MIN_WINDOW_SECONDS=1: a mission can expire during the test.
  t = await createTestApp({ MIN_WINDOW_SECONDS: '1', ADMIN_EMAILS: ADMIN_EMAIL });
  api = client(t.ml.http);
  [streamer, other, viewer, backer] = await Promise.all([
    api.signUp('Streamer'),
    api.signUp('Other'),
    api.signUp('Viewer'),
    api.signUp('Backer'),
  ]);
  everyone = [streamer, other, viewer, backer];
  await api.channel(streamer, 'bad_ch', {
    missionMinAmount: 1_000,
    missionMaxAmount: 100_000,
    failureKeepBps: 2_500,
  });
  await api.channel(other, 'bad_other');
  await Promise.all([
    api.charge(viewer, 500_000),
    api.charge(backer, 500_000),
    api.charge(other, 100_000),
    api.charge(streamer, 100_000),
  ]);
  for (const state of Object.keys({
    PROPOSED: 0,
    ACTIVE: 0,
    ...Object.fromEntries(CLOSED.map((s) => [s, 0])),
  }) as (keyof typeof m)[]) {
    m[state] = await missionIn(state);
  }
}, 60_000);
afterAll(async () => t?.close());

const post = (who: Caller | null, url: string, body?: unknown, headers?: Record<string, string>) =>
  raw(t, 'POST', url, who, body, headers);
const propose = (
  who: Caller | null,
  body: unknown,
  headers?: Record<string, string>,
  handle = 'bad_ch',
) => post(who, `/api/v1/channels/${handle}/missions`, body, headers);
const pledge = (who: Caller | null, id: string, body: unknown, headers?: Record<string, string>) =>
  post(who, `/api/v1/missions/${id}/pledges`, body, headers);
const VALID = { title: 'Speedrun under an hour', amount: 5_000, durationSeconds: 600 };

describe('proposals', () => {
  it('refuses every bad amount (400 on amount), including numbers beyond 2^53 and the channel bounds', async () => {
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const amount of [...BAD_AMOUNTS_JSON, '999', '100001', '10000001']) {
        expectProblem(
          await propose(viewer, `{"title":"t","amount":${amount},"durationSeconds":600}`),
          400,
          'VALIDATION_FAILED',
          'amount',
        );
      }
    });
  });

  it('accepts an integral amount in exponent notation as its integer value', async () => {
    for (const [text, value] of INTEGRAL_NOTATIONS) {
      const res = await propose(
        viewer,
        `{"title":"notation ${text}","amount":${text},"durationSeconds":600}`,
      );
      expect(res.status, res.text).toBe(201);
      expect(res.body.mission.pledgedAmount).toBe(value);
      expect((await post(streamer, `/api/v1/missions/${res.body.mission.id}/reject`)).status).toBe(
        200,
      );
      await settled(res.body.mission.id);
    }
  });

  it('refuses bad titles, descriptions, durations, unknown and missing fields', async () => {
    const cases: [unknown, string][] = [
      [{ ...VALID, title: '' }, 'title'],
      [{ ...VALID, title: '   ' }, 'title'],
      [{ ...VALID, title: 't'.repeat(101) }, 'title'],
      [{ ...VALID, title: 42 }, 'title'],
      [{ ...VALID, title: null }, 'title'],
      [{ ...VALID, title: 'nul\u0000inside' }, 'title'],
      [{ ...VALID, title: 'bell\u0007' }, 'title'],
      [{ ...VALID, title: 'lone \ud800 surrogate' }, 'title'],
      [{ ...VALID, description: 'nul\u0000inside' }, 'description'],
      [{ ...VALID, description: 'lone \udfff surrogate' }, 'description'],
      [{ ...VALID, description: 'd'.repeat(2001) }, 'description'],
      [{ ...VALID, description: 5 }, 'description'],
      [{ ...VALID, durationSeconds: 0 }, 'durationSeconds'],
      [{ ...VALID, durationSeconds: 604_801 }, 'durationSeconds'],
      [{ ...VALID, durationSeconds: 60.5 }, 'durationSeconds'],
      [{ ...VALID, durationSeconds: '600' }, 'durationSeconds'],
      [{ ...VALID, goalAmount: 10_000 }, 'goalAmount'],
      [{ ...VALID, state: 'ACTIVE' }, 'state'],
      [{ title: 't', durationSeconds: 600 }, 'amount'],
      [{ title: 't', amount: 5_000 }, 'durationSeconds'],
      [{ amount: 5_000, durationSeconds: 600 }, 'title'],
    ];
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const [body, path] of cases)
        expectProblem(await propose(viewer, body), 400, 'VALIDATION_FAILED', path);
      for (const body of ['null', '[]', '"x"', '5000', ''])
        expectProblem(await propose(viewer, body), 400, 'VALIDATION_FAILED');
      expectProblem(await propose(viewer, '{"title":'), 400, 'MALFORMED_JSON');
    });
  });

  it('answers 401 without a token, 404 for an unknown channel, 403 to the owner, 402 without the cash', async () => {
    const poor = await api.signUp('Poor');
    await expectNoMoneyMoved(t, [...everyone, poor], async () => {
      expectProblem(await propose(null, VALID), 401, 'UNAUTHENTICATED');
      expectProblem(await propose(viewer, VALID, {}, 'no_such_channel'), 404, 'NOT_FOUND');
      for (const handle of [
        'UPPER',
        '%00abc',
        'abc%00',
        'x'.repeat(65),
        'x'.repeat(100),
        '%F0%9F%98%80',
        'a%20b',
      ]) {
        expectProblem(await propose(viewer, VALID, {}, handle), 404, 'NOT_FOUND');
        expectProblem(await raw(t, 'GET', `/api/v1/channels/${handle}`, null), 404, 'NOT_FOUND');
        expectProblem(
          await raw(t, 'GET', `/api/v1/channels/${handle}/missions`, null),
          404,
          'NOT_FOUND',
        );
        expectProblem(
          await raw(t, 'PATCH', `/api/v1/channels/${handle}`, streamer, { displayName: 'x' }),
          404,
          'NOT_FOUND',
        );
      }
      expectProblem(await propose(streamer, VALID), 403, 'FORBIDDEN');
      expectProblem(await propose(poor, VALID), 402, 'INSUFFICIENT_FUNDS');
      expectProblem(
        await propose(poor, VALID, { 'idempotency-key': 'poor-1' }),
        402,
        'INSUFFICIENT_FUNDS',
      );
      // An invalid body is a 400 even for the owner.
      expectProblem(
        await propose(streamer, { ...VALID, amount: -1 }),
        400,
        'VALIDATION_FAILED',
        'amount',
      );
    });
  });

  it('replays a keyed proposal, refuses the key with another body (422) or an invalid key (400)', async () => {
    const h = { 'idempotency-key': 'proposal-1' };
    const first = await propose(viewer, VALID, h);
    expect(first.status).toBe(201);
    const again = await propose(viewer, VALID, h);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    await expectNoMoneyMoved(t, everyone, async () => {
      expectProblem(
        await propose(viewer, { ...VALID, amount: 5_001 }, h),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expectProblem(
        await propose(viewer, { ...VALID, title: 'Another title' }, h),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expectProblem(await propose(viewer, VALID, h, 'bad_other'), 422, 'IDEMPOTENCY_KEY_REUSED');
      expectProblem(
        await propose(viewer, VALID, { 'idempotency-key': '' }),
        400,
        'VALIDATION_FAILED',
        'Idempotency-Key',
      );
      expectProblem(
        await propose(viewer, VALID, { 'idempotency-key': 'k'.repeat(256) }),
        400,
        'VALIDATION_FAILED',
        'Idempotency-Key',
      );
      expectProblem(
        await propose(viewer, VALID, { 'idempotency-key': 'tab\there' }),
        400,
        'VALIDATION_FAILED',
        'Idempotency-Key',
      );
    });
    expect((await post(streamer, `/api/v1/missions/${first.body.mission.id}/reject`)).status).toBe(
      200,
    );
    await settled(first.body.mission.id);
  });
});

describe('pledges', () => {
  it('refuses every bad amount (400 on amount) whatever the mission', async () => {
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const id of [m.PROPOSED, m.ACTIVE, m.SUCCEEDED]) {
        for (const amount of [...BAD_AMOUNTS_JSON, '999', '100001']) {
          expectProblem(
            await pledge(backer, id, `{"amount":${amount}}`),
            400,
            'VALIDATION_FAILED',
            'amount',
          );
        }
        expectProblem(
          await pledge(backer, id, { amount: 5_000, note: 'go!' }),
          400,
          'VALIDATION_FAILED',
          'note',
        );
        expectProblem(await pledge(backer, id, {}), 400, 'VALIDATION_FAILED', 'amount');
        expectProblem(await pledge(backer, id, undefined), 400, 'VALIDATION_FAILED');
      }
    });
  });

  it('answers 404 for unknown mission ids, uuid or not', async () => {
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const id of UNKNOWN_IDS) {
        expectProblem(await pledge(backer, id, { amount: 5_000 }), 404, 'NOT_FOUND');
        expectProblem(await raw(t, 'GET', `/api/v1/missions/${id}`, null), 404, 'NOT_FOUND');
        expectProblem(
          await raw(t, 'GET', `/api/v1/missions/${id}/pledges`, null),
          404,
          'NOT_FOUND',
        );
      }
    });
  });

  it('refuses pledges to closed missions with 409 MISSION_NOT_OPEN', async () => {
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const state of CLOSED) {
        expectProblem(await pledge(backer, m[state], { amount: 5_000 }), 409, 'MISSION_NOT_OPEN');
        expectProblem(
          await pledge(
            other,
            m[state],
            { amount: 5_000 },
            { 'idempotency-key': `closed-${state}` },
          ),
          409,
          'MISSION_NOT_OPEN',
        );
      }
    });
  });

  it('refuses the channel owner (403) in every state, and callers without a token (401)', async () => {
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const id of Object.values(m)) {
        expectProblem(await pledge(streamer, id, { amount: 5_000 }), 403, 'FORBIDDEN');
        expectProblem(await pledge(null, id, { amount: 5_000 }), 401, 'UNAUTHENTICATED');
      }
    });
  });

  it('refuses a pledge beyond the available cash with 402', async () => {
    const poor = await api.signUp('Poorer');
    await api.charge(poor, 1_000);
    await expectNoMoneyMoved(t, [...everyone, poor], async () => {
      expectProblem(await pledge(poor, m.ACTIVE, { amount: 1_001 }), 402, 'INSUFFICIENT_FUNDS');
      expectProblem(
        await pledge(poor, m.PROPOSED, { amount: 50_000 }, { 'idempotency-key': 'too-much' }),
        402,
        'INSUFFICIENT_FUNDS',
      );
    });
  });

  it('replays a keyed pledge, refuses the key with another body or mission (422) and invalid keys (400)', async () => {
    const h = { 'idempotency-key': 'pledge-key' };
    const first = await pledge(backer, m.ACTIVE, { amount: 1_500 }, h);
    expect(first.status).toBe(201);
    const again = await pledge(backer, m.ACTIVE, { amount: 1_500 }, h);
    expect(again.text).toBe(first.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    await expectNoMoneyMoved(t, everyone, async () => {
      expectProblem(
        await pledge(backer, m.ACTIVE, { amount: 1_501 }, h),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expectProblem(
        await pledge(backer, m.PROPOSED, { amount: 1_500 }, h),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      for (const key of ['', 'k'.repeat(256), 'tab\there', 'del\u007f']) {
        expectProblem(
          await pledge(backer, m.ACTIVE, { amount: 1_500 }, { 'idempotency-key': key }),
          400,
          'VALIDATION_FAILED',
          'Idempotency-Key',
        );
      }
    });
  });
});

describe('owner actions', () => {
  const ACTIONS = [
    ['accept', undefined],
    ['reject', undefined],
    ['cancel', undefined],
    ['decision', { outcome: 'SUCCEEDED' }],
    ['decision', { outcome: 'FAILED' }],
  ] as const;

  it('are 403 for anyone but the channel owner, whatever the state', async () => {
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const [state, id] of Object.entries(m)) {
        for (const [action, body] of ACTIONS) {
          for (const who of [viewer, backer, other]) {
            const res = await post(who, `/api/v1/missions/${id}/${action}`, body);
            expectProblem(res, 403, 'FORBIDDEN');
            expect(res.body.detail, `${action} on ${state}`).not.toMatch(new RegExp(state));
          }
          expectProblem(
            await post(null, `/api/v1/missions/${id}/${action}`, body),
            401,
            'UNAUTHENTICATED',
          );
        }
      }
    });
    expect((await api.mission(m.PROPOSED)).state).toBe('PROPOSED');
    expect((await api.mission(m.ACTIVE)).state).toBe('ACTIVE');
  });

  it('are 404 for unknown ids, uuid or not, for owners and others alike', async () => {
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const id of UNKNOWN_IDS) {
        for (const [action, body] of ACTIONS) {
          expectProblem(
            await post(streamer, `/api/v1/missions/${id}/${action}`, body),
            404,
            'NOT_FOUND',
          );
          expectProblem(
            await post(viewer, `/api/v1/missions/${id}/${action}`, body),
            404,
            'NOT_FOUND',
          );
        }
      }
    });
  });

  it('refuse invalid bodies with 400 before looking at the state or the caller', async () => {
    await expectNoMoneyMoved(t, everyone, async () => {
      for (const id of Object.values(m)) {
        for (const who of [streamer, viewer]) {
          for (const body of [
            { outcome: 'MAYBE' },
            { outcome: 'succeeded' },
            {},
            { outcome: 'SUCCEEDED', reason: 'x' },
            { outcome: null },
          ]) {
            expectProblem(
              await post(who, `/api/v1/missions/${id}/decision`, body),
              400,
              'VALIDATION_FAILED',
            );
          }
          expectProblem(
            await post(who, `/api/v1/missions/${id}/decision`, undefined),
            400,
            'VALIDATION_FAILED',
          );
          for (const action of ['accept', 'reject', 'cancel']) {
            expectProblem(
              await post(who, `/api/v1/missions/${id}/${action}`, { now: true }),
              400,
              'VALIDATION_FAILED',
            );
            expectProblem(
              await post(who, `/api/v1/missions/${id}/${action}`, '[]'),
              400,
              'VALIDATION_FAILED',
            );
          }
        }
      }
    });
  });

  it('accept an empty body with or without a content type, and {}', async () => {
    for (const [headers, payload] of [
      [{}, undefined],
      [{ 'content-type': 'application/json' }, ''],
      [{ 'content-type': 'application/json' }, '{}'],
      [{ 'content-type': 'text/plain' }, ''],
    ] as const) {
      const p = await api.propose(viewer, 'bad_ch', 1_000, 600, 'Empty bodies');
      const res = await t.ml.http.inject({
        method: 'POST',
        url: `/api/v1/missions/${p.body.mission.id}/reject`,
        headers: { authorization: `Bearer ${streamer.token}`, ...headers },
        payload,
      });
      expect(res.statusCode, res.payload).toBe(200);
      await settled(p.body.mission.id);
    }
  });

  it('answer the state rules with 409 and their catalogue codes, moving nothing', async () => {
    const act = (id: string, action: string, body?: unknown) =>
      post(streamer, `/api/v1/missions/${id}/${action}`, body);
    await expectNoMoneyMoved(t, everyone, async () => {
      expectProblem(await act(m.ACTIVE, 'accept'), 409, 'MISSION_NOT_PROPOSED');
      expectProblem(await act(m.ACTIVE, 'reject'), 409, 'MISSION_NOT_PROPOSED');
      expectProblem(await act(m.PROPOSED, 'cancel'), 409, 'MISSION_NOT_ACTIVE');
      expectProblem(
        await act(m.PROPOSED, 'decision', { outcome: 'SUCCEEDED' }),
        409,
        'MISSION_NOT_ACTIVE',
      );
      for (const state of CLOSED) {
        expectProblem(await act(m[state], 'accept'), 409, 'MISSION_ALREADY_ENDED');
        expectProblem(await act(m[state], 'reject'), 409, 'MISSION_ALREADY_ENDED');
        expectProblem(await act(m[state], 'cancel'), 409, 'MISSION_ALREADY_ENDED');
        expectProblem(
          await act(m[state], 'decision', { outcome: 'SUCCEEDED' }),
          409,
          'MISSION_ALREADY_DECIDED',
        );
        expectProblem(
          await act(m[state], 'decision', { outcome: 'FAILED' }),
          409,
          'MISSION_ALREADY_DECIDED',
        );
      }
    });
    for (const state of CLOSED) expect((await api.mission(m[state])).state).toBe(state);
  });
});

describe('deadlines, before any sweeper has run', () => {
  it('refuse pledges (409 MISSION_NOT_OPEN), acceptance, decisions and cancellation once the time is up', async () => {
    // Its own app without workers: nothing expires the missions behind our back.
    const t2 = await createTestApp({ MIN_WINDOW_SECONDS: '1' }, { startWorkers: false });
    try {
      const api2 = client(t2.ml.http);
      const [quick, slow, fan, late] = await Promise.all([
        api2.signUp('Quick'),
        api2.signUp('Slow'),
        api2.signUp('Fan'),
        api2.signUp('Late'),
      ]);
      await api2.channel(quick, 'quick_ch', { acceptWindowSeconds: 1 });
      await api2.channel(slow, 'slow_ch', { acceptWindowSeconds: 3_600 });
      await api2.charge(fan, 50_000);
      await api2.charge(late, 50_000);
      const proposal = (await api2.propose(fan, 'quick_ch', 5_000, 600, 'Too late to accept')).body
        .mission.id as string;
      const active = (await api2.propose(fan, 'slow_ch', 5_000, 1, 'Over in a second')).body.mission
        .id as string;
      expect((await raw(t2, 'POST', `/api/v1/missions/${active}/accept`, slow)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1_200));
      await expectNoMoneyMoved(t2, [fan, late], async () => {
        for (const id of [proposal, active])
          expectProblem(
            await raw(t2, 'POST', `/api/v1/missions/${id}/pledges`, late, { amount: 5_000 }),
            409,
            'MISSION_NOT_OPEN',
          );
        for (const action of ['accept', 'reject'])
          expectProblem(
            await raw(t2, 'POST', `/api/v1/missions/${proposal}/${action}`, quick),
            409,
            'ACCEPT_WINDOW_CLOSED',
          );
        expectProblem(
          await raw(t2, 'POST', `/api/v1/missions/${active}/decision`, slow, {
            outcome: 'SUCCEEDED',
          }),
          409,
          'DEADLINE_PASSED',
        );
        expectProblem(
          await raw(t2, 'POST', `/api/v1/missions/${active}/cancel`, slow),
          409,
          'DEADLINE_PASSED',
        );
        // Strangers are still 403, whatever the clock says.
        expectProblem(
          await raw(t2, 'POST', `/api/v1/missions/${active}/decision`, quick, {
            outcome: 'FAILED',
          }),
          403,
          'FORBIDDEN',
        );
      });
      expect((await api2.mission(proposal)).state).toBe('PROPOSED');
      expect((await api2.mission(active)).state).toBe('ACTIVE');
      // The sweeper then expires both, and settlement refunds everything.
      expect(await t2.ml.sweeper!.runOnce()).toBe(2);
      await t2.ml.relay!.stop();
      while ((await t2.ml.relay!.runOnce()) > 0 || (await t2.ml.settlement!.runOnce()));
      for (const id of [proposal, active])
        expect(await api2.mission(id)).toMatchObject({
          state: 'EXPIRED',
          settledAt: expect.any(String),
        });
      expect(await api2.wallet(fan)).toMatchObject({ available: 50_000, held: 0 });
      expect((await verifyLedger(t2.db.pools.funding)).ok).toBe(true);
    } finally {
      await t2.close();
    }
  });

  it('refuse progress, choices and disputes once the deadline or the dispute window has passed (contract 1.1)', async () => {
    const t3 = await createTestApp({ MIN_WINDOW_SECONDS: '1' }, { startWorkers: false });
    try {
      const api3 = client(t3.ml.http);
      const [owner, fan] = await Promise.all([api3.signUp('Owner'), api3.signUp('Fan')]);
      await api3.channel(owner, 'late_ch', { disputeWindowSeconds: 1 });
      await api3.charge(fan, 50_000);
      const post3 = (who: Caller, url: string, body?: unknown) => raw(t3, 'POST', url, who, body);
      const create = async (body: Record<string, unknown>) => {
        const p = await post3(fan, '/api/v1/channels/late_ch/missions', { title: 'Late', amount: 1_000, ...body });
        expect(p.status, p.text).toBe(201);
        const id = p.body.mission.id as string;
        expect((await post3(owner, `/api/v1/missions/${id}/accept`)).status).toBe(200);
        return id;
      };
      // A per-unit mission over in a second; another decided, its one-second window over.
      const unit = await create({ durationSeconds: 1, unit: { label: 'laps', maxUnits: 3 } });
      const decided = await create({ durationSeconds: 600 });
      expect((await post3(owner, `/api/v1/missions/${decided}/decision`, { outcome: 'SUCCEEDED' })).body.mission.state).toBe('CONFIRMING');
      const pledgeOf = async (id: string) => (await raw(t3, 'GET', `/api/v1/missions/${id}/pledges`, null)).body.items[0].id as string;
      const [unitPledge, decidedPledge] = [await pledgeOf(unit), await pledgeOf(decided)];
      await new Promise((r) => setTimeout(r, 1_200));
      await expectNoMoneyMoved(t3, [owner, fan], async () => {
        expectProblem(await post3(owner, `/api/v1/missions/${unit}/progress`, { units: 1 }), 409, 'DEADLINE_PASSED');
        expectProblem(await raw(t3, 'PATCH', `/api/v1/pledges/${unitPledge}`, fan, { onFailure: 'DONATE' }), 409, 'MISSION_NOT_OPEN');
        expectProblem(await raw(t3, 'PATCH', `/api/v1/pledges/${decidedPledge}`, fan, { onFailure: 'DONATE' }), 409, 'MISSION_NOT_OPEN');
        expectProblem(await post3(fan, `/api/v1/missions/${decided}/disputes`, { reason: 'too late?' }), 409, 'MISSION_NOT_CONFIRMING');
        // Still a stranger's 403 and the owner's NOT_A_BACKER, whatever the clock says.
        expectProblem(await post3(owner, `/api/v1/missions/${decided}/disputes`, { reason: 'mine' }), 403, 'NOT_A_BACKER');
      });
      // Nothing was recorded: the rows still say ACTIVE (0 units, REFUND) and CONFIRMING (no dispute).
      expect(await api3.mission(unit)).toMatchObject({ state: 'ACTIVE', unit: { units: 0 } });
      expect(await api3.mission(decided)).toMatchObject({ state: 'CONFIRMING', disputedAmount: 0 });
      // The sweeper then ends both: the deadline expires one, the window makes the other SUCCEEDED.
      expect(await t3.ml.sweeper!.runOnce()).toBe(2);
      while ((await t3.ml.relay!.runOnce()) > 0 || (await t3.ml.settlement!.runOnce()));
      expect(await api3.mission(unit)).toMatchObject({ state: 'EXPIRED', settledAt: expect.any(String) });
      expect(await api3.mission(decided)).toMatchObject({ state: 'SUCCEEDED', settledAt: expect.any(String) });
      expect(await api3.wallet(fan)).toMatchObject({ available: 49_000, held: 0 });
      expect((await verifyLedger(t3.db.pools.funding)).problems).toEqual([]);
    } finally {
      await t3.close();
    }
  });
});

describe('channels', () => {
  it('refuse bad handles and settings with 400 and create nothing', async () => {
    const newbie = await api.signUp('Newbie');
    const create = (body: unknown) => post(newbie, '/api/v1/channels', body);
    const handles = [
      'ab',
      'x'.repeat(25),
      'Upper',
      'with-dash',
      'with space',
      'ünï_code',
      '',
      'dot.ted',
      'new\nline',
      123,
      null,
    ];
    for (const handle of handles)
      expectProblem(await create({ handle, displayName: 'N' }), 400, 'VALIDATION_FAILED', 'handle');
    const settings: [Record<string, unknown>, string][] = [
      [{ missionMinAmount: 5_000, missionMaxAmount: 4_999 }, 'settings.missionMinAmount'],
      [{ missionMinAmount: 2_000_000 }, 'settings.missionMinAmount'],
      [{ failureKeepBps: 5_001 }, 'settings.failureKeepBps'],
      [{ failureKeepBps: -1 }, 'settings.failureKeepBps'],
      [{ failureKeepBps: 2.5 }, 'settings.failureKeepBps'],
      [{ failureKeepBps: '0' }, 'settings.failureKeepBps'],
      [{ missionMinAmount: 0 }, 'settings.missionMinAmount'],
      [{ acceptWindowSeconds: 0 }, 'settings.acceptWindowSeconds'],
      [{ acceptWindowSeconds: 604_801 }, 'settings.acceptWindowSeconds'],
      [{ platformFeeBps: 0 }, 'settings.platformFeeBps'],
    ];
    for (const [s, path] of settings)
      expectProblem(
        await create({ handle: 'newbie_ch', displayName: 'N', settings: s }),
        400,
        'VALIDATION_FAILED',
        path,
      );
    expectProblem(
      await create(
        '{"handle":"newbie_ch","displayName":"N","settings":{"missionMaxAmount":9007199254740993}}',
      ),
      400,
      'VALIDATION_FAILED',
      'settings.missionMaxAmount',
    );
    expectProblem(
      await create({ handle: 'newbie_ch', displayName: 'N', owner: streamer.id }),
      400,
      'VALIDATION_FAILED',
      'owner',
    );
    expectProblem(
      await create({ handle: 'newbie_ch', displayName: '' }),
      400,
      'VALIDATION_FAILED',
      'displayName',
    );
    expectProblem(
      await create({ handle: 'newbie_ch', displayName: 'nul\u0000' }),
      400,
      'VALIDATION_FAILED',
      'displayName',
    );
    expectProblem(
      await create({ handle: 'newbie_ch', displayName: 'lone \ud800' }),
      400,
      'VALIDATION_FAILED',
      'displayName',
    );
    expectProblem(
      await create({ handle: 'newbie_ch', displayName: 'N', settings: null }),
      400,
      'VALIDATION_FAILED',
      'settings',
    );
    expectProblem(await raw(t, 'GET', '/api/v1/channels/newbie_ch', null), 404, 'NOT_FOUND');
    expect((await raw(t, 'GET', '/api/v1/me', newbie)).body).toMatchObject({
      channel: null,
      roles: ['viewer'],
    });
    // Nothing half-made stands in the way of a valid channel.
    const ok = await create({
      handle: 'newbie_ch',
      displayName: 'N',
      settings: { missionMinAmount: 5_000, missionMaxAmount: 5_000, failureKeepBps: 5_000 },
    });
    expect(ok.status, ok.text).toBe(201);
    expectProblem(
      await create({ handle: 'newbie_ch2', displayName: 'N' }),
      409,
      'ALREADY_STREAMER',
    );
    expectProblem(
      await post(viewer, '/api/v1/channels', { handle: 'newbie_ch', displayName: 'N' }),
      409,
      'HANDLE_TAKEN',
    );
  });

  it('refuse bad patches (400), strangers (403) and unknown handles (404), leaving the settings alone', async () => {
    const before = (await raw(t, 'GET', '/api/v1/channels/bad_ch', null)).body.channel;
    const patch = (who: Caller | null, body: unknown, handle = 'bad_ch') =>
      raw(t, 'PATCH', `/api/v1/channels/${handle}`, who, body);
    expectProblem(
      await patch(streamer, { settings: { missionMinAmount: 100_001 } }),
      400,
      'VALIDATION_FAILED',
      'settings.missionMinAmount',
    );
    expectProblem(
      await patch(streamer, { settings: { missionMaxAmount: 999 } }),
      400,
      'VALIDATION_FAILED',
      'settings.missionMinAmount',
    );
    expectProblem(
      await patch(streamer, { settings: { failureKeepBps: 5_001 } }),
      400,
      'VALIDATION_FAILED',
      'settings.failureKeepBps',
    );
    expectProblem(await patch(streamer, { handle: 'renamed' }), 400, 'VALIDATION_FAILED', 'handle');
    expectProblem(await patch(viewer, { displayName: 'Mine now' }), 403, 'FORBIDDEN');
    expectProblem(await patch(other, { settings: { failureKeepBps: 0 } }), 403, 'FORBIDDEN');
    expectProblem(await patch(null, { displayName: 'x' }), 401, 'UNAUTHENTICATED');
    expectProblem(await patch(streamer, { displayName: 'x' }, 'no_such_channel'), 404, 'NOT_FOUND');
    expect((await raw(t, 'GET', '/api/v1/channels/bad_ch', null)).body.channel).toEqual(before);
  });
});

describe('pagination', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const BAD_CURSORS = [
    'garbage',
    '%%%',
    b64(['1', '01890000-0000-7000-8000-000000000000']),
    b64(['2025-02-30 00:00:00+00', '01890000-0000-7000-8000-000000000000']),
    b64(['2025-01-01 00:00:00+00', '------------------------------------']),
    b64({ at: '2025-01-01 00:00:00+00' }),
  ];

  it('refuses bad limits, cursors and states with 400', async () => {
    for (const url of [
      '/api/v1/channels/bad_ch/missions',
      `/api/v1/missions/${m.ACTIVE}/pledges`,
    ]) {
      for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=-5', 'limit=2.5'])
        expectProblem(await raw(t, 'GET', `${url}?${q}`, null), 400, 'VALIDATION_FAILED');
      for (const c of BAD_CURSORS)
        expectProblem(
          await raw(t, 'GET', `${url}?cursor=${encodeURIComponent(c)}`, null),
          400,
          'VALIDATION_FAILED',
          'cursor',
        );
    }
    expectProblem(
      await raw(t, 'GET', '/api/v1/channels/bad_ch/missions?state=DONE', null),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await raw(t, 'GET', '/api/v1/channels/no_such_channel/missions', null),
      404,
      'NOT_FOUND',
    );
  });

  async function walk(url: string, limit: number): Promise<{ id: string; createdAt: string }[]> {
    const items: { id: string; createdAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const res = await raw(
        t,
        'GET',
        `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        null,
      );
      expect(res.status, res.text).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  }

  it('walks every mission and pledge exactly once, newest first', async () => {
    const pager = await api.signUp('Pager');
    await api.channel(pager, 'pager_ch');
    const ids: string[] = [];
    for (let i = 0; i < 13; i++) {
      const p = await api.propose(viewer, 'pager_ch', 1_000, 600, `Page ${i}`);
      ids.push(p.body.mission.id);
    }
    await post(pager, `/api/v1/missions/${ids[3]}/reject`);
    for (let i = 0; i < 11; i++)
      expect((await pledge(backer, ids[0]!, { amount: 1_000 + i })).status).toBe(201);
    for (const limit of [1, 4, 13, 100]) {
      const missions = await walk('/api/v1/channels/pager_ch/missions', limit);
      expect(missions.map((x) => x.id)).toEqual([...ids].reverse());
      const proposed = await walk('/api/v1/channels/pager_ch/missions?state=PROPOSED', limit);
      expect(proposed.map((x) => x.id)).toEqual([...ids].reverse().filter((id) => id !== ids[3]));
      const pledges = (await walk(`/api/v1/missions/${ids[0]}/pledges`, limit)) as unknown as {
        id: string;
        amount: number;
        createdAt: string;
      }[];
      expect(pledges.map((p) => p.amount)).toEqual([
        ...Array.from({ length: 11 }, (_, i) => 1_000 + i).reverse(),
        1_000,
      ]);
      expect(new Set(pledges.map((p) => p.id)).size).toBe(12);
      for (let i = 1; i < pledges.length; i++)
        expect(pledges[i - 1]!.createdAt >= pledges[i]!.createdAt).toBe(true);
    }
  });
});

describe('disputes, reviews, progress and choices (contract 1.1)', () => {
  let owner: Caller; // owns trust_ch: a 600 s dispute window, half the pledged total sends to review
  let ops: Caller;
  let voided: Caller; // backed `confirming`, but the pledge was voided before the decision
  let everyone2: Caller[];
  /** Missions of trust_ch: decided and waiting (one dispute of 2,000 of 5,000), in review, per-unit at 2 of 4 units. */
  const tm = {} as Record<'confirming' | 'review' | 'unit' | 'proposedUnit', string>;
  /** Pledges on `confirming`: the viewer's (proposal) and the backer's. */
  let viewerPledge: string;
  let backerPledge: string;

  const trustPost = (who: Caller | null, url: string, body?: unknown) => raw(t, 'POST', url, who, body);
  const dispute = (who: Caller | null, id: string, body: unknown = { reason: 'not what happened' }) =>
    trustPost(who, `/api/v1/missions/${id}/disputes`, body);
  const progress = (who: Caller | null, id: string, body: unknown) => trustPost(who, `/api/v1/missions/${id}/progress`, body);
  const resolve = (who: Caller | null, id: string, body: unknown) => trustPost(who, `/api/v1/ops/missions/${id}/resolve`, body);
  const choose = (who: Caller | null, pledgeId: string, body: unknown) => raw(t, 'PATCH', `/api/v1/pledges/${pledgeId}`, who, body);

  /** Everything the refused requests could have changed beyond money: states, counters, choices, disputes, events. */
  async function trustFacts() {
    const ids = [...Object.values(tm), ...Object.values(m)];
    const q = async (sql: string) => (await t.db.pools.funding.query(sql, [ids])).rows;
    return {
      missions: await q(
        `SELECT id, state, units, proposed_outcome, decided_at, dispute_ends_at, reviewed_at, reviewed_by FROM missions WHERE id = ANY($1::uuid[]) ORDER BY id`,
      ),
      pledges: await q(`SELECT id, status, on_failure FROM pledges WHERE mission_id = ANY($1::uuid[]) ORDER BY id`),
      disputes: await q(`SELECT id, backer_id, amount FROM mission_disputes WHERE mission_id = ANY($1::uuid[]) ORDER BY id`),
      events: await q(`SELECT count(*)::int AS n FROM outbox WHERE key = ANY($1::text[])`),
    };
  }

  /** Runs `refused`; afterwards no wallet, ledger row, mission, pledge, choice, dispute or event has changed. */
  async function expectNothingChanged(refused: () => Promise<void>) {
    const before = await trustFacts();
    await expectNoMoneyMoved(t, everyone2, refused);
    expect(await trustFacts()).toEqual(before);
  }

  beforeAll(async () => {
    [owner, voided] = await Promise.all([api.signUp('Trust Owner'), api.signUp('Voided Backer')]);
    const reg = await raw(t, 'POST', '/api/v1/auth/register', null, { email: ADMIN_EMAIL, password: 'a long password', displayName: 'Ops' });
    const login = await raw(t, 'POST', '/api/v1/auth/login', null, { email: ADMIN_EMAIL, password: 'a long password' });
    ops = { token: login.body.accessToken, id: reg.body.user.id, email: ADMIN_EMAIL };
    await verifyEmail(t.ml.http, mailboxOf(t), ops);
    everyone2 = [...everyone, owner, voided, ops];
    await api.channel(owner, 'trust_ch', { missionMinAmount: 1_000, disputeWindowSeconds: 600, disputeThresholdBps: 5_000 });
    await api.charge(voided, 10_000);
    const accepted = async (body: Record<string, unknown>, pledges: [Caller, number][]) => {
      const p = await propose(viewer, { title: 'Trust', durationSeconds: 600, ...body }, undefined, 'trust_ch');
      expect(p.status, p.text).toBe(201);
      const id = p.body.mission.id as string;
      const ids = [];
      for (const [who, amount] of pledges) {
        const r = await pledge(who, id, { amount });
        expect(r.status, r.text).toBe(201);
        ids.push(r.body.pledge.id as string);
      }
      expect((await trustPost(owner, `/api/v1/missions/${id}/accept`)).status).toBe(200);
      return { id, ids };
    };
    const decide = async (id: string, outcome: string) => {
      const r = await trustPost(owner, `/api/v1/missions/${id}/decision`, { outcome });
      expect(r.body.mission?.state, r.text).toBe('CONFIRMING');
    };
    // Decided and waiting: the viewer (2,000 of 5,000) disputed, below the half.
    const c = await accepted({ amount: 2_000 }, [[backer, 3_000], [voided, 1_000]]);
    tm.confirming = c.id;
    backerPledge = c.ids[0]!;
    viewerPledge = (await raw(t, 'GET', `/api/v1/missions/${c.id}/pledges?limit=100`, null)).body.items.find(
      (p: { amount: number }) => p.amount === 2_000,
    ).id;
    // The voided backer's hold is released (a guardian's request) while the mission is undecided.
    const released = await trustPost(ops, `/api/v1/ops/users/${voided.id}/release-holds`, { reason: 'guardian' });
    expect(released.body, released.text).toMatchObject({ released: 1, amount: 1_000 });
    await decide(c.id, 'SUCCEEDED');
    expect((await dispute(viewer, c.id)).status).toBe(201);
    // In review: the backer's 3,000 of 5,000 reached the half.
    const r = await accepted({ amount: 2_000 }, [[backer, 3_000]]);
    tm.review = r.id;
    await decide(r.id, 'FAILED');
    expect((await dispute(backer, r.id)).status).toBe(201);
    expect((await api.mission(r.id)).state).toBe('IN_REVIEW');
    // Per-unit: 2 of 4 units reported; and one still proposed.
    tm.unit = (await accepted({ amount: 1_000, unit: { label: 'rounds', maxUnits: 4 } }, [[backer, 500]])).id;
    expect((await progress(owner, tm.unit, { units: 2 })).status).toBe(200);
    const pu = await propose(viewer, { title: 'Later', amount: 1_000, durationSeconds: 600, unit: { label: 'rounds', maxUnits: 4 } }, undefined, 'trust_ch');
    tm.proposedUnit = pu.body.mission.id;
  }, 60_000);

  it('disputes: 403 NOT_A_BACKER for anyone who holds no pledge (whatever the state), 409 MISSION_NOT_CONFIRMING outside the window, 409 ALREADY_DISPUTED the second time', async () => {
    await expectNothingChanged(async () => {
      for (const id of [...Object.values(tm), ...Object.values(m)]) {
        // The owner, a stranger and an admin never backed these missions.
        for (const who of [owner, other, ops]) expectProblem(await dispute(who, id), 403, 'NOT_A_BACKER');
        expectProblem(await dispute(null, id), 401, 'UNAUTHENTICATED');
      }
      // A backer whose pledges were all voided weighs nothing.
      expectProblem(await dispute(voided, tm.confirming), 403, 'NOT_A_BACKER');
      // Backers outside a window: before the decision, in review, after the end, and without any window.
      for (const id of [tm.review, tm.unit, tm.proposedUnit, ...Object.values(m)])
        expectProblem(await dispute(viewer, id), 409, 'MISSION_NOT_CONFIRMING');
      expectProblem(await dispute(viewer, tm.confirming), 409, 'ALREADY_DISPUTED');
      for (const id of UNKNOWN_IDS) expectProblem(await dispute(viewer, id), 404, 'NOT_FOUND');
      // Invalid bodies are 400 before anything is looked at (the backer could still dispute).
      for (const body of [{}, { reason: '' }, { reason: 'x'.repeat(501) }, { reason: 'a\u202Eb' }, { reason: 'a\u0000b' }, { reason: 7 }, { reason: 'ok', amount: 1 }])
        expectProblem(await dispute(backer, tm.confirming, body), 400, 'VALIDATION_FAILED');
      for (const text of ['', 'null', '[]', '"reason"', '{"reason":'])
        expect((await raw(t, 'POST', `/api/v1/missions/${tm.confirming}/disputes`, backer, text)).status, text).toBe(400);
    });
    expect(await api.mission(tm.confirming)).toMatchObject({ state: 'CONFIRMING', disputedAmount: 2_000 });
  });

  it('reviews: only admins resolve, only IN_REVIEW missions (409 MISSION_NOT_IN_REVIEW), only to an outcome', async () => {
    await expectNothingChanged(async () => {
      for (const id of [tm.confirming, tm.unit, tm.proposedUnit, ...Object.values(m)])
        for (const outcome of ['SUCCEEDED', 'FAILED', 'CANCELLED'])
          expectProblem(await resolve(ops, id, { outcome }), 409, 'MISSION_NOT_IN_REVIEW');
      for (const who of [owner, viewer, backer]) expectProblem(await resolve(who, tm.review, { outcome: 'SUCCEEDED' }), 403, 'FORBIDDEN');
      expectProblem(await resolve(null, tm.review, { outcome: 'SUCCEEDED' }), 401, 'UNAUTHENTICATED');
      for (const body of [{}, { outcome: 'EXPIRED' }, { outcome: 'REJECTED' }, { outcome: 'IN_REVIEW' }, { outcome: 'succeeded' }, { outcome: 'FAILED', note: 'x' }])
        expectProblem(await resolve(ops, tm.review, body), 400, 'VALIDATION_FAILED');
      for (const id of UNKNOWN_IDS) expectProblem(await resolve(ops, id, { outcome: 'FAILED' }), 404, 'NOT_FOUND');
    });
    expect((await api.mission(tm.review)).state).toBe('IN_REVIEW');
  });

  it('progress: 409 PROGRESS_NOT_MONOTONIC backwards, 409 outside ACTIVE, 400 beyond maxUnits or without a unit, 403 for others', async () => {
    await expectNothingChanged(async () => {
      for (const units of [0, 1]) expectProblem(await progress(owner, tm.unit, { units }), 409, 'PROGRESS_NOT_MONOTONIC');
      expectProblem(await progress(owner, tm.proposedUnit, { units: 1 }), 409, 'MISSION_NOT_ACTIVE');
      for (const id of [tm.confirming, tm.review]) expectProblem(await progress(owner, id, { units: 1 }), 400, 'VALIDATION_FAILED');
      expectProblem(await progress(owner, tm.unit, { units: 5 }), 400, 'VALIDATION_FAILED');
      for (const id of Object.values(m)) expectProblem(await progress(streamer, id, { units: 1 }), 400, 'VALIDATION_FAILED');
      for (const who of [viewer, backer, other, ops]) expectProblem(await progress(who, tm.unit, { units: 3 }), 403, 'FORBIDDEN');
      expectProblem(await progress(null, tm.unit, { units: 3 }), 401, 'UNAUTHENTICATED');
      for (const body of [{}, { units: -1 }, { units: 1.5 }, { units: '3' }, { units: 1_001 }, { units: 3, extra: true }, { units: null }])
        expectProblem(await progress(owner, tm.unit, body), 400, 'VALIDATION_FAILED');
      for (const id of UNKNOWN_IDS) expectProblem(await progress(owner, id, { units: 1 }), 404, 'NOT_FOUND');
    });
    expect((await api.mission(tm.unit)).unit).toEqual({ label: 'rounds', maxUnits: 4, units: 2 });
  });

  it('choices on failure: 409 MISSION_NOT_OPEN once decided, 403 for another’s pledge, 404 for unknown pledges, 400 for anything but REFUND or DONATE', async () => {
    const closedPledges = (
      await t.db.pools.funding.query<{ id: string; backer_id: string }>(
        `SELECT id, backer_id FROM pledges WHERE mission_id = ANY($1::uuid[])`,
        [[...CLOSED.map((s) => m[s]), tm.review]],
      )
    ).rows;
    await expectNothingChanged(async () => {
      for (const onFailure of ['REFUND', 'DONATE']) {
        expectProblem(await choose(viewer, viewerPledge, { onFailure }), 409, 'MISSION_NOT_OPEN');
        expectProblem(await choose(backer, backerPledge, { onFailure }), 409, 'MISSION_NOT_OPEN');
        for (const p of closedPledges) {
          const who = everyone2.find((u) => u.id === p.backer_id)!;
          expectProblem(await choose(who, p.id, { onFailure }), 409, 'MISSION_NOT_OPEN');
        }
        for (const who of [owner, other, ops, viewer]) expectProblem(await choose(who, backerPledge, { onFailure }), 403, 'FORBIDDEN');
        expectProblem(await choose(null, backerPledge, { onFailure }), 401, 'UNAUTHENTICATED');
        for (const id of UNKNOWN_IDS) expectProblem(await choose(backer, id, { onFailure }), 404, 'NOT_FOUND');
      }
      for (const body of [{}, { onFailure: 'KEEP' }, { onFailure: 'donate' }, { onFailure: null }, { onFailure: 'DONATE', amount: 1 }])
        expectProblem(await choose(backer, backerPledge, body), 400, 'VALIDATION_FAILED');
    });
  });
});

describe('random bodies', () => {
  it('never answer a 5xx on the money routes', async () => {
    const ids = [...Object.values(m), ...UNKNOWN_IDS.slice(0, 4)];
    const callers = [streamer, viewer, backer, other];
    const pledgeIds = [
      ...(await t.db.pools.funding.query<{ id: string }>('SELECT id FROM pledges ORDER BY id LIMIT 20')).rows.map((r) => r.id),
      ...UNKNOWN_IDS.slice(0, 4),
    ];
    const amount = fc.integer({ min: 1, max: 200_000 });
    const request = fc.oneof(
      fc.tuple(
        fc.constant('POST'),
        fc.constantFrom(
          '/api/v1/channels/bad_ch/missions',
          '/api/v1/channels/bad_other/missions',
          '/api/v1/channels/nope_nope/missions',
        ),
        bodyFor({
          title: fc.string({ maxLength: 120 }),
          description: fc.string(),
          amount,
          durationSeconds: fc.integer({ min: 0, max: 700_000 }),
        }),
      ),
      fc.tuple(
        fc.constant('POST'),
        fc.constantFrom(...ids).map((id) => `/api/v1/missions/${id}/pledges`),
        bodyFor({ amount }),
      ),
      fc.tuple(
        fc.constant('POST'),
        fc.constantFrom(...ids).map((id) => `/api/v1/missions/${id}/prediction/bets`),
        bodyFor({ side: fc.constantFrom('SUCCEEDED', 'FAILED'), points: fc.integer({ min: 1, max: 2_000 }) }),
      ),
      fc.tuple(
        fc.constant('POST'),
        fc.constantFrom(...ids).map((id) => `/api/v1/missions/${id}/decision`),
        bodyFor({ outcome: fc.constantFrom('SUCCEEDED', 'FAILED') }),
      ),
      fc.tuple(
        fc.constant('POST'),
        fc
          .constantFrom(...ids)
          .chain((id) =>
            fc.constantFrom('accept', 'reject', 'cancel').map((a) => `/api/v1/missions/${id}/${a}`),
          ),
        fc.oneof(fc.constant(undefined), anyValue),
      ),
      // Contract 1.1: disputes, progress, reviews and choices on failure.
      fc.tuple(
        fc.constant('POST'),
        fc.constantFrom(...ids).map((id) => `/api/v1/missions/${id}/disputes`),
        bodyFor({ reason: fc.string({ maxLength: 600 }) }),
      ),
      fc.tuple(
        fc.constant('POST'),
        fc.constantFrom(...ids).map((id) => `/api/v1/missions/${id}/progress`),
        bodyFor({ units: fc.integer({ min: -5, max: 1_100 }) }),
      ),
      fc.tuple(
        fc.constant('POST'),
        fc.constantFrom(...ids).map((id) => `/api/v1/ops/missions/${id}/resolve`),
        bodyFor({ outcome: fc.constantFrom('SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED') }),
      ),
      fc.tuple(
        fc.constant('PATCH'),
        fc.constantFrom(...pledgeIds).map((id) => `/api/v1/pledges/${id}`),
        bodyFor({ onFailure: fc.constantFrom('REFUND', 'DONATE', 'KEEP') }),
      ),
      fc.tuple(
        fc.constant('POST'),
        fc.constant('/api/v1/channels'),
        bodyFor({
          handle: fc.stringMatching(/^[a-z0-9_]{3,24}$/),
          displayName: fc.string({ maxLength: 60 }),
          settings: bodyFor({
            missionMinAmount: amount,
            missionMaxAmount: amount,
            acceptWindowSeconds: fc.integer(),
            failureKeepBps: fc.integer({ min: -10, max: 10_000 }),
          }),
        }),
      ),
      fc.tuple(
        fc.constant('PATCH'),
        fc.constantFrom('/api/v1/channels/bad_ch', '/api/v1/channels/bad_other'),
        bodyFor({
          displayName: fc.string({ maxLength: 60 }),
          settings: bodyFor({
            failureKeepBps: fc.integer({ min: 0, max: 5_000 }),
            missionMinAmount: amount,
          }),
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        request,
        fc.constantFrom(...callers),
        fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
        async ([method, url, body], who, key) => {
          const res = await raw(
            t,
            method,
            url,
            who,
            body === undefined ? undefined : JSON.stringify(body),
            key !== undefined ? { 'idempotency-key': key } : {},
          ).catch((err: Error) => {
            if (/header/i.test(err.message)) return undefined;
            throw err;
          });
          if (!res) return;
          expect(
            res.status,
            `${method} ${url} ${JSON.stringify(body)?.slice(0, 200)} → ${res.text.slice(0, 300)}`,
          ).toBeLessThan(500);
          if (res.status >= 400)
            expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
        },
      ),
      { numRuns: 400 },
    );
    const report = await verifyLedger(t.db.pools.funding);
    expect(report.problems).toEqual([]);
  }, 60_000);
});
