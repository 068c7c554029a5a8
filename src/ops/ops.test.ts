import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { mailboxOf, verifyEmail } from '../../test/support/mail.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let viewer: Caller;

beforeAll(async () => {
  t = await createTestApp({ ADMIN_EMAILS: 'ops-admin@example.kr' });
  api = client(t.ml.http);
  viewer = await api.signUp('Viewer');
});
afterAll(async () => t?.close());

/** The ADMIN_EMAILS account, its address verified through the mailed link (admin needs both). */
async function admin(): Promise<Caller> {
  const reg = await api.call('POST', '/api/v1/auth/register', null, { email: 'ops-admin@example.kr', password: 'a long password', displayName: 'Ops' });
  const login = await api.call('POST', '/api/v1/auth/login', null, { email: 'OPS-admin@example.kr', password: 'a long password' });
  const ops = { token: login.body.accessToken, id: reg.body.user.id, email: 'ops-admin@example.kr' };
  expect((await api.call('GET', '/api/v1/ops/summary', ops)).status).toBe(403);
  await verifyEmail(t.ml.http, mailboxOf(t), ops);
  return ops;
}

describe('ops API', () => {
  it('is for admins only', async () => {
    expect((await api.call('GET', '/api/v1/ops/summary')).status).toBe(401);
    expect((await api.call('GET', '/api/v1/ops/summary', viewer)).status).toBe(403);
    expect((await api.call('POST', '/api/v1/ops/ledger/verify', viewer)).status).toBe(403);
  });

  it('summarises the platform and verifies the books on demand', async () => {
    const ops = await admin();
    expect((await api.call('GET', '/api/v1/me', ops)).body.roles).toContain('admin');
    await api.charge(viewer, 5_000);
    const first = await api.call('GET', '/api/v1/ops/summary', ops);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outbox: { pending: expect.any(Number) }, mail: { pending: 0 } });
    expect(first.body.http.requests).toBeGreaterThan(0);
    const v = await api.call('POST', '/api/v1/ops/ledger/verify', ops);
    expect(v.status).toBe(200);
    expect(v.body.ok).toBe(true);
    expect((await api.call('GET', '/api/v1/ops/summary', ops)).body.ledger.last.ok).toBe(true);
    const metrics = await t.ml.http.inject({ method: 'GET', url: '/metrics' });
    for (const name of ['missionlink_charges_total 1', 'missionlink_ledger_verification_ok 1', 'missionlink_missions{state="ACTIVE"} 0', 'missionlink_outbox_pending']) {
      expect(metrics.body).toContain(name);
    }
  });
});
