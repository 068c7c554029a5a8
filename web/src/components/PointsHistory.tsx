// The caller's channel point movements (grants, daily claims, bets, payouts),
// newest first, reloaded whenever the points balance moves.
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { pts } from '../format.ts';
import { useAction } from '../hooks.ts';
import { useT } from '../i18n.ts';
import type { Page, PointsEntry } from '../types.ts';
import { pointsWords } from '../wallet-history.ts';
import { StatementTable } from './Statement.tsx';
import { ProblemMessage } from './ui.tsx';

const PAGE = 20;

export function PointsHistory({ balance }: { balance: number | undefined }) {
  const t = useT();
  const [items, setItems] = useState<PointsEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const more = useAction();

  useEffect(() => {
    if (balance === undefined) return;
    let live = true;
    api<Page<PointsEntry>>('GET', `/api/v1/wallet/points/transactions?limit=${PAGE}`).then(
      (page) => {
        if (!live) return;
        setItems((old) => {
          if (!old) {
            setCursor(page.nextCursor);
            return page.items;
          }
          const fresh = page.items.filter((e) => !old.some((o) => o.id === e.id));
          return [...fresh, ...old];
        });
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [balance]);

  return (
    <section className="card" aria-labelledby="points-history-h">
      <h2 id="points-history-h">{t.wallet.pointsHistoryTitle}</h2>
      <StatementTable
        testId="points-history"
        rows={
          items &&
          items.map((e) => ({
            id: e.id,
            createdAt: e.createdAt,
            words: pointsWords(e, t),
            balance: pts(e.balanceAfter),
            attrs: { 'data-points-kind': e.kind },
          }))
        }
      />
      <ProblemMessage error={more.error} />
      {cursor && (
        <button
          type="button"
          className="button button-secondary"
          disabled={more.busy}
          onClick={() =>
            void more.run(async () => {
              const page = await api<Page<PointsEntry>>(
                'GET',
                `/api/v1/wallet/points/transactions?limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`,
              );
              setItems((old) => [
                ...(old ?? []),
                ...page.items.filter((e) => !(old ?? []).some((o) => o.id === e.id)),
              ]);
              setCursor(page.nextCursor);
            })
          }
        >
          {t.common.loadMore}
        </button>
      )}
    </section>
  );
}
