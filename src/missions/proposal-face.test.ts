// What a streamer's queue shows of a proposal (an extension of `mission`):
// the proposer's display name and the proposal's message — its first
// pledge's, with the channel's blocked words masked, null when there is none
// or the owner hid it — on every read of the mission (one, a channel's list,
// the ops review list), whoever pledges after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let ann: Caller;
let ben: Caller;
const HANDLE = 'face_ch';

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [streamer, ann, ben] = await Promise.all([
    api.signUp('Streamer'),
    api.signUp('Ann Proposer'),
    api.signUp('Ben Backer'),
  ]);
  await api.channel(streamer, HANDLE);
  expect(
    (
      await api.call('PATCH', `/api/v1/channels/${HANDLE}`, streamer, {
        settings: { blockedWords: ['바보'] },
      })
    ).status,
  ).toBe(200);
  await Promise.all([ann, ben].map((who) => api.charge(who, 100_000)));
});
afterAll(async () => t?.close());

const propose = async (body: Record<string, unknown>) => {
  const r = await api.call('POST', `/api/v1/channels/${HANDLE}/missions`, ann, {
    title: 'Speedrun',
    amount: 3_000,
    durationSeconds: 600,
    ...body,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.mission as {
    id: string;
    proposerName: string | null;
    proposalMessage: string | null;
  };
};

describe('mission.proposerName and mission.proposalMessage', () => {
  it('carries the proposer’s name and masked message from the proposal on, unchanged by later pledges', async () => {
    const m = await propose({ message: '바보라도 할 수 있죠?' });
    expect(m).toMatchObject({
      proposerName: 'Ann Proposer',
      proposalMessage: '**라도 할 수 있죠?',
    });
    expect(
      (
        await api.call('POST', `/api/v1/missions/${m.id}/pledges`, ben, {
          amount: 2_000,
          message: '나도 보탭니다',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api.call('POST', `/api/v1/missions/${m.id}/pledges`, ann, {
          amount: 1_000,
          message: '한 번 더',
        })
      ).status,
    ).toBe(201);
    expect(await api.mission(m.id)).toMatchObject({
      proposerName: 'Ann Proposer',
      proposalMessage: '**라도 할 수 있죠?',
      pledgedAmount: 6_000,
    });
    const list = (await api.call('GET', `/api/v1/channels/${HANDLE}/missions?state=PROPOSED`)).body
      .items as { id: string; proposerName: string; proposalMessage: string | null }[];
    expect(list.find((x) => x.id === m.id)).toMatchObject({
      proposerName: 'Ann Proposer',
      proposalMessage: '**라도 할 수 있죠?',
    });
    // Accepting answers the same face.
    const acc = await api.call('POST', `/api/v1/missions/${m.id}/accept`, streamer);
    expect(acc.body.mission).toMatchObject({
      state: 'ACTIVE',
      proposerName: 'Ann Proposer',
      proposalMessage: '**라도 할 수 있죠?',
    });
  });

  it('reads null for a proposal without a message, and once the owner hides it', async () => {
    const quiet = await propose({});
    expect(quiet).toMatchObject({ proposerName: 'Ann Proposer', proposalMessage: null });
    const loud = await propose({ message: '보여 주세요' });
    const first = (await api.call('GET', `/api/v1/missions/${loud.id}/pledges`)).body.items[0] as {
      id: string;
    };
    expect(
      (await api.call('POST', `/api/v1/pledges/${first.id}/hide-message`, streamer)).status,
    ).toBe(204);
    expect(await api.mission(loud.id)).toMatchObject({
      proposerName: 'Ann Proposer',
      proposalMessage: null,
    });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await api.call('GET', '/api/v1/openapi.json')).body;
    const mission =
      doc.paths['/api/v1/missions/{id}'].get.responses['200'].content['application/json'].schema
        .properties.mission.properties;
    expect(Object.keys(mission)).toEqual(
      expect.arrayContaining(['proposerName', 'proposalMessage']),
    );
  });
});
