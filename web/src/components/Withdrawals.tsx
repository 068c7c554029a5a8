// Streamer withdrawals (money out to a bank account): the Studio's section
// (withdrawable balance, payout account form, withdraw form with the fee
// shown before confirming, history with states) and the ops review queue.
import { useCallback, useState } from 'react';
import { api, ApiError, newIdempotencyKey } from '../api.ts';
import { bankName, knownBank } from '../banks.ts';
import { dateTime, won } from '../format.ts';
import { useAction, usePolling } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import type { Earnings, OpsWithdrawal, Page, PayoutAccount, Withdrawal, WithdrawalPolicy, WithdrawalStatus } from '../types.ts';
import { AmountField, ConfirmDialog, parseAmount, ProblemMessage, Spinner, SuccessMessage, TextField } from './ui.tsx';

const BADGE: Record<WithdrawalStatus, string> = {
  REQUESTED: 'badge-proposed',
  PROCESSING: 'badge-active',
  PAID: 'badge-succeeded',
  FAILED: 'badge-failed',
  REJECTED: 'badge-rejected',
};

export function WithdrawalBadge({ status }: { status: WithdrawalStatus }) {
  const t = useT();
  return <span className={`badge ${BADGE[status]}`}>{t.withdraw.status[status]}</span>;
}

/** The streamer's withdrawals section of the Studio page. */
export function WithdrawalsSection({ earnings, onChange }: { earnings: Earnings | null; onChange: () => void }) {
  const t = useT();
  const lang = useLang();
  const [account, setAccount] = useState<PayoutAccount | null | undefined>(undefined);
  const [policy, setPolicy] = useState<WithdrawalPolicy | null>(null);
  const [items, setItems] = useState<Withdrawal[] | null>(null);
  const [editing, setEditing] = useState(false);

  const loadAccount = useCallback(async () => {
    try {
      setAccount((await api<{ payoutAccount: PayoutAccount }>('GET', '/api/v1/streamer/payout-account')).payoutAccount);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setAccount(null);
      else throw err;
    }
  }, []);
  const loadList = useCallback(async () => {
    const page = await api<Page<Withdrawal>>('GET', '/api/v1/streamer/withdrawals?limit=20');
    setItems((old) => {
      // A state moved (paid, failed…): the balances moved too.
      if (old && JSON.stringify(old.map((w) => w.status)) !== JSON.stringify(page.items.map((w) => w.status))) onChange();
      return page.items;
    });
  }, [onChange]);
  usePolling(loadAccount, 60_000);
  usePolling(async () => setPolicy(await api<WithdrawalPolicy>('GET', '/api/v1/streamer/withdrawal-policy')), 300_000);
  // While a withdrawal is on its way, look more often.
  const busyList = items?.some((w) => w.status === 'PROCESSING' || w.status === 'REQUESTED') ?? false;
  usePolling(loadList, busyList ? 2_000 : 15_000);

  return (
    <section className="card section" aria-labelledby="withdraw-h">
      <h2 id="withdraw-h">{t.withdraw.title}</h2>
      {!earnings ? (
        <Spinner label={t.common.loading} />
      ) : (
        <dl className="stats">
          <div className="stat">
            <dt>{t.withdraw.withdrawable}</dt>
            <dd data-testid="earnings-withdrawable">{won(earnings.withdrawable)}</dd>
          </div>
          <div className="stat">
            <dt>{t.withdraw.inFlight}</dt>
            <dd data-testid="earnings-in-flight">{won(earnings.inFlight)}</dd>
          </div>
          <div className="stat">
            <dt>{t.withdraw.withdrawn}</dt>
            <dd data-testid="earnings-withdrawn">{won(earnings.withdrawn)}</dd>
          </div>
        </dl>
      )}

      <h3 style={{ marginTop: 20 }}>{t.withdraw.accountTitle}</h3>
      {account === undefined ? (
        <Spinner label={t.common.loading} />
      ) : account && !editing ? (
        <div>
          <p data-testid="payout-account">
            {t.withdraw.accountLine(bankName(account.bankCode, lang), account.accountNumberMasked, account.holderName)}
          </p>
          <p className="muted">{t.withdraw.verifiedAt(dateTime(account.verifiedAt, lang))}</p>
          <button type="button" className="button button-secondary" onClick={() => setEditing(true)}>
            {t.withdraw.changeAccount}
          </button>
        </div>
      ) : (
        <AccountForm
          onSaved={(a) => {
            setAccount(a);
            setEditing(false);
          }}
          onCancel={account ? () => setEditing(false) : undefined}
        />
      )}

      {account && earnings && policy && (
        <WithdrawForm
          withdrawable={earnings.withdrawable}
          policy={policy}
          onDone={() => {
            onChange();
            void loadList().catch(() => undefined);
          }}
        />
      )}

      <h3 style={{ marginTop: 20 }}>{t.withdraw.history}</h3>
      {!items ? (
        <Spinner label={t.common.loading} />
      ) : items.length === 0 ? (
        <p className="muted">{t.withdraw.historyEmpty}</p>
      ) : (
        <ul className="pledge-list" data-testid="withdrawals">
          {items.map((w) => (
            <li key={w.id} className="withdrawal-item" style={{ borderTop: '1px solid var(--border)', padding: '8px 0' }}>
              <div className="pledge-head">
                <strong>{won(w.amount)}</strong>
                <WithdrawalBadge status={w.status} />
              </div>
              <p className="muted" style={{ margin: '4px 0 0' }}>
                {t.withdraw.netLine(won(w.fee), won(w.netAmount))} · {dateTime(w.requestedAt, lang)}
                {w.paidAt ? ` · ${t.withdraw.paidAt(dateTime(w.paidAt, lang))}` : ''}
              </p>
              {w.failureReason && <p style={{ margin: '4px 0 0' }}>{t.withdraw.reason(w.failureReason)}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AccountForm({ onSaved, onCancel }: { onSaved: (a: PayoutAccount) => void; onCancel?: () => void }) {
  const t = useT();
  const lang = useLang();
  const [bankCode, setBankCode] = useState('');
  const [accountNumber, setAccountNumber] = useState('');
  const [holderName, setHolderName] = useState('');
  const [errors, setErrors] = useState<{ bank?: string; number?: string; holder?: string }>({});
  const save = useAction();
  return (
    <form
      noValidate
      aria-label={t.withdraw.accountTitle}
      onSubmit={(e) => {
        e.preventDefault();
        const number = accountNumber.replace(/[\s-]/g, '');
        const next = {
          bank: /^\d{3}$/.test(bankCode.trim()) ? undefined : t.withdraw.bankHint,
          number: /^\d{6,20}$/.test(number) ? undefined : t.withdraw.numberHint,
          holder: holderName.trim().length >= 1 && [...holderName.trim()].length <= 40 ? undefined : t.withdraw.holderHint,
        };
        setErrors(next);
        if (next.bank || next.number || next.holder) return;
        void save.run(async () => {
          const { payoutAccount } = await api<{ payoutAccount: PayoutAccount }>('PUT', '/api/v1/streamer/payout-account', {
            body: { bankCode: bankCode.trim(), accountNumber: number, holderName: holderName.trim() },
          });
          onSaved(payoutAccount);
          return t.common.saved;
        });
      }}
    >
      <p className="muted">{t.withdraw.accountLead}</p>
      <TextField label={t.withdraw.bankCode} hint={knownBank(bankCode, lang) ?? t.withdraw.bankHint} error={errors.bank} inputMode="numeric" autoComplete="off" value={bankCode} onChange={setBankCode} />
      <TextField label={t.withdraw.accountNumber} hint={t.withdraw.numberHint} error={errors.number} inputMode="numeric" autoComplete="off" value={accountNumber} onChange={setAccountNumber} />
      <TextField label={t.withdraw.holderName} error={errors.holder} autoComplete="name" value={holderName} onChange={setHolderName} />
      <ProblemMessage error={save.error} />
      <SuccessMessage>{save.done}</SuccessMessage>
      <div className="button-row">
        {onCancel && (
          <button type="button" className="button button-secondary" onClick={onCancel}>
            {t.common.cancel}
          </button>
        )}
        <button type="submit" className="button button-primary" disabled={save.busy}>
          {t.withdraw.saveAccount}
        </button>
      </div>
    </form>
  );
}

function WithdrawForm({ withdrawable, policy, onDone }: { withdrawable: number; policy: WithdrawalPolicy; onDone: () => void }) {
  const t = useT();
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const act = useAction();
  const n = parseAmount(amount);
  const valid = Number.isSafeInteger(n) && n >= policy.minAmount;
  return (
    <>
      <h3 style={{ marginTop: 20 }}>{t.withdraw.formTitle}</h3>
      <form
        noValidate
        aria-label={t.withdraw.formTitle}
        onSubmit={(e) => {
          e.preventDefault();
          if (!valid) return setError(t.withdraw.amountHint(won(policy.minAmount)));
          if (n > withdrawable) return setError(t.withdraw.tooMuch(won(withdrawable)));
          setError(null);
          setConfirming(n);
        }}
      >
        <AmountField
          label={t.withdraw.amount}
          hint={t.withdraw.amountHint(won(policy.minAmount))}
          error={error}
          value={amount}
          onChange={setAmount}
        />
        <p className="muted" data-testid="withdraw-fee">
          {t.withdraw.feeLine(won(policy.fee), valid && n > policy.fee ? won(n - policy.fee) : '–')}
          {valid && n > policy.reviewAbove ? ` ${t.withdraw.reviewNote(won(policy.reviewAbove))}` : ''}
        </p>
        <ProblemMessage error={act.error} />
        <SuccessMessage>{act.done}</SuccessMessage>
        <div className="button-row">
          <button type="button" className="button button-secondary" disabled={withdrawable < policy.minAmount} onClick={() => setAmount(String(withdrawable))}>
            {t.withdraw.all}
          </button>
          <button type="submit" className="button button-primary" disabled={act.busy || withdrawable < policy.minAmount}>
            {t.withdraw.submit}
          </button>
        </div>
      </form>
      <ConfirmDialog
        open={confirming !== null}
        title={t.withdraw.confirmTitle}
        text={confirming !== null ? t.withdraw.confirmText(won(confirming), won(policy.fee), won(confirming - policy.fee)) : ''}
        confirmLabel={t.withdraw.submit}
        busy={act.busy}
        onCancel={() => setConfirming(null)}
        onConfirm={() => {
          const value = confirming!;
          setConfirming(null);
          // One key per confirmation: a retried request is never a second withdrawal.
          const key = newIdempotencyKey();
          void act.run(async () => {
            try {
              const { withdrawal } = await api<{ withdrawal: Withdrawal }>('POST', '/api/v1/streamer/withdrawals', { body: { amount: value }, idempotencyKey: key });
              setAmount('');
              onDone();
              return t.withdraw.requested(won(withdrawal.amount), t.withdraw.status[withdrawal.status]);
            } catch (err) {
              // "Charge your wallet" would be the wrong advice here.
              if (err instanceof ApiError && err.code === 'INSUFFICIENT_FUNDS') throw new ApiError({ ...err.problem, code: 'WITHDRAWAL_INSUFFICIENT_FUNDS' });
              throw err;
            }
          });
        }}
      />
    </>
  );
}

/** The ops page's review queue: withdrawals waiting for an admin, approve or reject with a reason. */
export function WithdrawalQueue() {
  const t = useT();
  const lang = useLang();
  const [filter, setFilter] = useState<WithdrawalStatus | ''>('REQUESTED');
  const [items, setItems] = useState<OpsWithdrawal[] | null>(null);
  const [rejecting, setRejecting] = useState<OpsWithdrawal | null>(null);
  const [reason, setReason] = useState('');
  const act = useAction();
  const load = useCallback(async () => {
    const page = await api<Page<OpsWithdrawal>>('GET', `/api/v1/ops/withdrawals?limit=50${filter ? `&status=${filter}` : ''}`);
    setItems(page.items);
  }, [filter]);
  usePolling(load, 5_000);

  return (
    <section className="card section" aria-labelledby="wq-h">
      <h2 id="wq-h">{t.withdraw.queueTitle}</h2>
      <div className="field">
        <label htmlFor="wq-filter">{t.withdraw.filter}</label>
        <select id="wq-filter" value={filter} onChange={(e) => setFilter(e.target.value as WithdrawalStatus | '')}>
          <option value="">{t.withdraw.all}</option>
          {(['REQUESTED', 'PROCESSING', 'PAID', 'FAILED', 'REJECTED'] as const).map((s) => (
            <option key={s} value={s}>
              {t.withdraw.status[s]}
            </option>
          ))}
        </select>
      </div>
      <ProblemMessage error={act.error} />
      <SuccessMessage>{act.done}</SuccessMessage>
      {!items ? (
        <Spinner label={t.common.loading} />
      ) : items.length === 0 ? (
        <p className="muted">{t.withdraw.queueEmpty}</p>
      ) : (
        <ul className="pledge-list" data-testid="withdrawal-queue">
          {items.map((w) => (
            <li key={w.id} style={{ borderTop: '1px solid var(--border)', padding: '8px 0' }}>
              <div className="pledge-head">
                <strong>
                  @{w.channel} · {won(w.amount)}
                </strong>
                <WithdrawalBadge status={w.status} />
              </div>
              <p className="muted" style={{ margin: '4px 0' }}>
                {t.withdraw.netLine(won(w.fee), won(w.netAmount))} · {bankName(w.bankCode, lang)} {w.accountNumberMasked} · {dateTime(w.requestedAt, lang)}
              </p>
              {w.failureReason && <p style={{ margin: '4px 0' }}>{t.withdraw.reason(w.failureReason)}</p>}
              {w.status === 'REQUESTED' && (
                <div className="button-row">
                  <button
                    type="button"
                    className="button button-primary"
                    disabled={act.busy}
                    onClick={() =>
                      void act.run(async () => {
                        await api('POST', `/api/v1/ops/withdrawals/${w.id}/approve`);
                        await load();
                        return t.withdraw.approved(`@${w.channel}`, won(w.amount));
                      })
                    }
                  >
                    {t.withdraw.approve}
                  </button>
                  <button type="button" className="button button-danger" disabled={act.busy} onClick={() => setRejecting(w)}>
                    {t.withdraw.reject}
                  </button>
                </div>
              )}
              {rejecting?.id === w.id && (
                <form
                  noValidate
                  aria-label={t.withdraw.reject}
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (!reason.trim()) return;
                    void act.run(async () => {
                      await api('POST', `/api/v1/ops/withdrawals/${w.id}/reject`, { body: { reason: reason.trim() } });
                      setRejecting(null);
                      setReason('');
                      await load();
                      return t.withdraw.rejected(`@${w.channel}`, won(w.amount));
                    });
                  }}
                >
                  <TextField label={t.withdraw.rejectReason} maxLength={500} value={reason} onChange={setReason} required />
                  <div className="button-row">
                    <button type="button" className="button button-secondary" onClick={() => setRejecting(null)}>
                      {t.common.cancel}
                    </button>
                    <button type="submit" className="button button-danger" disabled={act.busy || !reason.trim()}>
                      {t.withdraw.reject}
                    </button>
                  </div>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
