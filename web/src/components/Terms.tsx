// Pledge terms shown and chosen in forms: the message, the choice on
// failure, per-unit missions (the counter and the hold) and a mission's
// pledges with their messages.
import { useEffect, useId, useRef, useState } from 'react';
import { api } from '../api.ts';
import { dateTime, won } from '../format.ts';
import { useAction } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import type { LastPledge } from '../live.ts';
import type { Mission, OnFailure, Page, Pledge } from '../types.ts';
import { hidePledgeMessage, HideMessageButton } from './HideMessage.tsx';
import { Field, ProblemMessage, SuccessMessage } from './ui.tsx';

export const MESSAGE_MAX = 200;
export const chars = (s: string) => [...s].length;

/** An optional message of at most 200 characters, with a live counter. */
export function MessageField({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange(v: string): void;
  error?: string | null;
}) {
  const t = useT();
  const counterId = useId();
  const n = chars(value);
  return (
    <Field label={t.terms.message} hint={t.terms.messageHint} error={error}>
      {({ id, describedBy, invalid }) => (
        <>
          <textarea
            id={id}
            rows={2}
            value={value}
            onChange={(e) => onChange(e.target.value)}
            aria-describedby={`${describedBy ?? ''} ${counterId}`.trim()}
            aria-invalid={invalid || n > MESSAGE_MAX || undefined}
            data-testid="message-input"
          />
          <span
            id={counterId}
            className={`counter${n > MESSAGE_MAX ? ' over' : ''}`}
            data-testid="message-count"
          >
            {t.terms.messageCount(n)}
          </span>
        </>
      )}
    </Field>
  );
}

/** REFUND or DONATE, as a pair of radio buttons, with the chosen one explained in a line. */
export function OnFailureChoice({
  value,
  onChange,
  keep,
  disabled,
}: {
  value: OnFailure;
  onChange(v: OnFailure): void;
  /** The streamer's share on failure, as a percentage text ("10%"), when known. */
  keep?: string;
  disabled?: boolean;
}) {
  const t = useT();
  const name = useId();
  const noteId = useId();
  return (
    <fieldset className="choice" aria-describedby={noteId}>
      <legend>{t.terms.onFailure}</legend>
      <div className="choice-options">
        {(['REFUND', 'DONATE'] as const).map((v) => (
          <label key={v} className="choice-option">
            <input
              type="radio"
              name={name}
              value={v}
              checked={value === v}
              disabled={disabled}
              onChange={() => onChange(v)}
            />
            {t.terms[v]}
          </label>
        ))}
      </div>
      <p id={noteId} className="hint">
        {value === 'DONATE'
          ? t.terms.donateNote
          : keep === undefined
            ? t.terms.refundNoteShare
            : t.terms.refundNote(keep)}
      </p>
    </fieldset>
  );
}

/** Sum of the per-unit amounts pledged (each hold is amount × maxUnits), or null if not exact. */
export function perUnitTotal(m: Mission): number | null {
  if (!m.unit || m.unit.maxUnits <= 0) return null;
  const per = m.pledgedAmount / m.unit.maxUnits;
  return Number.isSafeInteger(per) ? per : null;
}

/** "12 / 30 킬 · 12,000원": units done of the most, and what they have earned so far. */
export function UnitCounter({ mission: m, className }: { mission: Mission; className?: string }) {
  const t = useT();
  if (!m.unit) return null;
  const { units, maxUnits, label } = m.unit;
  const per = perUnitTotal(m);
  const pct = maxUnits > 0 ? Math.min(100, (units / maxUnits) * 100) : 0;
  const text = t.terms.counter(units, maxUnits, label);
  return (
    <span className={`unit-counter ${className ?? ''}`}>
      <span data-testid="unit-counter">
        {text}
        {per !== null && ` · ${won(per * units)}`}
      </span>
      <span
        className="unit-bar"
        role="progressbar"
        aria-label={t.terms.progress}
        aria-valuemin={0}
        aria-valuemax={maxUnits}
        aria-valuenow={units}
        aria-valuetext={text}
      >
        <span style={{ width: `${pct}%` }} />
      </span>
    </span>
  );
}

/** How long a burst of live pledges is gathered before the list is read again. */
const REREAD_MS = 2000;

/**
 * The newest pledges of a mission with their messages and, while it is open,
 * how much is donated anyway (the DONATE pledges). A live pledge shows at
 * once from its event; the list (with each choice on failure) is read again
 * at most every two seconds, however many pledges arrive. The sum is shown
 * only when every pledge was read.
 *
 * A message the owner hid while the page is open (`hidden`, from the live
 * `moderation` event) leaves at once. The channel's owner (`canHide`) gets a
 * "Hide" beside each message; `onHidden` drops it from the board.
 */
export function MissionPledges({
  mission: m,
  last,
  hidden,
  canHide = false,
  onHidden,
}: {
  mission: Mission;
  last?: LastPledge;
  hidden?: Record<string, true>;
  canHide?: boolean;
  onHidden?(pledgeId: string): void;
}) {
  const t = useT();
  const lang = useLang();
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const hide = useAction();
  const [pledges, setPledges] = useState<Pledge[] | null>(null);
  const [complete, setComplete] = useState(false);
  const [version, setVersion] = useState(0);
  const [live, setLive] = useState<LastPledge[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(
    () => () => {
      clearTimeout(timer.current);
      timer.current = undefined;
    },
    [],
  );
  useEffect(() => {
    if (!last) return;
    setLive((old) =>
      old.some((p) => p.pledgeId === last.pledgeId) ? old : [last, ...old].slice(0, 5),
    );
    timer.current ??= setTimeout(() => {
      timer.current = undefined;
      setVersion((v) => v + 1);
    }, REREAD_MS);
  }, [last]);
  useEffect(() => {
    let stopped = false;
    void (async () => {
      const all: Pledge[] = [];
      let cursor: string | null = null;
      try {
        for (let i = 0; i < 3; i++) {
          const q: string = `/api/v1/missions/${m.id}/pledges?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page: Page<Pledge> = await api<Page<Pledge>>('GET', q);
          all.push(...page.items);
          cursor = page.nextCursor;
          if (!cursor) break;
        }
      } catch {
        return; // The next pledge (or a reload) reads them again.
      }
      if (stopped) return;
      setPledges(all);
      setComplete(cursor === null);
      const read = new Set(all.map((p) => p.id));
      setLive((old) => old.filter((p) => !read.has(p.pledgeId)));
    })();
    return () => {
      stopped = true;
    };
  }, [m.id, version]);
  if (!pledges) return null;
  const open = m.state === 'PROPOSED' || m.state === 'ACTIVE';
  const donated = pledges.filter((p) => p.onFailure === 'DONATE').reduce((s, p) => s + p.amount, 0);
  const per = (amount: string) => (m.unit ? t.terms.perUnitAmount(amount, m.unit.label) : amount);
  // Pledges known only from their live event so far (their choice on failure comes with the list).
  const rows: {
    id: string;
    amount: number;
    backerName: string;
    message: string | null;
    onFailure?: string;
    createdAt?: string;
  }[] = [
    ...live
      .filter((p) => !pledges.some((x) => x.id === p.pledgeId))
      .map((p) => ({
        id: p.pledgeId,
        amount: p.amount,
        backerName: p.backerName,
        message: p.message ?? null,
      })),
    ...pledges,
  ].slice(0, 5);
  const hideOne = (pledgeId: string) =>
    void hide
      .run(async () => {
        await hidePledgeMessage(pledgeId);
        onHidden?.(pledgeId);
        return t.terms.messageHidden;
      })
      // The row stays and its button is gone: focus goes to the list's heading.
      .then((ok) => ok && heading.current?.focus());
  return (
    <section className="mission-pledges" aria-labelledby={headingId}>
      <h4 id={headingId} ref={heading} tabIndex={-1}>
        {t.terms.pledges}
      </h4>
      {open && complete && donated > 0 && (
        <p className="donated" data-testid="donated-anyway" title={t.terms.donatedAnywayNote}>
          {t.terms.donatedAnyway}: <strong>{per(won(donated))}</strong>
        </p>
      )}
      {rows.length === 0 ? (
        <p className="muted">{t.terms.noPledges}</p>
      ) : (
        <ul className="pledge-rows">
          {rows.map((p) => (
            <li key={p.id} data-pledge-id={p.id}>
              <span className="pledge-who">
                <strong>{p.backerName}</strong> {per(won(p.amount))}
                {p.onFailure === 'DONATE' && (
                  <span className="badge badge-donate">{t.terms.DONATE}</span>
                )}
                {p.createdAt && <span className="muted"> · {dateTime(p.createdAt, lang)}</span>}
              </span>
              {p.message && !hidden?.[p.id] && (
                <span className="pledge-message-row">
                  <span className="pledge-message" data-testid="pledge-message">
                    {p.message}
                  </span>
                  {canHide && (
                    <HideMessageButton
                      backerName={p.backerName}
                      busy={hide.busy}
                      onHide={() => hideOne(p.id)}
                    />
                  )}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <ProblemMessage error={hide.error} />
      <SuccessMessage>{hide.done}</SuccessMessage>
    </section>
  );
}
