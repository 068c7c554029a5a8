// The web app says what went wrong in the reader's language: every code of
// the server's error catalogue has its own Korean and English sentence, and
// the field errors real routes answer with are worded from their path and
// bound ("진행 시간은 최소 1분입니다") — never the server's English text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/platform/errors.ts';
import { CODE_TEXT, describeProblem, fieldRule, fieldSentence, FIELDS, topic, type Lang } from '../../web/src/problems.ts';
import { client, type Caller } from '../support/api.ts';
import { createTestApp, type TestApp } from '../support/app.ts';

const LANGS: Lang[] = ['ko', 'en'];
const HANGUL = /[\uAC00-\uD7A3]/;

describe('every catalogue code has a sentence in both languages', () => {
  for (const code of Object.keys(ERROR_CATALOGUE)) {
    it(code, () => {
      for (const lang of LANGS) {
        const text = CODE_TEXT[lang][code];
        expect(text, `${code} has no ${lang} sentence in web/src/problems.ts`).toBeTruthy();
        expect(text!.trim().length).toBeGreaterThan(3);
      }
      expect(CODE_TEXT.ko[code]).toMatch(HANGUL);
      expect(CODE_TEXT.en[code]).not.toMatch(HANGUL);
      // Not the server's developer title.
      expect(CODE_TEXT.en[code]).not.toBe(ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].title);
    });
  }

  it('knows no code the server does not have (no stale sentences)', () => {
    for (const lang of LANGS) expect(Object.keys(CODE_TEXT[lang]).sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
  });

  it('never shows the server detail or field message', () => {
    const secret = 'Not enough available cash for 900000 KRW';
    for (const lang of LANGS) {
      const d = describeProblem(
        { status: 402, code: 'INSUFFICIENT_FUNDS', errors: [{ path: 'amount', message: secret }] },
        lang,
      );
      expect(JSON.stringify(d)).not.toContain('900000');
      expect(JSON.stringify(d)).not.toContain(secret);
    }
    // A code this build does not know yet still reads as a sentence, by status.
    expect(describeProblem({ status: 409, code: 'SOMETHING_NEW' }, 'ko').headline).toMatch(HANGUL);
    expect(describeProblem({ status: 503 }, 'ko').headline).toBe(CODE_TEXT.ko.INTERNAL);
  });

  it('words field bounds with their unit and the right Korean particle', () => {
    expect(topic('진행 시간')).toBe('진행 시간은');
    expect(topic('제목')).toBe('제목은');
    expect(topic('비밀번호')).toBe('비밀번호는');
    expect(fieldRule('Too small: expected number to be >=60')).toEqual({ rule: 'min', limit: 60 });
    expect(fieldRule('Too small: expected number to be >0')).toEqual({ rule: 'min', limit: 1 });
    expect(fieldRule('Too big: expected number to be <=604800')).toEqual({ rule: 'max', limit: 604800 });
    expect(fieldRule('must be between 1000 and 500000')).toEqual({ rule: 'between', min: 1000, max: 500000 });
    expect(fieldSentence({ path: 'durationSeconds', message: 'Too small: expected number to be >=60' }, 'ko')).toBe('진행 시간은 최소 1분입니다.');
    expect(fieldSentence({ path: 'durationSeconds', message: 'Too small: expected number to be >=60' }, 'en')).toBe('The duration must be at least 1 min.');
    expect(fieldSentence({ path: 'settings.acceptWindowSeconds', message: 'Too big: expected number to be <=604800' }, 'ko')).toBe('수락 기한은 최대 7일입니다.');
    expect(fieldSentence({ path: 'settings.failureKeepBps', message: 'Too big: expected number to be <=5000' }, 'ko')).toBe('실패 시 스트리머 몫은 최대 50%입니다.');
    for (const name of Object.keys(FIELDS)) {
      for (const lang of LANGS) {
        const s = fieldSentence({ path: name, message: 'must be at least 3' }, lang);
        expect(s).not.toBe('must be at least 3');
        expect(s).toMatch(/3/);
        if (lang === 'ko') expect(s).toMatch(HANGUL);
      }
    }
  });
});

describe('real refusals of the forms read as sentences', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let viewer: Caller;
  let streamer: Caller;
  const handle = `words_${process.pid}`.slice(0, 24);

  beforeAll(async () => {
    t = await createTestApp();
    api = client(t.ml.http);
    [viewer, streamer] = await Promise.all([api.signUp('Viewer'), api.signUp('Streamer')]);
    await api.channel(streamer, handle, { missionMinAmount: 1000, missionMaxAmount: 500_000 });
  });
  afterAll(async () => t?.close());

  const ko = (body: { status?: number; code?: string; errors?: { path: string; message: string }[] }) =>
    describeProblem({ status: body.status ?? 400, ...body }, 'ko');

  it('has words for every field a request can carry (bodies, query and path parameters of the OpenAPI document)', async () => {
    const doc = (await api.call('GET', '/api/v1/openapi.json')).body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content?: Record<string, { schema?: unknown }> } }>>;
      components?: { schemas?: Record<string, unknown> };
    };
    const names = new Map<string, string>();
    type Schema = { $ref?: string; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[] };
    const walk = (schema: Schema | undefined, where: string, seen = new Set<Schema>()) => {
      if (!schema || seen.has(schema)) return;
      seen.add(schema);
      if (schema.$ref) walk(doc.components?.schemas?.[schema.$ref.split('/').at(-1)!] as Schema, where, seen);
      for (const [k, v] of Object.entries(schema.properties ?? {})) {
        names.set(k, where);
        walk(v, where, seen);
      }
      for (const sub of [schema.items, ...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) walk(sub, where, seen);
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const p of op.parameters ?? []) if (p.in !== 'header') names.set(p.name, `${method} ${path}`);
        walk(op.requestBody?.content?.['application/json']?.schema as Schema | undefined, `${method} ${path}`);
      }
    }
    // Parameters that are identifiers in the path answer 404, never a field error.
    for (const id of ['id', 'handle', 'userId']) names.delete(id);
    expect(names.size).toBeGreaterThan(10);
    const missing = [...names].filter(([name]) => !FIELDS[name]).map(([name, where]) => `${name} (${where})`);
    expect(missing, 'add these field names to FIELDS in web/src/problems.ts').toEqual([]);
  });

  it('the mission form: duration, amount and title bounds', async () => {
    const short = await api.call('POST', `/api/v1/channels/${handle}/missions`, viewer, { title: '노래', amount: 5000, durationSeconds: 5 });
    expect(short.status).toBe(400);
    expect(ko(short.body)).toEqual({ headline: '입력값을 확인해 주세요.', fields: ['진행 시간은 최소 1분입니다.'] });

    const long = await api.call('POST', `/api/v1/channels/${handle}/missions`, viewer, { title: 'x'.repeat(101), amount: 5000, durationSeconds: 600 });
    expect(ko(long.body).fields).toEqual(['제목은 최대 100자입니다.']);

    const empty = await api.call('POST', `/api/v1/channels/${handle}/missions`, viewer, { title: '  ', amount: 5000, durationSeconds: 600 });
    expect(ko(empty.body).fields).toEqual(['제목: 꼭 입력해 주세요.']);

    const fraction = await api.call('POST', `/api/v1/channels/${handle}/missions`, viewer, { title: '노래', amount: 1000.5, durationSeconds: 600 });
    expect(ko(fraction.body).fields).toEqual(['금액은 소수점 없는 숫자로 입력해 주세요.']);

    await api.charge(viewer, 600_000);
    const big = await api.call('POST', `/api/v1/channels/${handle}/missions`, viewer, { title: '노래', amount: 600_000, durationSeconds: 600 });
    expect(big.status).toBe(400);
    expect(ko(big.body).fields).toEqual(['금액은 1,000원에서 500,000원 사이여야 합니다.']);
  });

  it('money and points refusals', async () => {
    const poor = await api.signUp('Poor');
    const noCash = await api.call('POST', `/api/v1/channels/${handle}/missions`, poor, { title: '노래', amount: 5000, durationSeconds: 600 });
    expect(noCash.status).toBe(402);
    expect(ko(noCash.body).headline).toBe(CODE_TEXT.ko.INSUFFICIENT_FUNDS);
    const charge = await api.call('POST', '/api/v1/wallet/charges', poor, { amount: 500 });
    expect(ko(charge.body).fields).toEqual(['금액은 최소 1,000원입니다.']);
    await api.call('POST', '/api/v1/points/claim', poor);
    const again = await api.call('POST', '/api/v1/points/claim', poor);
    expect(ko(again.body).headline).toContain('한국 시간 자정');
  });

  it('sign-up, sign-in and channel forms', async () => {
    const weak = await api.call('POST', '/api/v1/auth/register', null, { email: 'not-an-email', password: 'short', displayName: '' });
    expect(new Set(ko(weak.body).fields)).toEqual(new Set(['이메일 형식이 올바르지 않습니다.', '비밀번호는 최소 10자입니다.', '이름: 꼭 입력해 주세요.']));
    const wrong = await api.call('POST', '/api/v1/auth/login', null, { email: 'nobody@example.kr', password: 'a long password' });
    expect(ko(wrong.body).headline).toBe('이메일 또는 비밀번호가 맞지 않습니다.');
    const badHandle = await api.call('POST', '/api/v1/channels', viewer, { handle: 'A!', displayName: 'x' });
    expect(ko(badHandle.body).fields).toEqual(['채널 핸들은 영문 소문자, 숫자, 밑줄로 3–24자입니다.']);
    const taken = await api.call('POST', '/api/v1/channels', viewer, { handle, displayName: 'x' });
    expect(ko(taken.body).headline).toBe(CODE_TEXT.ko.HANDLE_TAKEN);
    const settings = await api.call('PATCH', `/api/v1/channels/${handle}`, streamer, {
      settings: { missionMinAmount: 9000, missionMaxAmount: 8000, acceptWindowSeconds: 10, failureKeepBps: 6000 },
    });
    expect(new Set(ko(settings.body).fields)).toEqual(new Set(['수락 기한은 최소 1분입니다.', '실패 시 스트리머 몫은 최대 50%입니다.']));
    const order = await api.call('PATCH', `/api/v1/channels/${handle}`, streamer, { settings: { missionMinAmount: 9000, missionMaxAmount: 8000 } });
    expect(ko(order.body).fields).toEqual(['미션 최소 금액은 최대 금액보다 클 수 없습니다.']);
  });

  it('prediction form: points and side', async () => {
    const m = (await api.propose(viewer, handle, 5000, 600, '예측 미션')).body.mission;
    await api.call('POST', `/api/v1/missions/${m.id}/accept`, streamer);
    const zero = await api.call('POST', `/api/v1/missions/${m.id}/prediction/bets`, viewer, { side: 'SUCCEEDED', points: 0 });
    expect(ko(zero.body).fields).toEqual(['포인트는 최소 1P입니다.']);
    const side = await api.call('POST', `/api/v1/missions/${m.id}/prediction/bets`, viewer, { side: 'MAYBE', points: 10 });
    expect(ko(side.body).fields).toEqual(['예측 방향: 주어진 선택지 중에서 골라 주세요.']);
    const tooMany = await api.call('POST', `/api/v1/missions/${m.id}/prediction/bets`, viewer, { side: 'SUCCEEDED', points: 1_000_000 });
    expect(tooMany.status).toBe(402);
    expect(ko(tooMany.body).headline).toBe('포인트가 부족합니다.');
  });
});
