// User-visible text (contract 1.1): every display name, title and description
// goes through one schema, userText(). It must be well-formed Unicode without
// control characters or bidi overrides/isolates; single-line fields (names,
// titles) also refuse line breaks and invisible characters (zero-width spaces,
// direction marks, joiners outside emoji). A refusal is a 400
// VALIDATION_FAILED naming the field, and creates nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { userText } from './schemas.ts';

/** Refused in every user-visible text field. */
const BAD_EVERYWHERE: [string, string][] = [
  ['a lone high surrogate', 'Mina \ud800'],
  ['a lone low surrogate', '\udc00 Mina'],
  ['a reversed surrogate pair', 'Mi\udc00\ud800na'],
  ['a right-to-left override (U+202E)', 'Mina\u202Eanim'],
  ['a left-to-right embedding (U+202A)', '\u202AMina'],
  ['a pop directional formatting (U+202C)', 'Mina\u202C'],
  ['a left-to-right isolate (U+2066)', 'Mi\u2066na'],
  ['a pop directional isolate (U+2069)', 'Mina\u2069x'],
  ['a NUL (U+0000)', 'Mi\u0000na'],
  ['a bell (U+0007)', 'Mi\u0007na'],
  ['an escape (U+001B)', 'Mi\u001b[31mna'],
  ['a delete (U+007F)', 'Mi\u007fna'],
  ['a C1 control (U+009B)', 'Mi\u009bna'],
  ['a tab inside', 'Mi\tna'],
];
/** Refused in single-line fields (names, titles) only. */
const BAD_SINGLE_LINE: [string, string][] = [
  ['a newline inside', 'first\nsecond'],
  ['a carriage return inside', 'first\rsecond'],
  ['a line separator (U+2028)', 'first\u2028second'],
  ['a zero-width space (U+200B)', 'Mi\u200Bna'],
  ['a zero-width non-joiner between Latin letters (U+200C)', 'Mi\u200Cna'],
  ['a zero-width joiner between letters (U+200D)', 'Mi\u200Dna'],
  ['a zero-width joiner after an emoji, before a letter', '👍\u200Dx'],
  ['a left-to-right mark (U+200E)', 'Mina\u200E'],
  ['a right-to-left mark (U+200F)', '\u200FMina'],
  ['an Arabic letter mark (U+061C)', 'Mi\u061Cna'],
  ['a word joiner (U+2060)', 'Mi\u2060na'],
  ['a byte order mark inside (U+FEFF)', 'Mi\uFEFFna'],
  ['a soft hyphen (U+00AD)', 'Mi\u00ADna'],
  ['a Hangul filler (U+3164)', '\u3164'],
  ['a Hangul filler next to a name', '민아\u3164'],
  ['a stray variation selector', '\uFE0F'],
  ['stray tag characters', 'Mina\u{E0067}\u{E0062}'],
];
/** Accepted everywhere, stored exactly (after trimming, for single-line fields). */
const GOOD: [string, string][] = [
  ['Korean', '민아의 방송'],
  ['Latin with an emoji', 'Mina 🎮'],
  ['a family emoji (joined by ZWJ)', '👨‍👩‍👧‍👦'],
  ['a ZWJ emoji with skin tone', '🧑🏽‍💻 coding'],
  ['a ZWJ emoji with a variation selector', '❤️‍🔥 and 🏳️‍🌈'],
  ['a keycap and a flag', '1️⃣ 🇰🇷'],
  ['a subdivision flag (tag sequence)', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
  ['combining marks', 'Cafe\u0301 Zoe\u0308'],
  ['decomposed Hangul', '\u1100\u1161\u11A8'],
  ['Arabic', 'مرحبا بالعالم'],
  ['Persian with a zero-width non-joiner between Arabic letters', 'می\u200Cخواهم'],
  ['Hebrew', 'שלום'],
  ['Hindi', 'नमस्ते'],
  ['Japanese', 'こんにちは'],
];

describe('userText()', () => {
  const name = userText({ min: 1, max: 50 });
  const text = userText({ max: 2000, multiline: true });
  const message = (r: ReturnType<typeof name.safeParse>) => (r.success ? null : r.error.issues.map((i) => i.message).join('; '));

  it.each(BAD_EVERYWHERE)('refuses %s in single- and multi-line text', (_label, input) => {
    expect(message(name.safeParse(input))).not.toBeNull();
    expect(message(text.safeParse(input))).not.toBeNull();
  });

  it.each(BAD_SINGLE_LINE)('refuses %s in single-line text', (_label, input) => {
    expect(message(name.safeParse(input))).not.toBeNull();
  });

  it.each(GOOD)('accepts %s', (_label, input) => {
    expect(name.safeParse(input)).toEqual({ success: true, data: input });
    expect(text.safeParse(input)).toEqual({ success: true, data: input });
  });

  it('says what is wrong, one message per field', () => {
    expect(message(name.safeParse('a\ud800'))).toBe('must be well-formed Unicode text');
    expect(message(name.safeParse('a\u202Eb'))).toMatch(/bidirectional/);
    expect(message(name.safeParse('a\u0007b'))).toBe('must not contain control characters');
    expect(message(name.safeParse('a\nb'))).toBe('must be a single line');
    expect(message(name.safeParse('a\u200Bb'))).toMatch(/invisible/);
    expect(message(name.safeParse(''))).toBe('must not be empty');
    expect(message(name.safeParse('x'.repeat(51)))).toBe('must be at most 50 characters');
  });

  it('counts characters (code points), not UTF-16 units', () => {
    expect(name.safeParse('🎮'.repeat(50)).success).toBe(true);
    expect(name.safeParse('🎮'.repeat(51)).success).toBe(false);
    expect(name.safeParse('가'.repeat(50)).success).toBe(true);
  });

  it('trims single-line text, as before; multi-line text keeps its line breaks', () => {
    expect(name.safeParse('  Mina  ')).toEqual({ success: true, data: 'Mina' });
    expect(name.safeParse('   ').success).toBe(false);
    expect(name.safeParse('\uFEFFMina')).toEqual({ success: true, data: 'Mina' }); // a leading BOM is whitespace to trim()
    for (const multi of ['line one\nline two', 'windows\r\nlines', 'para\u2028graph', 'zero\u200Bwidth is fine in prose', '']) {
      expect(text.safeParse(multi)).toEqual({ success: true, data: multi });
    }
  });
});

let t: TestApp;
let api: ReturnType<typeof client>;
let viewer: Caller;
let streamer: Caller;
const HANDLE = 'text_ch';

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [viewer, streamer] = await Promise.all([api.signUp('Viewer'), api.signUp('Streamer')]);
  await api.channel(streamer, HANDLE);
  await api.charge(viewer, 1_000_000);
});
afterAll(async () => t?.close());

type Call = Awaited<ReturnType<ReturnType<typeof client>['call']>>;
function expectFieldError(res: Call, path: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe('VALIDATION_FAILED');
  expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
}

let lastEmail = '';
let lastHandle = '';
let lastOwner: Caller | undefined;
let ownerHasChannel = false;
let channelName = HANDLE;
let n = 0;
const email = () => `text-${process.pid}-${++n}-${Date.now()}@example.kr`;
const PASSWORD = 'a long password';

interface Field {
  name: string;
  multiline: boolean;
  /** The status of an acceptance. */
  ok: number;
  /** Sends the text; answers the response. */
  send(text: string): Promise<Call>;
  /** After a refusal: nothing was created or changed. */
  unchanged(): Promise<void>;
  /** After an acceptance: the stored text. */
  stored(res: Call): Promise<string>;
}

const missionsOf = async () => (await api.call('GET', `/api/v1/channels/${HANDLE}/missions?limit=100`)).body.items.length as number;
let missionsBefore = 0;
let walletBefore = 0;
const snapshotMissions = async () => {
  missionsBefore = await missionsOf();
  walletBefore = (await api.wallet(viewer)).available;
};
const missionsUnchanged = async () => {
  expect(await missionsOf()).toBe(missionsBefore);
  expect((await api.wallet(viewer)).available).toBe(walletBefore);
};

const FIELDS: Field[] = [
  {
    name: 'register displayName',
    multiline: false,
    ok: 201,
    async send(displayName) {
      const address = email();
      lastEmail = address;
      return api.call('POST', '/api/v1/auth/register', null, { email: address, password: PASSWORD, displayName });
    },
    async unchanged() {
      // The address is still free: no account was created.
      expect((await api.call('POST', '/api/v1/auth/register', null, { email: lastEmail, password: PASSWORD, displayName: 'Fine' })).status).toBe(201);
    },
    async stored(res) {
      const login = await api.call('POST', '/api/v1/auth/login', null, { email: lastEmail, password: PASSWORD });
      const me = await api.call('GET', '/api/v1/me', { token: login.body.accessToken, id: '', email: lastEmail });
      expect(me.body.displayName).toBe(res.body.user.displayName);
      return me.body.displayName;
    },
  },
  {
    name: 'channel displayName (create)',
    multiline: false,
    ok: 201,
    async send(displayName) {
      lastHandle = `tx_${++n}`;
      // A new owner once the last one got a channel (a refused one may try again).
      if (!lastOwner || ownerHasChannel) [lastOwner, ownerHasChannel] = [await api.signUp('Owner'), false];
      return api.call('POST', '/api/v1/channels', lastOwner, { handle: lastHandle, displayName });
    },
    async unchanged() {
      expect((await api.call('GET', `/api/v1/channels/${lastHandle}`)).status).toBe(404);
      expect((await api.call('GET', '/api/v1/me', lastOwner)).body.channel).toBeNull();
    },
    async stored() {
      ownerHasChannel = true;
      return (await api.call('GET', `/api/v1/channels/${lastHandle}`)).body.channel.displayName;
    },
  },
  {
    name: 'channel displayName (change)',
    multiline: false,
    ok: 200,
    send: (displayName) => api.call('PATCH', `/api/v1/channels/${HANDLE}`, streamer, { displayName }),
    async unchanged() {
      expect((await api.call('GET', `/api/v1/channels/${HANDLE}`)).body.channel.displayName).toBe(channelName);
    },
    async stored() {
      channelName = (await api.call('GET', `/api/v1/channels/${HANDLE}`)).body.channel.displayName;
      return channelName;
    },
  },
  {
    name: 'mission title',
    multiline: false,
    ok: 201,
    async send(title) {
      await snapshotMissions();
      return api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, { title, amount: 1_000, durationSeconds: 600 });
    },
    unchanged: missionsUnchanged,
    async stored(res) {
      return (await api.mission(res.body.mission.id)).title;
    },
  },
  {
    name: 'mission description',
    multiline: true,
    ok: 201,
    async send(description) {
      await snapshotMissions();
      return api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, { title: 'A fine title', description, amount: 1_000, durationSeconds: 600 });
    },
    unchanged: missionsUnchanged,
    async stored(res) {
      return (await api.mission(res.body.mission.id)).description;
    },
  },
];

const pathOf = (f: Field) => (f.name.startsWith('mission ') ? f.name.slice('mission '.length) : 'displayName');

describe.each(FIELDS)('$name', (field) => {
  const bad = field.multiline ? BAD_EVERYWHERE : [...BAD_EVERYWHERE, ...BAD_SINGLE_LINE];
  it.each(bad)('refuses %s with 400 VALIDATION_FAILED naming the field, creating nothing', async (_label, input) => {
    expectFieldError(await field.send(input), pathOf(field));
    await field.unchanged();
  });

  it('accepts text in any script, emoji sequences and combining marks, stored exactly', async () => {
    const good = field.multiline ? [...GOOD, ['line breaks', 'one\ntwo\r\nthree'] as [string, string]] : GOOD;
    for (const [label, input] of good) {
      const res = await field.send(input);
      expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(field.ok);
      expect(await field.stored(res), label).toBe(input);
    }
  });

  if (!field.multiline) {
    it('trims surrounding blanks as before', async () => {
      const res = await field.send('  Padded name  ');
      expect(res.status, JSON.stringify(res.body)).toBe(field.ok);
      expect(await field.stored(res)).toBe('Padded name');
    });
  }
});
