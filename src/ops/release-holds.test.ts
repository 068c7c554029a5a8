// An operator releases a user's held pledges (API.md Part 2, "Spending
// guardrails": a guardian's request): voided whole like a reversal, on
// undecided missions only, audited, admin only.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { mailboxOf, verifyEmail } from '../../test/support/mail.ts';
import { verifyBooks } from '../missions/index.ts';

let t: TestApp;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  t = await createTestApp({ ADMIN_EMAILS: 'guardian-ops@example.kr' });
  api = client(t.ml.http);
});
afterAll(async () => t?.close());

let operator: Caller | undefined;
/** The ADMIN_EMAILS account, registered and verified once per file. */
async function admin(): Promise<Caller> {
  if (operator) return operator;
  const reg = await api.call('POST', '/api/v1/auth/register', null, { email: 'guardian-ops@example.kr', password: 'a long password', displayName: 'Ops' });
  const login = await api.call('POST', '/api/v1/auth/login', null, { email: 'guardian-ops@example.kr', password: 'a long password' });
  operator = { token: login.body.accessToken, id: reg.body.user.id, email: 'guardian-ops@example.kr' };
  await verifyEmail(t.ml.http, mailboxOf(t), operator);
  return operator;
}

describe('operators’ access tokens', () => {
  it('carry roles ["admin"] once the ADMIN_EMAILS address is verified, at login and refresh; nobody else’s carry roles', async () => {
    const viewer = await api.signUp('Viewer');
    expect(decodeJwt(viewer.token).roles).toBeUndefined();
    await admin();
    const login = await api.call('POST', '/api/v1/auth/login', null, { email: 'guardian-ops@example.kr', password: 'a long password' });
    expect(decodeJwt(login.body.accessToken).roles).toEqual(['admin']);
    const refreshed = await api.call('POST', '/api/v1/auth/refresh', null, { refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.accessToken).roles).toEqual(['admin']);
  });
});

describe('POST /ops/users/:id/release-holds', () => {
  it('voids every held pledge of the user on undecided missions, drops the totals, audits it, and is for admins only', async () => {
    const [ops, streamer, minor, other] = [await admin(), await api.signUp('Streamer'), await api.signUp('Minor'), await api.signUp('Other')];
    await api.channel(streamer, 'guard_rel');
    await Promise.all([api.charge(minor, 100_000), api.charge(other, 100_000)]);
    const open = (await api.propose(other, 'guard_rel', 5_000)).body.mission.id as string;
    const active = (await api.propose(other, 'guard_rel', 5_000)).body.mission.id as string;
    await api.call('POST', `/api/v1/missions/${active}/accept`, streamer);
    const decided = (await api.propose(other, 'guard_rel', 5_000)).body.mission.id as string;
    await api.call('POST', `/api/v1/missions/${decided}/accept`, streamer);
    for (const [id, amount] of [[open, 10_000], [active, 20_000], [active, 3_000], [decided, 7_000]] as const) {
      expect((await api.call('POST', `/api/v1/missions/${id}/pledges`, minor, { amount })).status).toBe(201);
    }
    expect((await api.call('POST', `/api/v1/missions/${decided}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);

    const url = `/api/v1/ops/users/${minor.id}/release-holds`;
    expect((await api.call('POST', url, null, { reason: 'guardian' })).status).toBe(401);
    expect((await api.call('POST', url, streamer, { reason: 'guardian' })).status).toBe(403);
    expect((await api.call('POST', url, ops, {})).status).toBe(400);
    expect((await api.call('POST', url, ops, { reason: '' })).status).toBe(400);
    expect((await api.call('POST', '/api/v1/ops/users/not-a-user/release-holds', ops, { reason: 'guardian' })).status).toBe(404);
    expect((await api.call('POST', '/api/v1/ops/users/00000000-0000-4000-8000-000000000000/release-holds', ops, { reason: 'guardian' })).status).toBe(404);

    const r = await api.call('POST', url, ops, { reason: "guardian's request, ticket 42" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ released: 3, amount: 33_000 });
    // The decided mission's pledge is the streamer's now; the rest is back in the minor's cash.
    await eventually(async () => (await api.mission(decided)).settledAt);
    expect(await api.wallet(minor)).toMatchObject({ available: 93_000, held: 0 });
    expect(await api.mission(active)).toMatchObject({ pledgedAmount: 5_000, backerCount: 1 });
    expect(await api.mission(open)).toMatchObject({ pledgedAmount: 5_000, backerCount: 1 });
    // Nothing left to release.
    expect((await api.call('POST', url, ops, { reason: 'again' })).body).toEqual({ released: 0, amount: 0 });

    const audit = await t.db.pools.identity.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_log WHERE action = 'holds_released' AND user_id = $1`, [minor.id]);
    expect(audit.rows[0]!.details).toMatchObject({ operator: ops.id, reason: "guardian's request, ticket 42", released: 3, amount: 33_000 });
    expect((await verifyBooks(t.db.pools.funding)).ok).toBe(true);
  });
});
