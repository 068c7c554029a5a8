// Egress to webhook endpoints: only to public addresses. A URL is checked
// when it is registered, and every connection is checked again when it is
// made (the name may resolve elsewhere by then: DNS rebinding), by a lookup
// on the HTTP agent that refuses the connection unless every A/AAAA record of
// the name is public. No redirect is followed, a response is read only as far
// as a short excerpt, and the whole exchange has a deadline.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why a URL or an address is refused; the message is safe to show its owner. */
export class EgressRefused extends Error {}

/**
 * True for an address a webhook may be sent to: global unicast only, so no
 * private, loopback, link-local (169.254.169.254, the cloud metadata address,
 * is one), unique-local (fd00:ec2::254), carrier-grade NAT (100.100.100.200),
 * multicast, reserved, unspecified or translated (NAT64, 6to4, Teredo)
 * address; an IPv4-mapped IPv6 address counts as its IPv4 address.
 * @example isPublicAddress('93.184.215.14') // true; isPublicAddress('10.0.0.1') // false
 */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  if (!ipaddr.isValid(bare)) return false;
  let ip = ipaddr.parse(bare);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === 'unicast';
}

export interface EgressPolicy {
  /** WEBHOOK_ALLOW_LOOPBACK=1: `http(s)://127.0.0.1:<port>/…` is allowed too (tests, demos). */
  allowLoopback: boolean;
}

const LOOPBACK = '127.0.0.1';

/** Whether `address`, reached for `host` (the URL's host name), may be connected to. */
function addressAllowed(address: string, host: string, policy: EgressPolicy): boolean {
  if (isPublicAddress(address)) return true;
  return policy.allowLoopback && host === LOOPBACK && address === LOOPBACK;
}

/** The URL's host without the brackets of an IPv6 literal. */
const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/**
 * Checks a URL's shape: https (or http to 127.0.0.1 when loopback is
 * allowed), no credentials in it. Throws EgressRefused.
 */
export function checkUrlShape(raw: string, policy: EgressPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EgressRefused('The URL is not valid');
  }
  const host = hostOf(url);
  const loopback = policy.allowLoopback && host === LOOPBACK;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new EgressRefused('The URL must use https');
  if (url.username || url.password) throw new EgressRefused('The URL must not hold credentials');
  return url;
}

type Resolver = (host: string) => Promise<string[]>;

/** How long a registration waits for DNS before it refuses the URL. */
const RESOLVE_TIMEOUT_MS = 5_000;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('DNS timeout')), RESOLVE_TIMEOUT_MS);
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(addresses.map((a) => a.address));
    });
  });

/**
 * Checks a URL for registration: its shape, then every address its host
 * resolves to (an IP literal is its own address). Throws EgressRefused.
 * @example await checkUrl('https://hooks.example.com/ml', { allowLoopback: false });
 */
export async function checkUrl(raw: string, policy: EgressPolicy, resolve: Resolver = systemResolver): Promise<URL> {
  const url = checkUrlShape(raw, policy);
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new EgressRefused(`The host ${host} does not resolve`);
    }
  }
  if (addresses.length === 0) throw new EgressRefused(`The host ${host} does not resolve`);
  if (!addresses.every((a) => addressAllowed(a, host, policy))) throw new EgressRefused('The URL resolves to a private, loopback or link-local address');
  return url;
}

/**
 * A `lookup` for sockets that resolves every A/AAAA record of a name and
 * fails unless all of them may be reached: what is checked is what is
 * connected to, at connect time.
 */
export function guardedLookup(policy: EgressPolicy): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      const refused = list.length === 0 || !list.every((a) => addressAllowed(a.address, hostname, policy));
      if (refused) {
        const e: NodeJS.ErrnoException = new EgressRefused(`${hostname} resolves to an address webhooks may not reach`);
        e.code = 'EGRESS_REFUSED';
        return callback(e, '', 0);
      }
      if (options.all) return callback(null, list);
      const first = options.family ? (list.find((a) => a.family === options.family) ?? list[0]!) : list[0]!;
      return callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}

export interface PostResult {
  /** The HTTP status, when an answer came. */
  status?: number;
  /** At most EXCERPT_BYTES of the answer's body. */
  excerpt?: string;
  /** Why no answer came (timeout, refused address, connection error). */
  error?: string;
  ms: number;
}

/** How much of an answer is kept: enough to see an error message. */
export const EXCERPT_BYTES = 512;

/**
 * POSTs `body` to `url` with `headers`, once: no redirect is followed (a 3xx
 * is an answer like any other), the connection only goes to an allowed
 * address, and everything (connect, send, answer) must finish in `timeoutMs`.
 * Never throws.
 */
export class Egress {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(private readonly policy: EgressPolicy, private readonly timeoutMs = 10_000) {
    const lookup = guardedLookup(policy);
    // No keep-alive: each delivery resolves and checks its address afresh.
    this.agents = { http: new http.Agent({ lookup, keepAlive: false }), https: new https.Agent({ lookup, keepAlive: false }) };
  }

  async post(raw: string, headers: Record<string, string>, body: string): Promise<PostResult> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = checkUrlShape(raw, this.policy);
      // An IP literal is connected to without a lookup: checked here.
      const host = hostOf(url);
      if (isIP(host) && !addressAllowed(host, host, this.policy)) throw new EgressRefused('The URL points at an address webhooks may not reach');
    } catch (err) {
      return { error: (err as Error).message, ms: ms() };
    }
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<PostResult>((resolve) => {
      let done = false;
      const finish = (r: Omit<PostResult, 'ms'>) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...r, ms: ms() });
      };
      const req = client.request(url, {
        method: 'POST',
        agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      });
      const timer = setTimeout(() => {
        finish({ error: `no answer within ${this.timeoutMs / 1000} s` });
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code === 'EGRESS_REFUSED' ? err.message : `${err.code ?? 'error'}: ${err.message}`.slice(0, 300) }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const end = () => {
          finish({ status: res.statusCode, excerpt: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/\uFFFD+$/, '') });
          res.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          if (size >= EXCERPT_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
          // Enough read: the rest of the body is not wanted.
          if (size >= EXCERPT_BYTES) end();
        });
        res.on('end', end);
        res.on('error', end);
        res.on('close', end);
      });
      req.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
