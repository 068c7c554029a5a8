import { useCallback, useRef, useState } from 'react';
import { api, reloadMe } from '../api.ts';
import { PageTitle } from '../components/Layout.tsx';
import { ProblemMessage, Spinner, StateBadge, SuccessMessage } from '../components/ui.tsx';
import { dateTime, won } from '../format.ts';
import { useAction, usePolling, useSession, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import { Link } from '../router.tsx';
import type { MyPledge, Page } from '../types.ts';

/** The signed-in user's address: whether it is verified, and a button that mails the link. */
function AccountCard() {
  const t = useT();
  const me = useSession().me;
  const send = useAction();
  // Verified in another tab (the mail's link opens one): pick it up when this one is looked at again.
  usePolling(() => reloadMe(), 10_000, Boolean(me && !me.emailVerified));
  if (!me) return null;
  return (
    <section className="card" aria-labelledby="account-title" data-testid="account">
      <h2 id="account-title">{t.account.title}</h2>
      <dl className="pledge-facts">
        <div>
          <dt>{t.account.email}</dt>
          <dd className="account-email">
            {me.email}{' '}
            <span
              className={`badge ${me.emailVerified ? 'badge-verified' : 'badge-unverified'}`}
              data-testid="email-status"
            >
              {me.emailVerified ? t.account.verified : t.account.unverified}
            </span>
          </dd>
        </div>
      </dl>
      {me.emailVerified ? (
        <p className="muted">{t.account.verifiedNote}</p>
      ) : (
        <>
          <p className="muted">{t.account.unverifiedNote}</p>
          <SuccessMessage>{send.done}</SuccessMessage>
          <ProblemMessage error={send.error} />
          <button
            type="button"
            className="button button-primary"
            disabled={send.busy}
            onClick={() =>
              void send.run(async () => {
                await api('POST', '/api/v1/auth/email-verification');
                return t.account.sent(me.email);
              })
            }
          >
            {send.busy ? t.account.sending : send.done ? t.account.resend : t.account.send}
          </button>
        </>
      )}
    </section>
  );
}

export function MePage() {
  const t = useT();
  const lang = useLang();
  useTitle(t.me.title);
  const [items, setItems] = useState<MyPledge[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const more = useAction();

  // The newest page replaces its rows (outcomes change until settled);
  // older pages stay as loaded.
  const refresh = useCallback(async () => {
    try {
      const page = await api<Page<MyPledge>>('GET', '/api/v1/me/pledges?limit=20');
      const fresh = new Map(page.items.map((p) => [p.pledgeId, p]));
      const old = itemsRef.current;
      const kept = old.filter((p) => !fresh.has(p.pledgeId));
      if (old.length === 0 || kept.length === old.length) {
        setItems(page.items);
        setCursor(page.nextCursor);
      } else {
        setItems([
          ...page.items,
          ...kept.filter((p) => p.createdAt < (page.items.at(-1)?.createdAt ?? '')),
        ]);
      }
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoaded(true);
    }
  }, []);
  // Outcomes arrive by settlement: poll while anything is unsettled.
  const unsettled = !loaded || items.some((p) => !p.mission.settledAt);
  usePolling(refresh, unsettled ? 2000 : 10_000);

  return (
    <>
      <PageTitle>{t.me.title}</PageTitle>
      <p className="lead">{t.me.lead}</p>
      <AccountCard />
      <ProblemMessage error={error} />
      {!loaded ? (
        <Spinner label={t.common.loading} />
      ) : items.length === 0 ? (
        <p className="muted">{t.me.empty}</p>
      ) : (
        <ul className="pledge-list">
          {items.map((p) => (
            <li
              key={p.pledgeId}
              className="card pledge-item"
              data-pledge-id={p.pledgeId}
              data-mission-id={p.mission.id}
            >
              <div className="pledge-head">
                <h2 className="pledge-title">{p.mission.title}</h2>
                <StateBadge state={p.mission.state} />
              </div>
              <p className="muted">
                <Link to={`/c/${p.mission.channel}`}>@{p.mission.channel}</Link> ·{' '}
                {dateTime(p.createdAt, lang)}
              </p>
              <dl className="pledge-facts">
                <div>
                  <dt>{t.me.myPledge}</dt>
                  <dd data-testid="pledge-amount">{won(p.amount)}</dd>
                </div>
                <div>
                  <dt>{t.me.captured}</dt>
                  <dd data-testid="pledge-captured">{won(p.capturedAmount)}</dd>
                </div>
                <div>
                  <dt>{t.me.refunded}</dt>
                  <dd data-testid="pledge-refunded">{won(p.refundedAmount)}</dd>
                </div>
                <div>
                  <dt>{t.me.state}</dt>
                  <dd data-testid="pledge-status">
                    {t.me.status[p.status] ?? p.status}
                    {p.mission.settledAt
                      ? ''
                      : p.mission.state !== 'PROPOSED' && p.mission.state !== 'ACTIVE'
                        ? ` · ${t.channel.settling}`
                        : ''}
                  </dd>
                </div>
              </dl>
            </li>
          ))}
        </ul>
      )}
      <ProblemMessage error={more.error} />
      {cursor && (
        <button
          type="button"
          className="button button-secondary"
          disabled={more.busy}
          onClick={() =>
            void more.run(async () => {
              const page = await api<Page<MyPledge>>(
                'GET',
                `/api/v1/me/pledges?limit=20&cursor=${encodeURIComponent(cursor)}`,
              );
              setItems((old) => {
                const seen = new Set(old.map((p) => p.pledgeId));
                return [...old, ...page.items.filter((p) => !seen.has(p.pledgeId))];
              });
              setCursor(page.nextCursor);
            })
          }
        >
          {t.common.loadMore}
        </button>
      )}
    </>
  );
}
