// The egress rules on their own: which addresses are public, what a URL must
// look like, and the connect-time lookup that refuses a name unless every
// one of its A/AAAA records is public.
import { describe, expect, it } from 'vitest';
import { checkUrl, EgressRefused, guardedLookup, isPublicAddress } from './egress.ts';

const strict = { allowLoopback: false };
const loopback = { allowLoopback: true };

describe('isPublicAddress', () => {
  it('takes global unicast only', () => {
    for (const a of ['93.184.215.14', '8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '[2606:4700::1111]']) expect(isPublicAddress(a), a).toBe(true);
    for (const a of [
      '127.0.0.1', '127.8.8.8', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '100.100.100.200',
      '0.0.0.0', '255.255.255.255', '224.0.0.1', '192.0.0.1', '198.18.0.1', '240.0.0.1',
      '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1',
      '64:ff9b::a00:1', '2002:a00:1::', '2001::1', 'not an address', '',
    ]) expect(isPublicAddress(a), a).toBe(false);
    expect(isPublicAddress('::ffff:8.8.8.8')).toBe(true);
  });
});

describe('checkUrl', () => {
  const resolver = (map: Record<string, string[]>) => async (host: string) => {
    const a = map[host];
    if (!a) throw new Error('ENOTFOUND');
    return a;
  };

  it('wants https and only public addresses, every record of the name', async () => {
    const dns = resolver({ 'hooks.example': ['93.184.215.14', '2606:4700::1111'], 'mixed.example': ['93.184.215.14', '10.0.0.1'], 'meta.example': ['169.254.169.254'] });
    await expect(checkUrl('https://hooks.example/x', strict, dns)).resolves.toBeInstanceOf(URL);
    for (const url of ['http://hooks.example/x', 'https://mixed.example/x', 'https://meta.example/', 'https://nowhere.example/', 'https://a:b@hooks.example/', 'https://127.0.0.1/', 'http://127.0.0.1:8080/', 'javascript:alert(1)', '//hooks.example']) {
      await expect(checkUrl(url, strict, dns), url).rejects.toBeInstanceOf(EgressRefused);
    }
  });

  it('lets http(s)://127.0.0.1 through only with loopback allowed', async () => {
    const dns = resolver({ localhost: ['127.0.0.1'] });
    await expect(checkUrl('http://127.0.0.1:8080/hook', loopback, dns)).resolves.toBeInstanceOf(URL);
    await expect(checkUrl('https://127.0.0.1:8080/hook', loopback, dns)).resolves.toBeInstanceOf(URL);
    for (const url of ['http://localhost:8080/', 'https://localhost/', 'http://127.0.0.2/', 'http://[::1]:8080/', 'https://10.0.0.1/']) {
      await expect(checkUrl(url, loopback, dns), url).rejects.toBeInstanceOf(EgressRefused);
    }
  });
});

describe('guardedLookup', () => {
  const look = (policy: { allowLoopback: boolean }, host: string, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
      guardedLookup(policy)(host, { all }, (err, address) => resolve({ err, address })),
    );

  it('refuses a name that resolves to a loopback address, even with loopback allowed', async () => {
    for (const all of [false, true]) {
      for (const policy of [strict, loopback]) {
        const { err } = await look(policy, 'localhost', all);
        expect(err?.code).toBe('EGRESS_REFUSED');
      }
    }
  });
});
