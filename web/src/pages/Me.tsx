import { useCallback, useId, useMemo, useRef, useState } from 'react';
import { api, ApiError, reloadMe } from '../api.ts';
import { EmptyState } from '../components/EmptyState.tsx';
import { PageTitle } from '../components/Layout.tsx';
import { ProblemMessage, Spinner, StateBadge, SuccessMessage } from '../components/ui.tsx';
import { dateTime, won } from '../format.ts';
import { useAction, usePolling, useSession, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import { Link } from '../router.tsx';
import { OnFailureChoice } from '../components/Terms.tsx';
import { groupByMission, type MissionGroup } from '../my-missions.ts';
import type { MyPledge, OnFailure, Page } from '../types.ts';

/** The choice on failure of one pledge, changeable while its mission is open. */
function OnFailureToggle({
  pledge: p,
  onChanged,
}: {
  pledge: MyPledge;
  onChanged(v: OnFailure): void;
}) {
  const t = useT();
  const action = useAction();
  // The choice being saved shows at once; the list's own value follows the answer.
  const [want, setWant] = useState<OnFailure | null>(null);
  const open = p.mission.state === 'PROPOSED' || p.mission.state === 'ACTIVE';
  const notOpen = action.error instanceof ApiError && action.error.code === 'MISSION_NOT_OPEN';
  if (!open && !action.error) {
    return (
      <p className="muted" data-testid="pledge-on-failure">
        {t.terms.onFailure}: {t.terms[p.onFailure]}
      </p>
    );
  }
  return (
    <div className="pledge-choice" data-testid="pledge-on-failure">
      <OnFailureChoice
        value={want ?? p.onFailure}
        disabled={action.busy || !open}
        onChange={(v) => {
          setWant(v);
          void action
            .run(async () => {
              const r = await api<{ pledge: { onFailure: OnFailure } }>(
                'PATCH',
                `/api/v1/pledges/${p.pledgeId}`,
                {
                  body: { onFailure: v },
                },
              );
              onChanged(r.pledge.onFailure);
              return t.terms.onFailureSaved;
            })
            .finally(() => setWant(null));
        }}
      />
      {notOpen ? (
        <p className="alert alert-error" role="alert">
          {t.terms.notOpenAnymore}
        </p>
      ) : (
        <ProblemMessage error={action.error} />
      )}
      <SuccessMessage>{action.done}</SuccessMessage>
    </div>
  );
}

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

/**
 * One mission the viewer backed: its state, the total of their pledges to it
 * and how many, what was captured and refunded, then each pledge with its
 * own choice on failure.
 */
function MissionCard({
  group: g,
  onChanged,
}: {
  group: MissionGroup;
  onChanged(pledgeId: string, v: OnFailure): void;
}) {
  const t = useT();
  const lang = useLang();
  const titleId = useId();
  const m = g.mission;
  const settling =
    !m.settledAt && m.state !== 'PROPOSED' && m.state !== 'ACTIVE' ? ` · ${t.channel.settling}` : '';
  return (
    <li className="card pledge-item my-mission" data-mission-id={m.id} aria-labelledby={titleId}>
      <div className="pledge-head">
        <h2 className="pledge-title" id={titleId}>
          {m.title}
        </h2>
        <StateBadge state={m.state} />
      </div>
      <p className="muted">
        <Link to={`/c/${m.channel}`}>@{m.channel}</Link> · {dateTime(g.latestAt, lang)}
        {settling}
      </p>
      <dl className="pledge-facts">
        <div>
          <dt>{t.me.myTotal}</dt>
          <dd>
            <span data-testid="mission-pledged">{won(g.total)}</span>{' '}
            <span className="my-mission-count" data-testid="pledge-count">
              {t.me.pledgeCount(g.pledges.length)}
            </span>
          </dd>
        </div>
        <div>
          <dt>{t.me.captured}</dt>
          <dd data-testid="pledge-captured">{won(g.captured)}</dd>
        </div>
        <div>
          <dt>{t.me.refunded}</dt>
          <dd data-testid="pledge-refunded">{won(g.refunded)}</dd>
        </div>
      </dl>
      <h3 className="visually-hidden">{t.me.myPledges}</h3>
      <ul className="my-mission-pledges">
        {g.pledges.map((p) => (
          <li key={p.pledgeId} data-pledge-id={p.pledgeId}>
            <p className="my-mission-pledge">
              <span data-testid="pledge-amount">{t.me.pledgeLine(won(p.amount), dateTime(p.createdAt, lang))}</span>
              {' · '}
              <span data-testid="pledge-status">{t.me.status[p.status] ?? p.status}</span>
            </p>
            <OnFailureToggle pledge={p} onChanged={(v) => onChanged(p.pledgeId, v)} />
          </li>
        ))}
      </ul>
    </li>
  );
}

export function MePage() {
  const t = useT();
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
  const groups = useMemo(() => groupByMission(items), [items]);
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
        <EmptyState art="missions">{t.me.empty}</EmptyState>
      ) : (
        <ul className="pledge-list my-missions">
          {groups.map((g) => (
            <MissionCard
              key={g.mission.id}
              group={g}
              onChanged={(pledgeId, v) =>
                setItems((old) => old.map((x) => (x.pledgeId === pledgeId ? { ...x, onFailure: v } : x)))
              }
            />
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
