// The wallet's "spending limits" section: daily and monthly pledge limits
// (lowering applies at once, raising 24 h later, shown as pending) and a
// self-exclusion that cannot be shortened, behind a clear confirmation.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { fullDateTime, groupDigits, won } from '../format.ts';
import { useAction } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import type { Limits } from '../types.ts';
import { AmountField, ConfirmDialog, parseAmount, ProblemMessage, SuccessMessage, TextField } from './ui.tsx';

const LIMIT_MAX = 1_000_000_000;
type LimitKey = 'dailyPledgeLimit' | 'monthlyPledgeLimit';

export function SpendingLimits() {
  const t = useT();
  const lang = useLang();
  const [limits, setLimits] = useState<Limits | null>(null);
  const [daily, setDaily] = useState('');
  const [monthly, setMonthly] = useState('');
  const [errors, setErrors] = useState<Partial<Record<LimitKey, string>>>({});
  const [days, setDays] = useState('30');
  const [daysError, setDaysError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const save = useAction();
  const exclude = useAction();

  const show = useCallback((l: Limits) => {
    setLimits(l);
    setDaily(l.dailyPledgeLimit === null ? '' : groupDigits(l.dailyPledgeLimit));
    setMonthly(l.monthlyPledgeLimit === null ? '' : groupDigits(l.monthlyPledgeLimit));
  }, []);
  useEffect(() => {
    void api<Limits>('GET', '/api/v1/me/limits')
      .then(show)
      .catch((err: unknown) => save.setError(err));
  }, [show, save.setError]);

  const orNone = (v: number | null | undefined) =>
    v === null || v === undefined ? t.terms.none : won(v);
  const when = (iso: string) => fullDateTime(iso, lang);
  const pending = limits?.pending;
  const pendingText = pending
    ? [
        'dailyPledgeLimit' in pending && pending.dailyPledgeLimit !== undefined
          ? t.terms.pendingDaily(orNone(pending.dailyPledgeLimit))
          : null,
        'monthlyPledgeLimit' in pending && pending.monthlyPledgeLimit !== undefined
          ? t.terms.pendingMonthly(orNone(pending.monthlyPledgeLimit))
          : null,
      ]
        .filter(Boolean)
        .join(' · ')
    : '';
  const excludedUntil =
    limits?.selfExcludedUntil && new Date(limits.selfExcludedUntil).getTime() > Date.now()
      ? limits.selfExcludedUntil
      : null;

  const parse = (text: string): number | null | undefined => {
    if (text.trim() === '') return null;
    const n = parseAmount(text);
    return Number.isSafeInteger(n) && n >= 1 && n <= LIMIT_MAX ? n : undefined;
  };

  return (
    <section className="card" aria-labelledby="limits-h" data-testid="limits">
      <h2 id="limits-h">{t.terms.limitsTitle}</h2>
      <p className="muted">{t.terms.limitsLead}</p>
      {limits && (
        <p data-testid="limits-current">
          {t.terms.current(orNone(limits.dailyPledgeLimit), orNone(limits.monthlyPledgeLimit))}
        </p>
      )}
      {pending && pendingText && (
        <p className="alert alert-info" data-testid="limits-pending">
          {t.terms.pendingRaise(pendingText, when(pending.effectiveAt))}
        </p>
      )}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!limits) return;
          const d = parse(daily);
          const m = parse(monthly);
          const errs: Partial<Record<LimitKey, string>> = {};
          if (d === undefined) errs.dailyPledgeLimit = t.terms.errLimit;
          if (m === undefined) errs.monthlyPledgeLimit = t.terms.errLimit;
          setErrors(errs);
          if (d === undefined || m === undefined) return;
          // Only what changed: an unchanged field must not disturb a pending raise.
          const body: Partial<Record<LimitKey, number | null>> = {};
          if (d !== limits.dailyPledgeLimit) body.dailyPledgeLimit = d;
          if (m !== limits.monthlyPledgeLimit) body.monthlyPledgeLimit = m;
          void save.run(async () => {
            const next = await api<Limits>('PUT', '/api/v1/me/limits', { body });
            show(next);
            return next.pending
              ? t.terms.limitsSavedLater(when(next.pending.effectiveAt))
              : t.terms.limitsSaved;
          });
        }}
      >
        <div className="grid-2">
          <AmountField
            label={t.terms.daily}
            hint={t.terms.limitHint}
            error={errors.dailyPledgeLimit}
            value={daily}
            onChange={setDaily}
          />
          <AmountField
            label={t.terms.monthly}
            hint={t.terms.limitHint}
            error={errors.monthlyPledgeLimit}
            value={monthly}
            onChange={setMonthly}
          />
        </div>
        <ProblemMessage error={save.error} />
        <SuccessMessage>{save.done}</SuccessMessage>
        <button type="submit" className="button button-primary" disabled={save.busy || !limits}>
          {t.terms.saveLimits}
        </button>
      </form>

      <h3 className="limits-sub">{t.terms.selfExclusionTitle}</h3>
      <p className="muted">{t.terms.selfExclusionLead}</p>
      {excludedUntil && (
        <p className="alert alert-info" data-testid="excluded-until">
          {t.terms.excludedUntil(when(excludedUntil))}
        </p>
      )}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const n = Number(days.trim());
          if (days.trim() === '' || !Number.isSafeInteger(n) || n < 1 || n > 365) {
            setDaysError(t.terms.errDays);
            return;
          }
          setDaysError(null);
          setConfirming(n);
        }}
      >
        <div className="inline-form">
          <TextField
            label={t.terms.days}
            hint={t.terms.daysHint}
            error={daysError}
            type="number"
            inputMode="numeric"
            min={1}
            max={365}
            value={days}
            onChange={setDays}
          />
          <button type="submit" className="button button-danger" disabled={exclude.busy}>
            {t.terms.startExclusion}
          </button>
        </div>
      </form>
      <ProblemMessage error={exclude.error} />
      <SuccessMessage>{exclude.done}</SuccessMessage>
      <ConfirmDialog
        open={confirming !== null}
        title={confirming ? t.terms.confirmExclusion(confirming) : ''}
        text={
          confirming
            ? t.terms.confirmExclusionText(
                when(new Date(Date.now() + confirming * 86_400_000).toISOString()),
              )
            : ''
        }
        confirmLabel={t.terms.startExclusion}
        danger
        busy={exclude.busy}
        onCancel={() => setConfirming(null)}
        onConfirm={() => {
          const n = confirming;
          setConfirming(null);
          if (!n) return;
          void exclude.run(async () => {
            const next = await api<Limits>('POST', '/api/v1/me/self-exclusion', {
              body: { days: n },
            });
            show(next);
            return next.selfExcludedUntil
              ? t.terms.exclusionStarted(when(next.selfExcludedUntil))
              : null;
          });
        }}
      />
    </section>
  );
}
