// The OBS overlay: a read-only board of the channel's ACTIVE missions on a
// transparent page, and a short alert for each pledge. An alert is keyed by
// its pledge id, so a reconnect (which resumes after Last-Event-ID anyway)
// can never show one twice.
import { useRef, useState } from 'react';
import { Countdown } from '../components/ui.tsx';
import { won } from '../format.ts';
import { useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { useChannelBoard } from '../live.ts';
import type { PledgeEvent } from '../types.ts';

const ALERT_MS = 6000;
const MAX_SEEN = 5000;

interface Alert {
  key: string;
  backerName: string;
  amount: number;
  missionId: string;
}

export function OverlayPage({ handle }: { handle: string }) {
  const t = useT();
  const seen = useRef(new Set<string>());
  const [alerts, setAlerts] = useState<Alert[]>([]);

  const board = useChannelBoard(handle, {
    pledge: (e: PledgeEvent) => {
      if (!e.pledgeId || seen.current.has(e.pledgeId)) return;
      seen.current.add(e.pledgeId);
      if (seen.current.size > MAX_SEEN)
        seen.current = new Set([...seen.current].slice(-MAX_SEEN / 2));
      const alert = {
        key: e.pledgeId,
        backerName: e.backerName,
        amount: e.amount,
        missionId: e.missionId,
      };
      setAlerts((a) => [...a.slice(-2), alert]);
      setTimeout(() => setAlerts((a) => a.filter((x) => x.key !== alert.key)), ALERT_MS);
    },
  });
  useTitle(t.overlay.title(board.channel?.displayName ?? handle));

  const titleOf = (id: string) => board.missions.find((m) => m.id === id)?.title;
  const active = board.missions
    .filter((m) => m.state === 'ACTIVE')
    .sort((a, b) => (a.deadline ?? '').localeCompare(b.deadline ?? ''));

  return (
    <main className="overlay-root">
      <h1 className="visually-hidden">{t.overlay.title(board.channel?.displayName ?? handle)}</h1>
      <div className="overlay-alerts" role="status" aria-live="polite">
        {alerts.map((a) => (
          <div key={a.key} className="overlay-alert" data-pledge-id={a.key}>
            <span className="overlay-alert-text">
              {t.overlay.pledgeAlert(a.backerName, won(a.amount))}
            </span>
            {titleOf(a.missionId) && (
              <span className="overlay-alert-mission">{titleOf(a.missionId)}</span>
            )}
          </div>
        ))}
      </div>
      <ul className="overlay-board">
        {board.loaded && active.length === 0 && <li className="overlay-empty">{t.overlay.none}</li>}
        {active.map((m) => {
          const last = board.lastPledge[m.id];
          return (
            <li key={m.id} className="overlay-mission" data-mission-id={m.id}>
              <span className="overlay-title">{m.title}</span>
              <span
                className={`overlay-total${last ? ' pop' : ''}`}
                data-testid="overlay-total"
                key={last?.eventId ?? 0}
              >
                {won(m.pledgedAmount)}
              </span>
              <span className="overlay-meta">
                <span className="overlay-backers">{t.overlay.backers(m.backerCount)}</span>
                <Countdown until={m.deadline} className="overlay-time" />
              </span>
            </li>
          );
        })}
      </ul>
    </main>
  );
}
