// The caller's channel point movements (grants, daily claims, bets, payouts),
// newest first, reloaded whenever the points balance moves.
import { useEffect } from 'react';
import { pts } from '../format.ts';
import { useAction, useHistoryPages } from '../hooks.ts';
import { useT } from '../i18n.ts';
import type { PointsEntry } from '../types.ts';
import { pointsWords } from '../wallet-history.ts';
import { StatementTable } from './Statement.tsx';
import { ProblemMessage } from './ui.tsx';

export function PointsHistory({ balance }: { balance: number | undefined }) {
  const t = useT();
  const { items, cursor, refresh, loadMore } = useHistoryPages<PointsEntry>('/api/v1/wallet/points/transactions');
  const more = useAction();

  useEffect(() => {
    if (balance !== undefined) refresh().catch(() => undefined);
  }, [balance, refresh]);

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
          onClick={() => void more.run(loadMore)}
        >
          {t.common.loadMore}
        </button>
      )}
    </section>
  );
}
