import { useCallback, useRef, useState } from 'react';
import { api, newIdempotencyKey } from '../api.ts';
import { PageTitle } from '../components/Layout.tsx';
import {
  parseAmount,
  ProblemMessage,
  Spinner,
  SuccessMessage,
  TextField,
} from '../components/ui.tsx';
import { dateTime, pts, signedWon, won } from '../format.ts';
import { useAction, usePolling, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import type { Page, Wallet, WalletEntry } from '../types.ts';

const PRESETS = [10_000, 30_000, 50_000, 100_000];

/** The wallet, polled so that settlements elsewhere show up without a reload. */
export function useWallet(enabled = true) {
  const [wallet, setWallet] = useState<Wallet | null>(null);
  const refresh = useCallback(async () => {
    setWallet(await api<Wallet>('GET', '/api/v1/wallet'));
  }, []);
  usePolling(refresh, 3000, enabled);
  return { wallet, refresh };
}

export function WalletPage() {
  const t = useT();
  const lang = useLang();
  useTitle(t.wallet.title);
  const { wallet, refresh: refreshWallet } = useWallet();
  const [entries, setEntries] = useState<WalletEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [historyLoaded, setHistoryLoaded] = useState(false);
  const [amount, setAmount] = useState('10000');
  const [amountError, setAmountError] = useState<string | null>(null);
  const charge = useAction();
  const claim = useAction();
  const more = useAction();
  const lastBalance = useRef<string>('');

  // The newest page, merged in front of what is loaded (entries never change).
  // If the whole page is new, more may be missing between: start over from it.
  const entriesRef = useRef<WalletEntry[]>([]);
  entriesRef.current = entries;
  const refreshHistory = useCallback(async () => {
    const page = await api<Page<WalletEntry>>('GET', '/api/v1/wallet/transactions?limit=20');
    const old = entriesRef.current;
    const seen = new Set(old.map((e) => e.id));
    const fresh = page.items.filter((e) => !seen.has(e.id));
    if (old.length === 0 || fresh.length === page.items.length) {
      setEntries(page.items);
      setCursor(page.nextCursor);
    } else {
      setEntries([...fresh, ...old]);
    }
    setHistoryLoaded(true);
  }, []);

  // Reload the history whenever the balance moves (a charge, or a settlement).
  usePolling(async () => {
    if (!wallet) return;
    const key = `${wallet.available}/${wallet.held}`;
    if (key !== lastBalance.current) {
      lastBalance.current = key;
      await refreshHistory();
    }
  }, 1000);

  const loadMore = () =>
    more.run(async () => {
      if (!cursor) return;
      const page = await api<Page<WalletEntry>>(
        'GET',
        `/api/v1/wallet/transactions?limit=20&cursor=${encodeURIComponent(cursor)}`,
      );
      setEntries((old) => {
        const seen = new Set(old.map((e) => e.id));
        return [...old, ...page.items.filter((e) => !seen.has(e.id))];
      });
      setCursor(page.nextCursor);
    });

  return (
    <>
      <PageTitle>{t.wallet.title}</PageTitle>
      {!wallet ? (
        <Spinner label={t.common.loading} />
      ) : (
        <dl className="stats" aria-live="polite">
          <div className="stat">
            <dt>{t.wallet.available}</dt>
            <dd data-testid="wallet-available">{won(wallet.available)}</dd>
          </div>
          <div className="stat">
            <dt>{t.wallet.held}</dt>
            <dd data-testid="wallet-held">{won(wallet.held)}</dd>
          </div>
          <div className="stat">
            <dt>{t.wallet.points}</dt>
            <dd data-testid="wallet-points">{pts(wallet.points)}</dd>
          </div>
        </dl>
      )}

      <div className="grid-2">
        <section className="card" aria-labelledby="charge-h">
          <h2 id="charge-h">{t.wallet.chargeTitle}</h2>
          <form
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              const n = parseAmount(amount);
              if (!Number.isSafeInteger(n) || n < 1000 || n > 1_000_000) {
                setAmountError(t.wallet.chargeHint);
                return;
              }
              setAmountError(null);
              // One key per click: a retried request is never a second charge.
              const key = newIdempotencyKey();
              void charge.run(async () => {
                await api('POST', '/api/v1/wallet/charges', {
                  body: { amount: n },
                  idempotencyKey: key,
                });
                await refreshWallet();
                return t.wallet.charged(won(n));
              });
            }}
          >
            <div className="chips" role="group" aria-label={t.wallet.chargeAmount}>
              {PRESETS.map((p) => (
                <button
                  key={p}
                  type="button"
                  className="chip"
                  aria-pressed={parseAmount(amount) === p}
                  onClick={() => setAmount(String(p))}
                >
                  {won(p)}
                </button>
              ))}
            </div>
            <TextField
              label={t.wallet.chargeAmount}
              hint={t.wallet.chargeHint}
              error={amountError}
              inputMode="numeric"
              value={amount}
              onChange={setAmount}
            />
            <ProblemMessage error={charge.error} />
            <SuccessMessage>{charge.done}</SuccessMessage>
            <button type="submit" className="button button-primary" disabled={charge.busy}>
              {charge.busy ? t.wallet.charging : t.wallet.charge}
            </button>
          </form>
        </section>

        <section className="card" aria-labelledby="claim-h">
          <h2 id="claim-h">{t.wallet.claimTitle}</h2>
          <p>{t.wallet.claimText}</p>
          <ProblemMessage error={claim.error} />
          <SuccessMessage>{claim.done}</SuccessMessage>
          <button
            type="button"
            className="button button-secondary"
            disabled={claim.busy}
            onClick={() =>
              void claim.run(async () => {
                const r = await api<{ granted: number; points: number }>(
                  'POST',
                  '/api/v1/points/claim',
                );
                await refreshWallet();
                return t.wallet.claimed(pts(r.points));
              })
            }
          >
            {t.wallet.claim}
          </button>
        </section>
      </div>

      <section className="card" aria-labelledby="history-h">
        <h2 id="history-h">{t.wallet.historyTitle}</h2>
        {!historyLoaded ? (
          <Spinner label={t.common.loading} />
        ) : entries.length === 0 ? (
          <p className="muted">{t.common.empty}</p>
        ) : (
          <table className="table history">
            <thead>
              <tr>
                <th scope="col">{t.wallet.when}</th>
                <th scope="col">{t.wallet.kind}</th>
                <th scope="col" className="num">
                  {t.wallet.amount}
                </th>
                <th scope="col" className="num">
                  {t.wallet.balanceAfter}
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{dateTime(e.createdAt, lang)}</td>
                  <td>{t.wallet.kinds[e.kind] ?? e.kind}</td>
                  <td className={`num ${e.amount < 0 ? 'neg' : e.amount > 0 ? 'pos' : ''}`}>
                    {signedWon(e.amount)}
                  </td>
                  <td className="num">{won(e.balanceAfter)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <ProblemMessage error={more.error} />
        {cursor && (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void loadMore()}
            disabled={more.busy}
          >
            {t.common.loadMore}
          </button>
        )}
      </section>
    </>
  );
}
