// A channel's record (success rate, money delivered, backers, top backers) and
// its past missions, a page at a time: what a viewer sees after a reload.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { dateTime, won } from '../format.ts';
import { useAction } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import type { ChannelStats, Mission, Page, TopBacker } from '../types.ts';
import { percent } from './ChannelDirectory.tsx';
import { EmptyState } from './EmptyState.tsx';
import { ProblemMessage, Spinner, StateBadge } from './ui.tsx';

const HISTORY_PAGE = 10;

/** Success rate, money delivered, backers and top backers; `version` changes when a mission ends live. */
export function ChannelRecord({ handle, version }: { handle: string; version: number }) {
  const t = useT();
  const [stats, setStats] = useState<ChannelStats | null>(null);
  const [top, setTop] = useState<TopBacker[] | null>(null);
  useEffect(() => {
    let live = true;
    const h = encodeURIComponent(handle);
    void Promise.all([
      api<ChannelStats>('GET', `/api/v1/channels/${h}/stats`),
      api<{ items: TopBacker[] }>('GET', `/api/v1/channels/${h}/top-backers?limit=5`),
    ]).then(
      ([s, tb]) => {
        if (!live) return;
        setStats(s);
        setTop(tb.items);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [handle, version]);
  if (!stats) return null;
  return (
    <section aria-labelledby="record-h" className="section">
      <h2 id="record-h">{t.channel.recordTitle}</h2>
      <dl className="stats">
        <div className="stat">
          <dt>{t.channel.successRate}</dt>
          <dd data-testid="success-rate">
            {stats.successRate === null ? t.channel.noOutcomeYet : percent(stats.successRate)}
          </dd>
          <dd className="muted stat-note">
            {t.channel.decided(stats.missions.SUCCEEDED, stats.missions.FAILED)}
          </dd>
        </div>
        <div className="stat">
          <dt>{t.channel.capturedTotal}</dt>
          <dd data-testid="captured-total">{won(stats.capturedTotal)}</dd>
        </div>
        <div className="stat">
          <dt>{t.channel.backerCount}</dt>
          <dd>{t.channel.people(stats.backers)}</dd>
        </div>
      </dl>
      <h3>{t.channel.topBackers}</h3>
      {top && top.length > 0 ? (
        <ol className="top-backers" data-testid="top-backers">
          {top.map((b, i) => (
            <li key={i}>
              {b.displayName} · <span className="amount">{won(b.amount)}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">{t.channel.noBackers}</p>
      )}
    </section>
  );
}

/**
 * The channel's ended missions, newest first, by page (GET …/missions?ended=true).
 * `hide` holds the missions the page already shows as just ended.
 */
export function ChannelHistory({
  handle,
  version,
  hide,
}: {
  handle: string;
  version: number;
  hide: ReadonlySet<string>;
}) {
  const t = useT();
  const lang = useLang();
  const [items, setItems] = useState<Mission[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const more = useAction();
  const url = useCallback(
    (after?: string) =>
      `/api/v1/channels/${encodeURIComponent(handle)}/missions?ended=true&limit=${HISTORY_PAGE}${after ? `&cursor=${encodeURIComponent(after)}` : ''}`,
    [handle],
  );

  // The first page, again whenever a mission ends live; pages already loaded stay.
  useEffect(() => {
    let live = true;
    api<Page<Mission>>('GET', url()).then(
      (page) => {
        if (!live) return;
        setItems((old) => {
          if (!old) {
            setCursor(page.nextCursor);
            return page.items;
          }
          const fresh = page.items.filter((m) => !old.some((o) => o.id === m.id));
          const updated = old.map((o) => page.items.find((m) => m.id === o.id) ?? o);
          return [...fresh, ...updated];
        });
        setError(null);
      },
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [url, version]);

  const shown = (items ?? []).filter((m) => !hide.has(m.id));
  return (
    <section aria-labelledby="history-h" className="section">
      <h2 id="history-h">{t.channel.historyTitle}</h2>
      <ProblemMessage error={error} />
      {items === null ? (
        !error && <Spinner label={t.common.loading} />
      ) : shown.length === 0 && !cursor ? (
        <EmptyState art="list">{t.channel.noHistory}</EmptyState>
      ) : (
        <ul className="mission-history" data-testid="history">
          {shown.map((m) => (
            <li key={m.id} className="history-item" data-history-id={m.id}>
              <span className="history-title">{m.title}</span>
              <StateBadge state={m.state} />
              <span className="history-facts">
                {won(m.pledgedAmount)} · {t.common.backers(m.backerCount)}
                {m.decidedAt ? ` · ${t.channel.endedOn(dateTime(m.decidedAt, lang))}` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <p>
          <button
            type="button"
            className="button button-secondary"
            disabled={more.busy}
            onClick={() =>
              void more.run(async () => {
                const page = await api<Page<Mission>>('GET', url(cursor));
                setItems((old) => [
                  ...(old ?? []),
                  ...page.items.filter((m) => !(old ?? []).some((o) => o.id === m.id)),
                ]);
                setCursor(page.nextCursor);
              })
            }
          >
            {t.common.loadMore}
          </button>
        </p>
      )}
      <ProblemMessage error={more.error} />
    </section>
  );
}
