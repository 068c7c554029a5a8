// The OBS overlay: on a transparent page, a board of the channel's ACTIVE
// missions (totals, countdowns, unit counters, prediction bars), an alert for
// each pledge and a banner when a mission ends. Nothing at all shows while
// nothing is active or queued. Alerts take turns (overlay-alerts.ts): one on
// screen at a time, each once, however the stream reconnects; one whose
// message the channel owner hides is dropped (`moderation`). The query
// string picks the position, theme, size, widgets and sound
// (overlay-options.ts; the Studio's overlay settings page writes it).
import { useEffect, useMemo, useRef, useState, type CSSProperties } from 'react';
import { api } from '../api.ts';
import { perUnitTotal, UnitCounter } from '../components/Terms.tsx';
import { Countdown } from '../components/ui.tsx';
import { pts, won } from '../format.ts';
import { useNow, useTitle } from '../hooks.ts';
import { useLang, useT, type Dict } from '../i18n.ts';
import { useChannelBoard } from '../live.ts';
import { useAlertQueue, type AlertItem, type Shown } from '../overlay-alerts.ts';
import { parseOverlayOptions, TEST_ALERT_MESSAGE, type Widget } from '../overlay-options.ts';
import { useLocation } from '../router.tsx';
import type {
  Mission,
  ModerationEvent,
  PledgeEvent,
  Prediction,
  PredictionEvent,
  StateEvent,
} from '../types.ts';

/** How a mission ended, as its banner says it. */
type Outcome = 'SUCCEEDED' | 'FAILED' | 'EXPIRED' | 'CANCELLED';

type OverlayAlert = AlertItem &
  (
    | {
        kind: 'pledge';
        missionId: string;
        /** The mission as it was known when the pledge arrived (it may leave the board). */
        mission: Mission | undefined;
        backerName: string;
        amount: number;
        message: string | null;
      }
    | {
        kind: 'outcome';
        missionId: string;
        title: string;
        outcome: Outcome;
        /** Decided, final once the dispute window ends (CONFIRMING). */
        pending: boolean;
        /** The amount as words: what succeeded, failed or is refunded. */
        amountText: string;
      }
  );

/** The outcome a state event announces, if any (a rejected proposal or a review announces none). */
function outcomeOf(e: StateEvent): { outcome: Outcome; pending: boolean } | null {
  switch (e.state) {
    case 'CONFIRMING':
      return e.proposedOutcome ? { outcome: e.proposedOutcome, pending: true } : null;
    case 'SUCCEEDED':
    case 'FAILED':
    case 'EXPIRED':
    case 'CANCELLED':
      return { outcome: e.state, pending: false };
    default:
      return null;
  }
}

/**
 * What the banner says the outcome moved: on success what the backers gave
 * (on a per-unit mission, per unit × units done), else what was pledged.
 */
function outcomeAmount(m: Mission, outcome: Outcome, t: Dict): string {
  if (outcome === 'SUCCEEDED' && m.unit) {
    const per = perUnitTotal(m);
    return per === null
      ? t.terms.counter(m.unit.units, m.unit.maxUnits, m.unit.label)
      : won(per * m.unit.units);
  }
  return won(m.pledgedAmount);
}

/**
 * Whether a mission was accepted. A board mission is as it was before the
 * event: one read while still proposed has no acceptedAt, and learned of its
 * acceptance from the live event alone, so its state says it ran.
 */
function ran(m: Mission): boolean {
  return m.acceptedAt !== null || m.state === 'ACTIVE' || m.state === 'CONFIRMING' || m.state === 'IN_REVIEW';
}

export function OverlayPage({ handle }: { handle: string }) {
  const t = useT();
  const lang = useLang();
  const { search } = useLocation();
  const opts = useMemo(() => parseOverlayOptions(search), [search]);
  const has = (w: Widget) => opts.widgets.includes(w);

  const { current, enqueue, drop } = useAlertQueue<OverlayAlert>({
    durationMs: opts.duration * 1000,
    sound: opts.sound,
    volume: opts.volume,
    tts: opts.tts,
    speechLang: lang === 'en' ? 'en-US' : 'ko-KR',
  });
  const alertsOn = opts.widgets.includes('alerts');

  // The board as last rendered: a state event is handled before the board
  // re-renders, so this is the mission as it was before the event.
  const missionsRef = useRef(new Map<string, Mission>());

  const announce = (m: Mission, outcome: Outcome, pending: boolean, eventId: number) => {
    // Only a mission that ran gets a banner: proposals never were on the board.
    if (!ran(m)) return;
    enqueue({
      kind: 'outcome',
      key: `outcome:${m.id}:${outcome}`,
      eventId,
      speech: null,
      missionId: m.id,
      title: m.title,
      outcome,
      pending,
      amountText: outcomeAmount(m, outcome, t),
    });
  };

  const board = useChannelBoard(handle, {
    pledge: (e: PledgeEvent, id: number) => {
      // A voided pledge (a reversed payment) only lowers the totals: no alert.
      if (!alertsOn || e.voided || !e.pledgeId) return;
      enqueue({
        kind: 'pledge',
        key: `pledge:${e.pledgeId}`,
        eventId: id,
        speech: e.message ?? null,
        missionId: e.missionId,
        mission: missionsRef.current.get(e.missionId),
        backerName: e.backerName,
        amount: e.amount,
        message: e.message ?? null,
      });
    },
    // The owner hid the message: that alert never shows, or leaves now (and stops being read).
    moderation: (e: ModerationEvent) => {
      if (e.messageHidden && e.pledgeId) drop(`pledge:${e.pledgeId}`);
    },
    state: (e: StateEvent, id: number) => {
      const o = alertsOn ? outcomeOf(e) : null;
      if (!o) return;
      const known = missionsRef.current.get(e.missionId);
      if (known) {
        announce(known, o.outcome, o.pending, id);
        return;
      }
      // Not on the board (it started before this page): read it, then announce.
      void api<{ mission: Mission }>('GET', `/api/v1/missions/${encodeURIComponent(e.missionId)}`)
        .then(({ mission }) => announce(mission, o.outcome, o.pending, id))
        .catch(() => undefined);
    },
  });
  missionsRef.current = new Map(board.missions.map((m) => [m.id, m]));
  useTitle(t.overlay.title(board.channel?.displayName ?? handle));

  // The Studio's preview: a test alert and banner on request (same origin only).
  const tests = useRef(0);
  useEffect(() => {
    if (!opts.preview) return;
    const onMessage = (ev: MessageEvent) => {
      if (ev.origin !== window.location.origin) return;
      if ((ev.data as { type?: unknown } | null)?.type !== TEST_ALERT_MESSAGE) return;
      const n = ++tests.current;
      enqueue({
        kind: 'pledge',
        key: `test:${n}:pledge`,
        eventId: 0,
        speech: t.overlay.sampleMessage,
        missionId: 'sample',
        mission: undefined,
        backerName: t.overlay.sampleBacker,
        amount: 10_000,
        message: t.overlay.sampleMessage,
      });
      enqueue({
        kind: 'outcome',
        key: `test:${n}:outcome`,
        eventId: 0,
        speech: null,
        missionId: 'sample',
        title: t.overlay.sampleTitle,
        outcome: 'SUCCEEDED',
        pending: false,
        amountText: won(12_000),
      });
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [opts.preview, enqueue, t]);

  const sample = useSample(t, opts.preview);
  const active = board.missions
    .filter((m) => m.state === 'ACTIVE')
    .sort((a, b) => (a.deadline ?? '').localeCompare(b.deadline ?? ''));
  const shown = (active.length === 0 && sample ? [sample.mission] : active).filter(
    (m) => has('board') || has('prediction') || (has('units') && m.unit),
  );

  const rootClass = [
    'overlay-root',
    `overlay-pos-${opts.position}`,
    `overlay-theme-${opts.theme}`,
    opts.preview ? 'overlay-preview' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const style = { '--overlay-scale': String(opts.scale) } as CSSProperties;

  return (
    <main
      className={rootClass}
      style={style}
      data-position={opts.position}
      data-theme={opts.theme}
      data-widgets={opts.widgets.join(',')}
    >
      <h1 className="visually-hidden">{t.overlay.title(board.channel?.displayName ?? handle)}</h1>
      <div className="overlay-stack">
        {shown.length > 0 && (
          <ul className="overlay-board">
            {shown.map((m) => (
              <MissionCard
                key={m.id}
                mission={m}
                widgets={opts.widgets}
                lastEventId={board.lastPledge[m.id]?.eventId}
                live={board.pools[m.id]}
                sample={m === sample?.mission ? sample.prediction : undefined}
              />
            ))}
          </ul>
        )}
        {alertsOn && (
          <div className="overlay-alerts" role="status" aria-live="polite">
            {current && (
              <AlertView key={current.key} alert={current} missions={missionsRef.current} />
            )}
          </div>
        )}
      </div>
    </main>
  );
}

function MissionCard({
  mission: m,
  widgets,
  lastEventId,
  live,
  sample,
}: {
  mission: Mission;
  widgets: Widget[];
  lastEventId: number | undefined;
  live: PredictionEvent | undefined;
  sample: Prediction | undefined;
}) {
  const t = useT();
  const board = widgets.includes('board');
  return (
    <li
      className={`overlay-mission${board ? '' : ' overlay-mission-compact'}`}
      data-mission-id={m.id}
    >
      <span className="overlay-title">{m.title}</span>
      {board && (
        <span
          className={`overlay-total${lastEventId ? ' pop' : ''}`}
          data-testid="overlay-total"
          key={lastEventId ?? 0}
        >
          {won(m.pledgedAmount)}
        </span>
      )}
      {widgets.includes('units') && m.unit && <UnitCounter mission={m} className="overlay-units" />}
      {board && (
        <span className="overlay-meta">
          <span className="overlay-backers">{t.overlay.backers(m.backerCount)}</span>
          <Countdown until={m.deadline} className="overlay-time" />
        </span>
      )}
      {widgets.includes('prediction') && (
        <OverlayPrediction missionId={m.id} live={live} sample={sample} />
      )}
    </li>
  );
}

function AlertView({
  alert: a,
  missions,
}: {
  alert: Shown<OverlayAlert>;
  missions: Map<string, Mission>;
}) {
  const t = useT();
  const leaving = a.leaving ? ' leaving' : '';
  if (a.kind === 'outcome') {
    const note = a.pending
      ? t.overlay.outcomeNote.pending
      : a.outcome === 'SUCCEEDED'
        ? null
        : t.overlay.outcomeNote[a.outcome];
    return (
      <div
        className={`overlay-banner overlay-banner-${a.outcome.toLowerCase()}${leaving}`}
        data-mission-id={a.missionId}
        data-outcome={a.outcome}
        data-testid="overlay-banner"
      >
        <span className="overlay-banner-text">{t.overlay.outcome[a.outcome](a.amountText)}</span>
        <span className="overlay-banner-title">{a.title}</span>
        {note && <span className="overlay-banner-note">{note}</span>}
      </div>
    );
  }
  const m = missions.get(a.missionId) ?? a.mission;
  // On a per-unit mission a pledge's amount is per unit.
  const amount = m?.unit ? t.terms.perUnitAmount(won(a.amount), m.unit.label) : won(a.amount);
  return (
    <div className={`overlay-alert${leaving}`} data-pledge-id={a.key.slice('pledge:'.length)}>
      <span className="overlay-alert-text">{t.overlay.pledgeAlert(a.backerName, amount)}</span>
      {a.message && <span className="overlay-alert-message">{a.message}</span>}
      {m?.title && <span className="overlay-alert-mission">{m.title}</span>}
    </div>
  );
}

/**
 * The mission's prediction: both pools as numbers and as a bar, and the time
 * left to bet (until locksAt, or "closed" once the streamer locked it).
 */
function OverlayPrediction({
  missionId,
  live,
  sample,
}: {
  missionId: string;
  live?: PredictionEvent;
  sample?: Prediction;
}) {
  const t = useT();
  const now = useNow();
  const [read, setRead] = useState<Prediction | null>(null);
  // Read once, and again when the prediction changes state (the streamer's lock moves locksAt).
  useEffect(() => {
    if (sample) return;
    void api<Prediction>('GET', `/api/v1/missions/${missionId}/prediction`)
      .then(setRead)
      .catch(() => undefined);
  }, [missionId, live?.state, sample]);
  const view = sample ?? read;
  if (!view && !live) return null;
  const yes = Math.max(view?.pools.SUCCEEDED ?? 0, live?.pools.SUCCEEDED ?? 0);
  const no = Math.max(view?.pools.FAILED ?? 0, live?.pools.FAILED ?? 0);
  const open =
    view !== null && (live?.state ?? view.state) === 'OPEN' && Date.parse(view.locksAt) > now;
  const share = yes + no > 0 ? Math.round((yes / (yes + no)) * 1000) / 10 : 50;
  return (
    <span className="overlay-prediction" data-testid="overlay-prediction">
      <span className="overlay-prediction-text">
        {t.overlay.prediction(pts(yes), pts(no))}
        {' · '}
        {open ? (
          <Countdown until={view.locksAt} className="overlay-lock-time" />
        ) : (
          t.overlay.predictionLocked
        )}
      </span>
      <span className="overlay-prediction-bar" aria-hidden="true">
        <span className="overlay-prediction-yes" style={{ width: `${share}%` }} />
      </span>
    </span>
  );
}

/** The preview's stand-in when nothing is active: a per-unit mission with a prediction. */
function useSample(t: Dict, preview: boolean): { mission: Mission; prediction: Prediction } | null {
  const [at] = useState(() => Date.now());
  return useMemo(() => {
    if (!preview) return null;
    const iso = (ms: number) => new Date(at + ms).toISOString();
    const mission: Mission = {
      id: 'sample',
      channel: 'sample',
      title: t.overlay.sampleTitle,
      description: null,
      state: 'ACTIVE',
      pledgedAmount: 30_000,
      backerCount: 7,
      durationSeconds: 3600,
      failureKeepBps: 0,
      createdAt: iso(-600_000),
      acceptDeadline: iso(3_000_000),
      acceptedAt: iso(-300_000),
      deadline: iso(3_300_000),
      decidedAt: null,
      settledAt: null,
      createdBy: 'sample',
      unit: { label: t.overlay.sampleUnit, maxUnits: 30, units: 12 },
      proposedOutcome: null,
      disputeEndsAt: null,
      disputedAmount: null,
      proofUrl: null,
      note: null,
      proposerName: null,
      proposalMessage: null,
    };
    const prediction: Prediction = {
      state: 'OPEN',
      pools: { SUCCEEDED: 1_200, FAILED: 800 },
      locksAt: iso(1_500_000),
      myBet: null,
    };
    return { mission, prediction };
  }, [t, preview, at]);
}
