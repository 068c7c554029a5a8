import { useCallback, useEffect, useId, useState } from 'react';
import { api, newIdempotencyKey } from '../api.ts';
import { groupDigits, pts } from '../format.ts';
import { useAction, useNow, useSession } from '../hooks.ts';
import { useT } from '../i18n.ts';
import type { Mission, Prediction, PredictionEvent, Side } from '../types.ts';
import { AmountField, Countdown, parseAmount, ProblemMessage, SuccessMessage } from './ui.tsx';

/**
 * The points-only prediction of an ACTIVE mission: live pools (from the
 * channel's `prediction` events), my bet, and a form to bet.
 */
export function PredictionWidget({
  mission,
  live,
  canBet,
  onBet,
}: {
  mission: Mission;
  live?: PredictionEvent;
  canBet: boolean;
  onBet?(): void;
}) {
  const t = useT();
  const session = useSession();
  const [view, setView] = useState<Prediction | null>(null);
  const [side, setSide] = useState<Side>('SUCCEEDED');
  const [points, setPoints] = useState('100');
  const [pointsError, setPointsError] = useState<string | null>(null);
  const bet = useAction();
  const headingId = useId();
  const signedIn = session.status === 'signed-in';
  const now = useNow();

  const load = useCallback(async () => {
    try {
      setView(await api<Prediction>('GET', `/api/v1/missions/${mission.id}/prediction`));
    } catch {
      // No prediction (yet); the widget waits for events.
    }
  }, [mission.id]);

  // Reload on sign-in (myBet), on a state change of the mission, and when the
  // prediction itself changes state (resolution pays out).
  useEffect(() => {
    void load();
  }, [load, signedIn, mission.state, mission.settledAt, live?.state]);

  useEffect(() => {
    if (view?.myBet) setSide(view.myBet.side);
  }, [view?.myBet]);

  const pools = {
    SUCCEEDED: Math.max(view?.pools.SUCCEEDED ?? 0, live?.pools.SUCCEEDED ?? 0),
    FAILED: Math.max(view?.pools.FAILED ?? 0, live?.pools.FAILED ?? 0),
  };
  const total = pools.SUCCEEDED + pools.FAILED;
  const share = (n: number) => (total === 0 ? 50 : Math.round((n / total) * 100));
  const state = live?.state ?? view?.state ?? 'OPEN';
  const open =
    state === 'OPEN' &&
    view !== null &&
    new Date(view.locksAt).getTime() > now &&
    mission.state === 'ACTIVE';
  const sideName = (s: Side) => (s === 'SUCCEEDED' ? t.prediction.yes : t.prediction.no);

  return (
    <section className="prediction" aria-labelledby={headingId}>
      <h4 id={headingId}>{t.prediction.title}</h4>
      <div className="pools">
        <div className="pool pool-yes">
          <span className="pool-label">{t.prediction.yes}</span>
          <span className="pool-value" data-testid="pool-yes">
            {pts(pools.SUCCEEDED)}
          </span>
          <span className="pool-share">{share(pools.SUCCEEDED)}%</span>
        </div>
        <div className="pool pool-no">
          <span className="pool-label">{t.prediction.no}</span>
          <span className="pool-value" data-testid="pool-no">
            {pts(pools.FAILED)}
          </span>
          <span className="pool-share">{share(pools.FAILED)}%</span>
        </div>
      </div>
      <div className="pool-bar" aria-hidden="true">
        <span className="pool-bar-yes" style={{ width: `${share(pools.SUCCEEDED)}%` }} />
      </div>
      {state === 'OPEN' && view && mission.state === 'ACTIVE' ? (
        <p className="muted">
          {t.prediction.locksIn} <Countdown until={view.locksAt} />
        </p>
      ) : state === 'RESOLVED' ? (
        <p className="muted">{t.prediction.resolved}</p>
      ) : state === 'REFUNDED' ? (
        <p className="muted">{t.prediction.refunded}</p>
      ) : view ? (
        <p className="muted">{t.prediction.locked}</p>
      ) : null}
      {view?.myBet && (
        <p className="my-bet" data-testid="my-bet">
          {t.prediction.myBet(sideName(view.myBet.side), pts(view.myBet.points))}
          {view.myBet.payout !== null && ` · ${t.prediction.payout(pts(view.myBet.payout))}`}
        </p>
      )}
      {canBet && signedIn && open && (
        <form
          className="bet-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            const n = parseAmount(points);
            if (!Number.isSafeInteger(n) || n < 1) {
              setPointsError(t.prediction.errPoints);
              return;
            }
            setPointsError(null);
            const key = newIdempotencyKey();
            void bet.run(async () => {
              await api('POST', `/api/v1/missions/${mission.id}/prediction/bets`, {
                body: { side, points: n },
                idempotencyKey: key,
              });
              await load();
              onBet?.();
              return t.prediction.betOk;
            });
          }}
        >
          <fieldset className="sides">
            <legend>{t.prediction.side}</legend>
            {(['SUCCEEDED', 'FAILED'] as const).map((s) => (
              <label key={s} className="radio">
                <input
                  type="radio"
                  name={`side-${mission.id}`}
                  value={s}
                  checked={side === s}
                  disabled={Boolean(view?.myBet) && view?.myBet?.side !== s}
                  onChange={() => setSide(s)}
                />
                {sideName(s)}
              </label>
            ))}
          </fieldset>
          <AmountField
            label={t.prediction.points}
            error={pointsError}
            value={points}
            onChange={setPoints}
          />
          <ProblemMessage error={bet.error} />
          <SuccessMessage>{bet.done}</SuccessMessage>
          <button type="submit" className="button button-secondary" disabled={bet.busy}>
            {bet.busy
              ? t.prediction.betting
              : `${t.prediction.bet} (${groupDigits(parseAmount(points) || 0)}P)`}
          </button>
          <p className="hint">{t.prediction.onlyPoints}</p>
        </form>
      )}
    </section>
  );
}
