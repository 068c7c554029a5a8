import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, newIdempotencyKey } from '../api.ts';
import { openCheckout, pendingReturn, type Checkout } from '../checkout.ts';
import { PageTitle } from '../components/Layout.tsx';
import { PointsHistory } from '../components/PointsHistory.tsx';
import { SpendingLimits } from '../components/Limits.tsx';
import { StatementTable } from '../components/Statement.tsx';
import {
  AmountField,
  parseAmount,
  ProblemMessage,
  Spinner,
  SuccessMessage,
} from '../components/ui.tsx';
import { durationWords, kstDateTime, kstDay, nextKstMidnight, pts, won } from '../format.ts';
import { useAction, useHistoryPages, useNow, usePolling, useSession, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import type { Wallet, WalletEntry } from '../types.ts';
import { entryWords } from '../wallet-history.ts';

const PRESETS = [10_000, 30_000, 50_000, 100_000];

interface ChargeAnswer {
  id: string;
  amount: number;
  status: 'pending' | 'succeeded' | 'failed';
  checkout?: Checkout;
}

/** The wallet, polled so that settlements elsewhere show up without a reload. */
export function useWallet(enabled = true) {
  const [wallet, setWallet] = useState<Wallet | null>(null);
  const refresh = useCallback(async () => {
    setWallet(await api<Wallet>('GET', '/api/v1/wallet'));
  }, []);
  usePolling(refresh, 3000, enabled);
  return { wallet, refresh };
}

function readClaimed(key: string | null): string | null {
  if (!key) return null;
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function WalletPage() {
  const t = useT();
  const lang = useLang();
  useTitle(t.wallet.title);
  const { wallet, refresh: refreshWallet } = useWallet();
  const history = useHistoryPages<WalletEntry>('/api/v1/wallet/transactions');
  const [amount, setAmount] = useState('10000');
  const [amountError, setAmountError] = useState<string | null>(null);
  const charge = useAction();

  /** Asks the server to confirm a charge with the provider; the message to show. */
  const completeCharge = useCallback(
    async (id: string, amount: number | null) => {
      const r = await api<{ charge: ChargeAnswer }>(
        'POST',
        `/api/v1/wallet/charges/${encodeURIComponent(id)}/complete`,
      );
      await refreshWallet();
      if (r.charge.status === 'succeeded') return t.wallet.charged(won(amount ?? r.charge.amount));
      if (r.charge.status === 'failed') return t.wallet.checkoutCancelled;
      return t.wallet.checkoutPending;
    },
    [refreshWallet, t],
  );
  // Back from a mobile checkout (a redirect to /wallet?paymentId=…): complete that charge.
  useEffect(() => {
    const back = pendingReturn();
    if (!back) return;
    void charge.run(async () =>
      back.failed ? t.wallet.checkoutCancelled : completeCharge(back.paymentId, null),
    );
    // Once, on arrival.
  }, []);
  const refund = useAction();
  const [refundAmount, setRefundAmount] = useState('');
  const [refundError, setRefundError] = useState<string | null>(null);
  const claim = useAction();
  const more = useAction();
  const lastBalance = useRef<string>('');
  // The day's claim is remembered per user (the server is the judge; this
  // only keeps the button and the next-claim line right after a reload, and
  // in the user's other tabs).
  const me = useSession().me;
  const now = useNow();
  const nextClaim = nextKstMidnight(now);
  const claimKey = me ? `missionlink.claimed.${me.id}` : null;
  const [claimedDay, setClaimedDay] = useState<string | null>(() => readClaimed(claimKey));
  useEffect(() => setClaimedDay(readClaimed(claimKey)), [claimKey]);
  // A claim in another tab of this browser: its record arrives as a storage
  // event here, and with it the points it brought.
  useEffect(() => {
    if (!claimKey) return;
    const onStorage = (e: StorageEvent) => {
      if (e.key !== claimKey) return;
      setClaimedDay(e.newValue);
      void refreshWallet().catch(() => undefined);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [claimKey, refreshWallet]);
  const claimedToday = claimedDay === kstDay(now);
  const markClaimed = () => {
    const day = kstDay(Date.now());
    setClaimedDay(day);
    try {
      if (claimKey) window.localStorage.setItem(claimKey, day);
    } catch {
      // Storage may be disabled: the page still knows until a reload.
    }
  };

  // Reload the history whenever the balance moves (a charge, or a settlement).
  usePolling(async () => {
    if (!wallet) return;
    const key = `${wallet.available}/${wallet.held}`;
    if (key !== lastBalance.current) {
      lastBalance.current = key;
      await history.refresh();
    }
  }, 1000);

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
          {wallet.owed > 0 && (
            <div className="stat">
              <dt>{t.wallet.owed}</dt>
              <dd data-testid="wallet-owed">{won(wallet.owed)}</dd>
            </div>
          )}
        </dl>
      )}
      {wallet && wallet.owed > 0 && (
        <p className="alert alert-info" role="status">
          {t.wallet.owedNote(won(wallet.owed))}
        </p>
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
                const r = await api<{ charge: ChargeAnswer }>('POST', '/api/v1/wallet/charges', {
                  body: { amount: n },
                  idempotencyKey: key,
                });
                // PortOne: pay in its checkout, then the server confirms with PortOne.
                if (r.charge.checkout) {
                  const paid = await openCheckout(r.charge.checkout, lang);
                  if (paid.kind === 'redirected') return undefined;
                  if (paid.kind === 'cancelled') return paid.message ?? t.wallet.checkoutCancelled;
                  return completeCharge(r.charge.id, n);
                }
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
            <AmountField
              label={t.wallet.chargeAmount}
              hint={t.wallet.chargeHint}
              error={amountError}
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

        <section className="card" aria-labelledby="refund-h">
          <h2 id="refund-h">{t.wallet.refundTitle}</h2>
          <p>{t.wallet.refundText}</p>
          <form
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              const n = parseAmount(refundAmount);
              const max = wallet ? Math.max(0, wallet.available - wallet.owed) : 0;
              if (!Number.isSafeInteger(n) || n < 1000 || n > max) {
                setRefundError(t.wallet.refundHint(won(max)));
                return;
              }
              setRefundError(null);
              // One key per click: a retried request is never a second refund.
              const key = newIdempotencyKey();
              void refund.run(async () => {
                const r = await api<{ refund: { status: string; amount: number } }>(
                  'POST',
                  '/api/v1/wallet/refunds',
                  { body: { amount: n }, idempotencyKey: key },
                );
                await refreshWallet();
                setRefundAmount('');
                if (r.refund.status === 'pending') return t.wallet.refundPending(won(n));
                if (r.refund.status === 'failed') return t.wallet.refundFailed;
                return t.wallet.refunded(won(n));
              });
            }}
          >
            <AmountField
              label={t.wallet.refundAmount}
              hint={t.wallet.refundHint(
                won(wallet ? Math.max(0, wallet.available - wallet.owed) : 0),
              )}
              error={refundError}
              value={refundAmount}
              onChange={setRefundAmount}
            />
            <ProblemMessage error={refund.error} />
            <SuccessMessage>{refund.done}</SuccessMessage>
            <button type="submit" className="button button-secondary" disabled={refund.busy}>
              {refund.busy ? t.wallet.refunding : t.wallet.refund}
            </button>
          </form>
        </section>

        <section className="card" aria-labelledby="claim-h">
          <h2 id="claim-h">{t.wallet.claimTitle}</h2>
          <p>{t.wallet.claimText}</p>
          <ProblemMessage error={claim.error} />
          <SuccessMessage>
            {claim.done ?? (claimedToday && !claim.error ? t.wallet.claimedToday : null)}
          </SuccessMessage>
          <p className="hint" data-testid="next-claim">
            {t.wallet.claimNext(
              kstDateTime(nextClaim, lang),
              durationWords(Math.max(60, Math.ceil((nextClaim - now) / 60_000) * 60), t),
            )}
          </p>
          <button
            type="button"
            className="button button-secondary"
            disabled={claim.busy || claimedToday}
            onClick={() =>
              void claim.run(async () => {
                try {
                  const r = await api<{ granted: number; points: number }>(
                    'POST',
                    '/api/v1/points/claim',
                  );
                  markClaimed();
                  await refreshWallet();
                  return t.wallet.claimed(pts(r.points));
                } catch (err) {
                  if (err instanceof ApiError && err.code === 'ALREADY_CLAIMED') markClaimed();
                  throw err;
                }
              })
            }
          >
            {t.wallet.claim}
          </button>
        </section>
      </div>

      <SpendingLimits />

      <section className="card" aria-labelledby="history-h">
        <h2 id="history-h">{t.wallet.historyTitle}</h2>
        <StatementTable
          className="history"
          rows={
            history.items &&
            history.items.map((e) => ({
              id: e.id,
              createdAt: e.createdAt,
              words: entryWords(e, t),
              balance: won(e.balanceAfter),
              attrs: { 'data-entry-kind': e.kind },
            }))
          }
        />
        <ProblemMessage error={more.error} />
        {history.cursor && (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void more.run(history.loadMore)}
            disabled={more.busy}
          >
            {t.common.loadMore}
          </button>
        )}
      </section>

      <PointsHistory balance={wallet?.points} />
    </>
  );
}
