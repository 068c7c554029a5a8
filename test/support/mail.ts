// Reading the mails MissionLink really sent (to the SMTP sink, or as .eml
// files in DATA_DIR/mailbox/), and driving the verified-email endpoints with
// the link such a mail carries — what a person does, no table touched.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../src/platform/http.ts';
import { eventually, type Caller } from './api.ts';
import type { SmtpSink } from './smtp-sink.ts';

/** Where a test reads sent mail from: an SMTP sink, or a MailboxMailer's directory. */
export type MailSource = SmtpSink | { mailboxDir: string };

/** Every raw message the source holds (a sink's in arrival order; a mailbox's by file name). */
export async function rawMails(source: MailSource): Promise<string[]> {
  if ('mails' in source) return source.mails.map((m) => m.raw);
  const files = (await readdir(source.mailboxDir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml')).sort();
  return Promise.all(files.map((f) => readFile(path.join(source.mailboxDir, f), 'utf8')));
}

// ---- just enough MIME to read what a person would see ---------------------------

function splitMessage(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = (at < 0 ? raw : raw.slice(0, at)).replace(/\r?\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { headers, body: at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '') };
}

function qpBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(out);
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') return qpBytes(body.replace(/=\r?\n/g, '')).toString('utf8');
  return body;
}

/** A header of a raw message, RFC 2047 encoded words decoded. */
export function mailHeader(raw: string, name: string): string {
  const value = splitMessage(raw).headers.get(name.toLowerCase()) ?? '';
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : qpBytes(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

/** The text/plain content of a (possibly multipart) message; '' when it has none. */
export function plainText(raw: string): string {
  const { headers, body } = splitMessage(raw);
  const type = headers.get('content-type') ?? 'text/plain';
  if (/^text\/html/i.test(type)) return '';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!/^multipart\//i.test(type) || !boundary) return decodeBody(body, headers.get('content-transfer-encoding'));
  for (const part of body.split(`--${boundary}`).slice(1)) {
    if (part.startsWith('--')) break;
    const text = plainText(part.replace(/^\r?\n/, ''));
    if (text) return text;
  }
  return '';
}

const LINK = /(\S*)\/verify-email\?token=([A-Za-z0-9_-]+)/;

/** The verification link of a mail's text/plain part, if it has one. */
export function verificationLink(raw: string): { url: string; token: string } | undefined {
  const m = LINK.exec(plainText(raw));
  return m ? { url: m[0], token: m[2]! } : undefined;
}

/** Raw verification mails to `email`. */
export async function verificationMails(source: MailSource, email: string): Promise<string[]> {
  const to = email.toLowerCase();
  return (await rawMails(source)).filter((raw) => mailHeader(raw, 'To').toLowerCase().includes(to) && verificationLink(raw));
}

const tokensTo = async (source: MailSource, email: string) =>
  (await verificationMails(source, email)).map((raw) => verificationLink(raw)!.token);

/**
 * Asks for a verification mail as `who`, waits for it to arrive, and returns
 * its token (a token no earlier mail to that address carried, so a second
 * request's mail is told from the first's).
 * @example const token = await requestVerification(t.ml.http, mailboxOf(t), alice);
 */
export async function requestVerification(http: App, source: MailSource, who: Caller, ms = 15_000): Promise<string> {
  const known = new Set(await tokensTo(source, who.email));
  const res = await http.inject({ method: 'POST', url: '/api/v1/auth/email-verification', headers: { authorization: `Bearer ${who.token}` } });
  if (res.statusCode !== 202) throw new Error(`email-verification: ${res.statusCode} ${res.body}`);
  return eventually(async () => (await tokensTo(source, who.email)).find((token) => !known.has(token)), ms);
}

/**
 * Verifies `who`'s address the way its owner would: asks for the mail, reads
 * the link from the mail that really arrived, and confirms its token.
 * @example await verifyEmail(t.ml.http, mailboxOf(t), admin);
 */
export async function verifyEmail(http: App, source: MailSource, who: Caller): Promise<void> {
  const token = await requestVerification(http, source, who);
  const res = await http.inject({
    method: 'POST',
    url: '/api/v1/auth/email-verification/confirm',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ token }),
  });
  if (res.statusCode !== 204) throw new Error(`email-verification/confirm: ${res.statusCode} ${res.body}`);
}

/** The mailbox directory of a test app that has no SMTP_URL. */
export const mailboxOf = (t: { dataDir: string }): MailSource => ({ mailboxDir: path.join(t.dataDir, 'mailbox') });
