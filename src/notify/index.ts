export { Notifier, mailCounts, type AddressBook, type NotifierHooks } from './worker.ts';
export { SmtpMailer, MailboxMailer, PermanentMailError, type Mailer, type Mail } from './mailer.ts';
export { resultMail, verificationMail, webhookDisabledMail } from './templates.ts';
