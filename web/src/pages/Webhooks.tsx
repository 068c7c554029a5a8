// Studio › Webhooks: a channel owner's outbound webhook endpoints. Add one
// (its secret is shown once), send a test event, see the delivery attempts,
// delete it.
import { useCallback, useEffect, useId, useState } from 'react';
import { api } from '../api.ts';
import { PageTitle } from '../components/Layout.tsx';
import {
  ConfirmDialog,
  Field,
  ProblemMessage,
  Spinner,
  SuccessMessage,
  TextField,
} from '../components/ui.tsx';
import { dateTime } from '../format.ts';
import { useAction, usePolling, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import { Link } from '../router.tsx';
import type { Me, Page } from '../types.ts';

/** The event types an endpoint may ask for (API.md, "Outbound webhooks"). */
const EVENT_TYPES = [
  'mission.proposed',
  'mission.accepted',
  'mission.progress',
  'mission.decided',
  'mission.settled',
  'pledge.created',
  'withdrawal.updated',
] as const;
type EventType = (typeof EVENT_TYPES)[number];

interface Webhook {
  id: string;
  url: string;
  events: EventType[];
  status: 'active' | 'disabled';
  createdAt: string;
}

interface Attempt {
  eventId: string;
  type: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  responseStatus: number | null;
  at: string;
  error: string | null;
  responseExcerpt: string | null;
  durationMs: number;
}

export function WebhooksPage({ me }: { me: Me }) {
  const t = useT();
  useTitle(t.webhooks.title);
  if (!me.channel) {
    return (
      <>
        <PageTitle>{t.webhooks.title}</PageTitle>
        <p>
          {t.webhooks.noChannel} <Link to="/studio">{t.nav.studio}</Link>
        </p>
      </>
    );
  }
  return <Webhooks key={me.channel} handle={me.channel} />;
}

function Webhooks({ handle }: { handle: string }) {
  const t = useT();
  const base = `/api/v1/channels/${handle}/webhooks`;
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [removing, setRemoving] = useState<Webhook | null>(null);
  const act = useAction();

  const load = useCallback(async () => {
    try {
      setHooks((await api<Page<Webhook>>('GET', `${base}?limit=100`)).items);
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }, [base]);
  useEffect(() => {
    void load();
  }, [load]);

  const remove = (w: Webhook) =>
    act.run(async () => {
      await api('DELETE', `${base}/${w.id}`);
      setRemoving(null);
      if (secret?.url === w.url) setSecret(null);
      await load();
      return t.webhooks.deleted;
    });

  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle>{t.webhooks.title}</PageTitle>
          <p className="handle">
            <Link to="/studio">{t.nav.studio}</Link> · @{handle}
          </p>
        </div>
      </div>
      <p>{t.webhooks.lead}</p>

      <ProblemMessage error={act.error} />
      <SuccessMessage>{act.done}</SuccessMessage>

      {secret && (
        <SecretOnce url={secret.url} secret={secret.secret} onDone={() => setSecret(null)} />
      )}

      <AddWebhook
        base={base}
        onAdded={(w) => {
          setSecret({ url: w.url, secret: w.secret });
          act.reset();
          void load();
        }}
      />

      <section className="section" aria-labelledby="hooks-h">
        <h2 id="hooks-h">{t.webhooks.listTitle}</h2>
        <ProblemMessage error={loadError} />
        {!hooks ? (
          <Spinner label={t.common.loading} />
        ) : hooks.length === 0 ? (
          <p className="muted">{t.webhooks.empty}</p>
        ) : (
          <div className="webhooks">
            {hooks.map((w) => (
              <WebhookCard
                key={w.id}
                base={base}
                hook={w}
                onDelete={() => setRemoving(w)}
                busy={act.busy}
              />
            ))}
          </div>
        )}
      </section>

      <ConfirmDialog
        open={Boolean(removing)}
        title={t.webhooks.confirmDelete}
        text={removing ? t.webhooks.confirmDeleteText(removing.url) : ''}
        confirmLabel={t.webhooks.delete}
        danger
        busy={act.busy}
        onConfirm={() => removing && void remove(removing)}
        onCancel={() => setRemoving(null)}
      />
    </>
  );
}

function AddWebhook({
  base,
  onAdded,
}: {
  base: string;
  onAdded: (w: Webhook & { secret: string }) => void;
}) {
  const t = useT();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<Set<EventType>>(
    new Set(['mission.proposed', 'mission.decided', 'pledge.created']),
  );
  const [checked, setChecked] = useState(false);
  const act = useAction();
  const legendId = useId();
  const urlError = checked && !/^https?:\/\/\S+$/i.test(url.trim()) ? t.webhooks.errUrl : null;
  const eventsError = checked && events.size === 0 ? t.webhooks.errEvents : null;

  const submit = () => {
    setChecked(true);
    if (!/^https?:\/\/\S+$/i.test(url.trim()) || events.size === 0) return;
    void act.run(async () => {
      const { webhook } = await api<{ webhook: Webhook & { secret: string } }>('POST', base, {
        body: { url: url.trim(), events: EVENT_TYPES.filter((e) => events.has(e)) },
      });
      setUrl('');
      setChecked(false);
      onAdded(webhook);
    });
  };

  return (
    <section className="card section" aria-labelledby="add-h">
      <h2 id="add-h">{t.webhooks.addTitle}</h2>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <TextField
          label={t.webhooks.url}
          hint={t.webhooks.urlHint}
          error={urlError}
          value={url}
          onChange={setUrl}
          type="url"
          inputMode="url"
          autoComplete="url"
          placeholder="https://"
          required
        />
        <fieldset aria-describedby={eventsError ? `${legendId}-err` : undefined}>
          <legend id={legendId}>{t.webhooks.events}</legend>
          <div className="webhook-events">
            {EVENT_TYPES.map((e) => (
              <label key={e} className="radio">
                <input
                  type="checkbox"
                  checked={events.has(e)}
                  onChange={(ev) => {
                    const next = new Set(events);
                    if (ev.target.checked) next.add(e);
                    else next.delete(e);
                    setEvents(next);
                  }}
                />
                <span>
                  {t.webhooks.eventNames[e]} <code>{e}</code>
                </span>
              </label>
            ))}
          </div>
          {eventsError && (
            <p className="field-error" id={`${legendId}-err`}>
              {eventsError}
            </p>
          )}
        </fieldset>
        <ProblemMessage error={act.error} />
        <button type="submit" className="button button-primary" disabled={act.busy}>
          {act.busy ? t.webhooks.adding : t.webhooks.add}
        </button>
      </form>
    </section>
  );
}

/** The new endpoint's secret: shown this once, with a way to copy it. */
function SecretOnce({ url, secret, onDone }: { url: string; secret: string; onDone: () => void }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  return (
    <section className="card section secret-once" aria-labelledby="secret-h" role="status">
      <h2 id="secret-h">{t.webhooks.secretTitle}</h2>
      <p>{t.webhooks.secretText(url)}</p>
      <Field label={t.webhooks.secret} hint={t.webhooks.secretHint}>
        {({ id, describedBy }) => (
          <div className="inline-form">
            <input
              id={id}
              readOnly
              value={secret}
              aria-describedby={describedBy}
              onFocus={(e) => e.target.select()}
              data-testid="webhook-secret"
            />
            <button
              type="button"
              className="button button-secondary"
              onClick={() => {
                void navigator.clipboard?.writeText(secret).then(() => {
                  setCopied(true);
                  setTimeout(() => setCopied(false), 2000);
                });
              }}
            >
              {copied ? t.common.copied : t.common.copy}
            </button>
          </div>
        )}
      </Field>
      <button type="button" className="button button-ghost" onClick={onDone}>
        {t.webhooks.secretSaved}
      </button>
    </section>
  );
}

function WebhookCard({
  base,
  hook,
  onDelete,
  busy,
}: {
  base: string;
  hook: Webhook;
  onDelete: () => void;
  busy: boolean;
}) {
  const t = useT();
  const lang = useLang();
  const [open, setOpen] = useState(false);
  const [attempts, setAttempts] = useState<Attempt[] | null>(null);
  const act = useAction();
  const logId = useId();

  const loadAttempts = useCallback(async () => {
    setAttempts((await api<Page<Attempt>>('GET', `${base}/${hook.id}/deliveries?limit=20`)).items);
  }, [base, hook.id]);
  usePolling(loadAttempts, 3000, open);

  const test = () =>
    act.run(async () => {
      await api('POST', `${base}/${hook.id}/test`);
      setOpen(true);
      setTimeout(() => void loadAttempts().catch(() => undefined), 1000);
      return t.webhooks.testSent;
    });

  return (
    <article className="card webhook" aria-label={hook.url}>
      <p className="webhook-url">
        <code>{hook.url}</code>{' '}
        <span className={`badge ${hook.status === 'active' ? 'badge-active' : 'badge-failed'}`}>
          {hook.status === 'active' ? t.webhooks.active : t.webhooks.disabled}
        </span>
      </p>
      {hook.status === 'disabled' && <p className="muted">{t.webhooks.disabledText}</p>}
      <p className="muted">
        {hook.events.map((e) => t.webhooks.eventNames[e]).join(', ')} ·{' '}
        {t.webhooks.created(dateTime(hook.createdAt, lang))}
      </p>
      <ProblemMessage error={act.error} />
      <SuccessMessage>{act.done}</SuccessMessage>
      <div className="button-row">
        <button
          type="button"
          className="button button-secondary"
          disabled={act.busy}
          onClick={() => void test()}
        >
          {t.webhooks.test}
        </button>
        <button
          type="button"
          className="button button-secondary"
          aria-expanded={open}
          aria-controls={logId}
          onClick={() => setOpen(!open)}
        >
          {open ? t.webhooks.hideAttempts : t.webhooks.showAttempts}
        </button>
        <button type="button" className="button button-danger" disabled={busy} onClick={onDelete}>
          {t.webhooks.delete}
        </button>
      </div>
      <div id={logId} hidden={!open}>
        {open && (
          <>
            <h3>{t.webhooks.attemptsTitle}</h3>
            {!attempts ? (
              <Spinner label={t.common.loading} />
            ) : attempts.length === 0 ? (
              <p className="muted">{t.webhooks.noAttempts}</p>
            ) : (
              <ul className="webhook-attempts">
                {attempts.map((a) => (
                  <li key={`${a.eventId}:${a.attempt}`}>
                    <span
                      className={`badge ${a.status === 'succeeded' ? 'badge-active' : 'badge-failed'}`}
                    >
                      {a.status === 'succeeded' ? t.webhooks.succeeded : t.webhooks.failed}
                    </span>{' '}
                    <code>{a.type}</code> · {t.webhooks.attempt(a.attempt)} ·{' '}
                    {a.responseStatus !== null ? `HTTP ${a.responseStatus}` : t.webhooks.noAnswer} ·{' '}
                    {a.durationMs.toLocaleString()} ms ·{' '}
                    <time dateTime={a.at}>{dateTime(a.at, lang)}</time>
                    {a.error && <span className="webhook-detail">{a.error}</span>}
                    {a.responseExcerpt && (
                      <span className="webhook-detail">{a.responseExcerpt}</span>
                    )}
                    <span className="webhook-detail muted">
                      {t.webhooks.eventId} <code>{a.eventId}</code>
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
    </article>
  );
}
