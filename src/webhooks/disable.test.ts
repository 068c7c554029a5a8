// An endpoint that keeps failing is disabled once its run of failures is
// older than the disabling period (3 days in production; shortened here),
// and its owner gets one mail about it; a success in between starts the
// period afresh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { mailboxOf, mailHeader, plainText, rawMails } from '../../test/support/mail.ts';
import { WebhookReceiver } from '../../test/support/webhook-receiver.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let viewer: Caller;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  t = await createTestApp(
    { WEBHOOK_ALLOW_LOOPBACK: '1' },
    { webhookOptions: { retryBaseMs: 100, retryCapMs: 200, timeoutMs: 1_000, pollMs: 50, disableAfterMs: 1_500 } },
  );
  api = client(t.ml.http);
  viewer = await api.signUp('Viewer');
  await api.charge(viewer, 100_000);
});
afterAll(async () => {
  await t?.close();
  await Promise.all(receivers.map((r) => r.stop()));
});

async function setUp(handle: string) {
  const owner = await api.signUp(`Owner ${handle}`);
  await api.channel(owner, handle);
  const r = await WebhookReceiver.start();
  receivers.push(r);
  const made = await api.call('POST', `/api/v1/channels/${handle}/webhooks`, owner, { url: r.url(), events: ['mission.proposed'] });
  expect(made.status).toBe(201);
  return { owner, r, hook: made.body.webhook as { id: string } };
}

const statusOf = async (owner: Caller, handle: string) => (await api.call('GET', `/api/v1/channels/${handle}/webhooks`, owner)).body.items[0].status as string;

describe('an endpoint failing for the disabling period', () => {
  it('is disabled, stops receiving, and its owner is mailed once', async () => {
    const { owner, r, hook } = await setUp('failing_one');
    r.behaviour = () => ({ status: 500 });
    expect((await api.propose(viewer, 'failing_one', 1_000)).status).toBe(201);
    await eventually(async () => (await statusOf(owner, 'failing_one')) === 'disabled', 15_000);
    const seen = r.received.length;
    expect(seen).toBeGreaterThan(2);
    // Nothing more goes out to it, not even new events.
    expect((await api.propose(viewer, 'failing_one', 1_000)).status).toBe(201);
    await new Promise((res) => setTimeout(res, 800));
    expect(r.received.length).toBe(seen);
    const mails = await eventually(async () => {
      const all = (await rawMails(mailboxOf(t))).filter((m) => mailHeader(m, 'to').includes(owner.email));
      return all.length ? all : undefined;
    });
    expect(mails).toHaveLength(1);
    expect(mailHeader(mails[0]!, 'subject')).toContain('A webhook was disabled');
    const text = plainText(mails[0]!);
    expect(text).toContain(r.url());
    expect(text).toContain('failing_one');
    // Its waiting deliveries were given up with it.
    const { rows } = await t.db.pools.funding.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'`, [hook.id]);
    expect(rows[0].n).toBe(0);
    // A test send still reaches it; once one succeeds it is on again, and new events go out.
    expect((await api.call('POST', `/api/v1/channels/failing_one/webhooks/${hook.id}/test`, owner)).status).toBe(202);
    await eventually(async () => r.received.length === seen + 1);
    r.behaviour = () => ({ status: 200 });
    expect((await api.call('POST', `/api/v1/channels/failing_one/webhooks/${hook.id}/test`, owner)).status).toBe(202);
    await eventually(async () => (await statusOf(owner, 'failing_one')) === 'active', 15_000);
    expect((await api.propose(viewer, 'failing_one', 1_000)).status).toBe(201);
    await eventually(async () => r.received.some((g) => g.at > Date.now() - 5_000 && JSON.parse(g.body).type === 'mission.proposed' && g.headers['webhook-id'] !== r.received[0]!.headers['webhook-id']), 15_000);
    // The proposal of the disabled time was never queued.
    const proposals = new Set(r.received.filter((g) => JSON.parse(g.body).type === 'mission.proposed').map((g) => g.headers['webhook-id']));
    expect(proposals.size).toBe(2);
  });

  it('is not disabled when a success interrupts the failures', async () => {
    const { owner, r } = await setUp('flaky_one');
    let n = 0;
    // Fails for a while, succeeds once, fails again: no run of failures reaches 1.5 s.
    r.behaviour = () => {
      n++;
      return n === 8 ? { status: 200 } : { status: 503 };
    };
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect((await api.propose(viewer, 'flaky_one', 1_000)).status).toBe(201);
    await eventually(async () => n >= 8, 15_000);
    const firstSuccessAt = Date.now();
    expect(firstSuccessAt - started).toBeLessThan(1_500);
    expect(await statusOf(owner, 'flaky_one')).toBe('active');
  });
});
