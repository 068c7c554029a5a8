import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newPrivateJwk } from '../identity/keys.ts';
import { ConfigError, loadConfig, usesEmbeddedDatabase } from './config.ts';

/** The problems loadConfig reports for `env`, or [] when it accepts it. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      DATA_DIR: './.missionlink',
      ROLES: ['api', 'settlement', 'notifier', 'sweeper', 'webhooks'],
      MAIL_FROM: 'MissionLink <no-reply@missionlink.local>',
      PLATFORM_FEE_BPS: 500,
      ADMIN_EMAILS: [],
      MIN_WINDOW_SECONDS: 60,
    });
    expect(c.dataDir).toBe(path.resolve('./.missionlink'));
    expect(usesEmbeddedDatabase(c)).toBe(true);
  });

  it('lets webhooks reach 127.0.0.1 only with WEBHOOK_ALLOW_LOOPBACK=1', () => {
    expect(loadConfig({}).WEBHOOK_ALLOW_LOOPBACK).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_LOOPBACK: '1' }).WEBHOOK_ALLOW_LOOPBACK).toBe(true);
    expect(loadConfig({ WEBHOOK_ALLOW_LOOPBACK: '0' }).WEBHOOK_ALLOW_LOOPBACK).toBe(false);
    expect(loadConfig({ ROLES: 'webhooks' }).ROLES).toEqual(['webhooks']);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', ROLES: '', PLATFORM_FEE_BPS: '', SMTP_URL: '' })).toMatchObject({ PORT: 8080, PLATFORM_FEE_BPS: 500 });
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ PATH: '/bin', SOMETHING_ELSE: 'x' })).not.toThrow();
  });

  it('reads good values', async () => {
    const key = await newPrivateJwk();
    const c = loadConfig({
      PORT: ' 9090 ',
      HOST: '0.0.0.0',
      DATA_DIR: 'data/ml',
      DATABASE_URL_IDENTITY: 'postgres://u:p@db:5432/identity',
      DATABASE_URL_FUNDING: 'postgresql://u:p@db/funding',
      NATS_URL: 'nats://nats:4222',
      ROLES: ' api , sweeper,api ',
      SIGNING_KEYS: JSON.stringify([key]),
      PAYMENT_WEBHOOK_SECRET: 'a-secret-of-enough-length',
      SMTP_URL: 'smtps://user:pass@mail.example.kr:465',
      PLATFORM_FEE_BPS: '0',
      IDENTITY_URL: 'https://api.internal:8080',
      ADMIN_EMAILS: ' Ops@Example.KR ,second@example.kr,',
      MIN_WINDOW_SECONDS: '1',
      LOG_LEVEL: 'warn',
    });
    expect(c).toMatchObject({
      PORT: 9090,
      ROLES: ['api', 'sweeper'],
      PLATFORM_FEE_BPS: 0,
      ADMIN_EMAILS: ['ops@example.kr', 'second@example.kr'],
      MIN_WINDOW_SECONDS: 1,
      dataDir: path.resolve('data/ml'),
    });
    expect(usesEmbeddedDatabase(c)).toBe(false);
    expect(loadConfig({ ROLES: 'all,api' }).ROLES).toEqual(['api', 'settlement', 'notifier', 'sweeper', 'webhooks']);
    expect(loadConfig({ PLATFORM_FEE_BPS: '10000', PORT: '0' })).toMatchObject({ PLATFORM_FEE_BPS: 10000, PORT: 0 });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['PORT', '1e3'],
    ['PORT', '0x1f90'],
    ['PORT', '   '],
    ['ROLES', 'foo'],
    ['ROLES', 'api,foo'],
    ['ROLES', ' , '],
    ['ROLES', 'API'],
    ['PLATFORM_FEE_BPS', '-1'],
    ['PLATFORM_FEE_BPS', '10001'],
    ['PLATFORM_FEE_BPS', '5.5'],
    ['PLATFORM_FEE_BPS', 'five'],
    ['MIN_WINDOW_SECONDS', '0'],
    ['MIN_WINDOW_SECONDS', '604801'],
    ['SMTP_URL', 'http://x'],
    ['SMTP_URL', 'mail.example.kr:25'],
    ['NATS_URL', 'http://nats:4222'],
    ['DATABASE_URL_IDENTITY', 'mysql://db/identity'],
    ['DATABASE_URL_FUNDING', 'not a url'],
    ['WEBHOOK_ALLOW_LOOPBACK', 'yes'],
    ['WEBHOOK_ALLOW_LOOPBACK', 'true'],
    ['IDENTITY_URL', 'not a url'],
    ['IDENTITY_URL', 'ftp://api.internal'],
    ['IDENTITY_URL', 'javascript:alert(1)'],
    ['ADMIN_EMAILS', 'ops@example.kr;admin@example.kr'],
    ['ADMIN_EMAILS', 'ops'],
    ['PAYMENT_WEBHOOK_SECRET', 'short'],
    ['MAIL_FROM', 'x'],
    ['LOG_LEVEL', 'loud'],
    ['SIGNING_KEYS', '[]'],
    ['SIGNING_KEYS', '{'],
    ['SIGNING_KEYS', '{"kty":"OKP"}'],
    ['SIGNING_KEYS', '[{"kty":"RSA","kid":"a","d":"x","x":"y"}]'],
    ['SIGNING_KEYS', '[{"kty":"OKP","crv":"Ed25519","x":"y","kid":"a"}]'],
    ['SIGNING_KEYS', '[null]'],
  ])('rejects %s=%j, naming the variable', (name, value) => {
    const found = problems({ [name]: value });
    expect(found).not.toEqual([]);
    expect(found.every((p) => p.startsWith(`${name}: `)), found.join('; ')).toBe(true);
  });

  it('rejects signing keys that share a kid', async () => {
    const key = await newPrivateJwk();
    const other = await newPrivateJwk();
    expect(problems({ SIGNING_KEYS: JSON.stringify([key, { ...other, kid: key.kid }]) })[0]).toMatch(/^SIGNING_KEYS: /);
  });

  it('reports every bad variable at once, in a message that names them', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', ROLES: 'foo', PLATFORM_FEE_BPS: '-1', SMTP_URL: 'http://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems: list, message } = error as ConfigError;
    expect(list.map((p) => p.split(':')[0]).sort()).toEqual(['PLATFORM_FEE_BPS', 'PORT', 'ROLES', 'SMTP_URL']);
    for (const name of ['PORT', 'ROLES', 'PLATFORM_FEE_BPS', 'SMTP_URL']) expect(message).toContain(name);
  });

  it('never echoes a secret it rejects', () => {
    const secret = 'tiny';
    expect(problems({ PAYMENT_WEBHOOK_SECRET: secret }).join()).not.toContain(secret);
    const keys = '[{"kty":"OKP","crv":"Ed25519","d":"c2VjcmV0LXNjYWxhcg","x":"y"}]';
    expect(problems({ SIGNING_KEYS: keys }).join()).not.toContain('c2VjcmV0LXNjYWxhcg');
  });
});
