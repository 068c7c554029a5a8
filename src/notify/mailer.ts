import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable across resends, so mail clients fold a duplicate. */
  messageId: string;
}

export interface Mailer {
  readonly kind: string;
  send(mail: Mail): Promise<void>;
  close(): Promise<void>;
}

/** An error the mail server will answer the same way next time (bad address, 5xx). */
export class PermanentMailError extends Error {}

/** Sends through an SMTP server (SMTP_URL). */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp';
  private readonly transport;

  constructor(url: string, private readonly from: string) {
    this.transport = nodemailer.createTransport(url, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as never);
  }

  async send(mail: Mail): Promise<void> {
    try {
      await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      if (code !== undefined && code >= 500) throw new PermanentMailError((err as Error).message);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** Without SMTP_URL: each mail becomes an .eml file in DATA_DIR/mailbox/. */
export class MailboxMailer implements Mailer {
  readonly kind = 'mailbox';
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(private readonly dir: string, private readonly from: string) {}

  async send(mail: Mail): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const info = await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
    const name = mail.messageId.replace(/[<>]/g, '').replace(/[^\w.@-]/g, '_');
    // Named by Message-ID: a resend overwrites the same file.
    await writeFile(path.join(this.dir, `${name}.eml`), info.message as Buffer);
  }

  async close(): Promise<void> {}
}
