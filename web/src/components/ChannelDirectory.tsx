// The channel directory of the home page: search by the start of a handle or
// a channel name, most active channels first, a page at a time.
import { useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { useAction } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { Link, navigate } from '../router.tsx';
import type { Channel, ChannelStats, Page } from '../types.ts';
import { EmptyArt } from './EmptyState.tsx';
import { ProblemMessage, Spinner, TextField } from './ui.tsx';

const PAGE = 12;

/** 0.6667 → "66.7%". */
export function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

export function ChannelDirectory() {
  const t = useT();
  const [q, setQ] = useState('');
  const [items, setItems] = useState<Channel[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const more = useAction();
  const asked = useRef(0);

  // Searches as the person types, a moment after the last key.
  useEffect(() => {
    const n = ++asked.current;
    const timer = setTimeout(
      () => {
        const query = q.trim();
        api<Page<Channel>>(
          'GET',
          `/api/v1/channels?limit=${PAGE}${query ? `&q=${encodeURIComponent(query)}` : ''}`,
        ).then(
          (page) => {
            if (n !== asked.current) return;
            setItems(page.items);
            setCursor(page.nextCursor);
            setError(null);
          },
          (err: unknown) => {
            if (n === asked.current) setError(err);
          },
        );
      },
      q ? 250 : 0,
    );
    return () => clearTimeout(timer);
  }, [q]);

  const query = q.trim();
  return (
    <section className="card directory" aria-labelledby="directory-h">
      <h2 id="directory-h">{t.home.directoryTitle}</h2>
      <form
        role="search"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const exact = items?.find((c) => c.handle === query.replace(/^@/, '').toLowerCase());
          const only = items?.length === 1 ? items[0] : undefined;
          const target = exact ?? only;
          if (target) navigate(`/c/${target.handle}`);
        }}
      >
        <TextField
          label={t.home.search}
          hint={t.home.searchHint}
          type="search"
          value={q}
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          maxLength={50}
          onChange={setQ}
        />
      </form>
      <ProblemMessage error={error} />
      {items === null ? (
        !error && <Spinner label={t.common.loading} />
      ) : (
        <>
          {items.length === 0 && <EmptyArt art="search" className="directory-art" />}
          <p className="muted" role="status" data-testid="directory-status">
            {items.length === 0
              ? query
                ? t.home.noMatch(query)
                : t.home.noChannels
              : t.home.searchResults(items.length) + (cursor ? '+' : '')}
          </p>
          {items.length > 0 && (
            <ul className="channel-list">
              {items.map((c) => (
                <li key={c.handle}>
                  <ChannelTile channel={c} />
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
                    const page = await api<Page<Channel>>(
                      'GET',
                      `/api/v1/channels?limit=${PAGE}&cursor=${encodeURIComponent(cursor)}${query ? `&q=${encodeURIComponent(query)}` : ''}`,
                    );
                    setItems((old) => [
                      ...(old ?? []),
                      ...page.items.filter((c) => !(old ?? []).some((o) => o.handle === c.handle)),
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
        </>
      )}
    </section>
  );
}

function ChannelTile({ channel }: { channel: Channel }) {
  const t = useT();
  const [stats, setStats] = useState<ChannelStats | null>(null);
  useEffect(() => {
    let live = true;
    api<ChannelStats>('GET', `/api/v1/channels/${encodeURIComponent(channel.handle)}/stats`).then(
      (s) => live && setStats(s),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [channel.handle]);
  const open = stats ? stats.missions.PROPOSED + stats.missions.ACTIVE : 0;
  return (
    <Link to={`/c/${channel.handle}`} className="channel-tile" data-testid="channel-tile">
      <span className="channel-avatar" aria-hidden="true">
        {[...channel.displayName][0]?.toUpperCase() ?? '?'}
      </span>
      <span className="channel-tile-text">
        <span className="channel-tile-name">{channel.displayName}</span>
        <span className="channel-tile-handle">@{channel.handle}</span>
        {stats && (
          <span className="channel-tile-facts">
            {open > 0 && <span className="channel-live">{t.home.openMissions(open)}</span>}
            <span>
              {stats.successRate === null
                ? t.home.noRecord
                : t.home.successRate(percent(stats.successRate))}
            </span>
          </span>
        )}
      </span>
    </Link>
  );
}
