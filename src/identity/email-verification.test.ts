// Verified email (API.md Part 2): a link mailed through the notifier, a
// single-use token that expires, and the admin role of ADMIN_EMAILS only for
// a verified address. Mails go to a real SMTP server (the sink).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { mailHeader, plainText, requestVerification, verificationMails, verifyEmail } from '../../test/support/mail.ts';
import { SmtpSink } from '../../test/support/smtp-sink.ts';
import { IdentityClient } from './internal.ts';
import { KeyRing, newPrivateJwk } from './keys.ts';

const ADMIN = 'boss@example.kr';
let t: TestApp;
let sink: SmtpSink;
let api: ReturnType<typeof client>;
let keys: KeyRing;

beforeAll(async () => {
  sink = await SmtpSink.start();
  keys = await KeyRing.fromJwks([await newPrivateJwk()]);
  t = await createTestApp({ ADMIN_EMAILS: ADMIN, SMTP_URL: sink.url }, { keys });
  api = client(t.ml.http);
});
afterAll(async () => {
  await t?.close();
  await sink?.stop();
});

const confirm = (token: unknown) => api.call('POST', '/api/v1/auth/email-verification/confirm', null, { token });
const me = async (who: Caller) => (await api.call('GET', '/api/v1/me', who)).body;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function signUpAs(email: string, displayName = 'Boss'): Promise<Caller & { registered: Record<string, unknown> }> {
  const reg = await api.call('POST', '/api/v1/auth/register', null, { email, password: 'a long password', displayName });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const login = await api.call('POST', '/api/v1/auth/login', null, { email, password: 'a long password' });
  return { token: login.body.accessToken, id: reg.body.user.id, email: email.toLowerCase(), registered: reg.body.user };
}

describe('verified email', () => {
  it('starts unverified: the user and me objects say so', async () => {
    const who = await signUpAs(`new.${Date.now()}@example.kr`);
    expect(who.registered).toMatchObject({ emailVerified: false });
    expect(await me(who)).toMatchObject({ emailVerified: false, roles: ['viewer'] });
  });

  it('mails a link to the user, whose token verifies the address once', async () => {
    const who = await api.signUp('Mina');
    const res = await api.call('POST', '/api/v1/auth/email-verification', who);
    expect(res.status).toBe(202);
    const raw = await eventually(async () => (await verificationMails(sink, who.email))[0]);
    const mail = sink.mails.find((m) => m.raw === raw)!;
    expect(mail.envelopeTo).toEqual([who.email]);
    expect(mailHeader(raw, 'To')).toContain(who.email);
    expect(mail.messageId).toMatch(/^<[^@>]+@[^>]+>$/);
    expect(mailHeader(raw, 'Subject')).toMatch(/MissionLink/);
    const text = plainText(raw);
    // An absolute link to the web app's page, in Korean and English.
    const link = /(https?:\/\/[^\s/]+)\/verify-email\?token=([A-Za-z0-9_-]{40,})(\s|$)/.exec(text);
    expect(link, text).not.toBeNull();
    expect(text).toMatch(/24/); // says how long it is valid
    expect(text).toContain('Mina');

    expect((await confirm(link![2])).status).toBe(204);
    expect(await me(who)).toMatchObject({ emailVerified: true });
    const again = await confirm(link![2]);
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('INVALID_TOKEN');
  });

  it('asks the signed-in user: no token is a 401', async () => {
    expect((await api.call('POST', '/api/v1/auth/email-verification')).status).toBe(401);
  });

  it('replaces the previous link with a new one', async () => {
    const who = await api.signUp('Twice');
    const first = await requestVerification(t.ml.http, sink, who);
    const second = await requestVerification(t.ml.http, sink, who);
    expect(second).not.toBe(first);
    const old = await confirm(first);
    expect(old.status).toBe(400);
    expect(old.body.code).toBe('INVALID_TOKEN');
    expect((await confirm(second)).status).toBe(204);
    expect(await me(who)).toMatchObject({ emailVerified: true });
  });

  it('refuses unknown and expired tokens with INVALID_TOKEN, and a malformed body with VALIDATION_FAILED', async () => {
    for (const token of ['nope', 'A'.repeat(43), '']) {
      const res = await confirm(token);
      expect(res.status, token).toBe(400);
      expect(res.body.code, token).toBe(token === '' ? 'VALIDATION_FAILED' : 'INVALID_TOKEN');
    }
    for (const body of [{}, { token: 42 }, { token: 'x', extra: 1 }]) {
      const res = await api.call('POST', '/api/v1/auth/email-verification/confirm', null, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }

    // Valid for 24 hours: a day later (the clock moved by rewriting the stored expiry) it is refused.
    const who = await api.signUp('Late');
    const token = await requestVerification(t.ml.http, sink, who);
    const { rows } = await t.db.pools.identity.query<{ ttl: number }>(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM email_verifications WHERE user_id = $1`, [who.id]);
    expect(rows[0]!.ttl).toBe(24 * 3600);
    await t.db.pools.identity.query(`UPDATE email_verifications SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [who.id]);
    const late = await confirm(token);
    expect(late.status).toBe(400);
    expect(late.body.code).toBe('INVALID_TOKEN');
    expect(await me(who)).toMatchObject({ emailVerified: false });
  });

  it('keeps the token out of every table and the address out of the funding database', async () => {
    const who = await api.signUp('Private');
    const token = await requestVerification(t.ml.http, sink, who);
    const identityText = (await t.db.pools.identity.query(`SELECT row_to_json(v)::text AS r FROM email_verifications v`)).rows.map((r) => r.r).join('\n');
    expect(identityText).toContain(who.id);
    expect(identityText).not.toContain(token);
    const { rows: tables } = await t.db.pools.funding.query<{ name: string }>(
      `SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    for (const { name } of tables) {
      const dump = (await t.db.pools.funding.query(`SELECT coalesce(string_agg(row_to_json(x)::text, E'\\n'), '') AS d FROM ${name} x`)).rows[0].d as string;
      expect(dump, name).not.toContain(token);
      expect(dump, name).not.toContain(who.email);
    }
    expect((await confirm(token)).status).toBe(204);
  });

  it('mails once per request however often the event is delivered', async () => {
    const who = await api.signUp('Once');
    await requestVerification(t.ml.http, sink, who);
    const { rows } = await t.db.pools.funding.query(
      `SELECT id, topic, key, payload, created_at FROM outbox WHERE topic = 'user.email_verification_requested' AND payload->>'userId' = $1`, [who.id]);
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    for (let i = 0; i < 3; i++) {
      await t.ml.bus.publish({ id: r.id, topic: r.topic, key: r.key, payload: r.payload, createdAt: r.created_at.toISOString() });
    }
    t.ml.notifier!.poke();
    await sleep(500);
    expect(await verificationMails(sink, who.email)).toHaveLength(1);
  });

  it('keeps a mail while the mail server is down, sends it when it is back, and never sends a replaced link', async () => {
    const who = await api.signUp('Patient');
    await sink.down();
    try {
      expect((await api.call('POST', '/api/v1/auth/email-verification', who)).status).toBe(202);
      await sleep(1500);
      // Asked again while the first mail waits: that mail's link is dead now.
      expect((await api.call('POST', '/api/v1/auth/email-verification', who)).status).toBe(202);
      await sleep(500);
      expect(await verificationMails(sink, who.email)).toHaveLength(0);
    } finally {
      await sink.up();
    }
    const raw = await eventually(async () => (await verificationMails(sink, who.email))[0], 20_000);
    const statuses = async () =>
      (await t.db.pools.funding.query<{ status: string }>(`SELECT status FROM account_mails WHERE user_id = $1 ORDER BY created_at`, [who.id])).rows.map((r) => r.status);
    await eventually(async () => (await statuses()).every((s) => s !== 'pending'), 20_000);
    expect(await statuses()).toEqual(['dropped', 'sent']);
    expect(await verificationMails(sink, who.email)).toHaveLength(1);
    expect((await confirm(/token=([\w-]+)/.exec(plainText(raw))![1])).status).toBe(204);
  }, 45_000);

  it('audits requests and confirmations', async () => {
    const who = await api.signUp('Audited');
    await verifyEmail(t.ml.http, sink, who);
    const { rows } = await t.db.pools.identity.query<{ action: string }>(`SELECT action FROM audit_log WHERE user_id = $1 ORDER BY seq`, [who.id]);
    expect(rows.map((r) => r.action)).toEqual(['register', 'login', 'email_verification_requested', 'email_verified']);
  });
});

describe('the link in the mail', () => {
  it('points at PUBLIC_URL, never at the Host the request named (a forged one would collect the token)', async () => {
    const elsewhere = await createTestApp({ SMTP_URL: sink.url, PUBLIC_URL: 'https://missions.example.kr/' }, { keys });
    try {
      const who = await client(elsewhere.ml.http).signUp('Hosted');
      const res = await elsewhere.ml.http.inject({
        method: 'POST',
        url: '/api/v1/auth/email-verification',
        headers: { authorization: `Bearer ${who.token}`, host: 'attacker.example', 'x-forwarded-host': 'attacker.example' },
      });
      expect(res.statusCode).toBe(202);
      const raw = await eventually(async () => (await verificationMails(sink, who.email))[0]);
      const text = plainText(raw);
      expect(text).toMatch(/https:\/\/missions\.example\.kr\/verify-email\?token=/);
      expect(text).not.toContain('attacker.example');
    } finally {
      await elsewhere.close();
    }
  });
});

describe('a notifier without the identity database (distributed mode)', () => {
  it('gets the same mail from the internal API, for a service token only', async () => {
    const who = await api.signUp('Remote');
    const token = await requestVerification(t.ml.http, sink, who);
    const { rows } = await t.db.pools.funding.query<{ verificationId: string }>(
      `SELECT payload->>'verificationId' AS "verificationId" FROM outbox WHERE topic = 'user.email_verification_requested' AND payload->>'userId' = $1`, [who.id]);
    const url = await t.ml.http.listen({ port: 0, host: '127.0.0.1' });
    const remote = new IdentityClient(url, keys);
    const mail = await remote.verificationMail(who.id, rows[0]!.verificationId);
    expect(mail).toMatchObject({ email: who.email, displayName: 'Remote' });
    expect(mail!.link.endsWith(`/verify-email?token=${token}`)).toBe(true);
    // Another user's id, an unknown verification: nothing.
    const other = await api.signUp('Other');
    expect(await remote.verificationMail(other.id, rows[0]!.verificationId)).toBeNull();
    expect(await remote.verificationMail(who.id, '0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee')).toBeNull();
    // A user's access token is no service token.
    const res = await fetch(`${url}/internal/v1/users/${who.id}/email-verifications/${rows[0]!.verificationId}/mail`, {
      headers: { authorization: `Bearer ${who.token}` },
    });
    expect(res.status).toBe(401);
    // Once used, the verification is gone: a mail still waiting would be dropped, not sent.
    expect((await confirm(token)).status).toBe(204);
    expect(await remote.verificationMail(who.id, rows[0]!.verificationId)).toBeNull();
  });
});

describe('the admin role of ADMIN_EMAILS', () => {
  it('is granted only once the address is verified (me and the ops API)', async () => {
    // Whoever registers the address first gets nothing from it until they prove they own it.
    const boss = await signUpAs('Boss@Example.KR');
    expect(await me(boss)).toMatchObject({ email: ADMIN, emailVerified: false, roles: ['viewer'] });
    expect((await api.call('GET', '/api/v1/ops/summary', boss)).status).toBe(403);
    expect((await api.call('POST', '/api/v1/ops/ledger/verify', boss)).status).toBe(403);

    await verifyEmail(t.ml.http, sink, boss);
    expect(await me(boss)).toMatchObject({ email: ADMIN, emailVerified: true, roles: ['viewer', 'admin'] });
    expect((await api.call('GET', '/api/v1/ops/summary', boss)).status).toBe(200);
    expect(t.ml.identity!.isAdmin((await t.ml.identity!.getUser(boss.id))!)).toBe(true);
  });

  it('is never granted to a verified address outside ADMIN_EMAILS', async () => {
    const who = await api.signUp('Plain');
    await verifyEmail(t.ml.http, sink, who);
    expect(await me(who)).toMatchObject({ emailVerified: true, roles: ['viewer'] });
    expect((await api.call('GET', '/api/v1/ops/summary', who)).status).toBe(403);
  });
});
