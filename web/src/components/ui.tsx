// Small building blocks shared by the pages.
import { useEffect, useId, useLayoutEffect, useRef, useState, type InputHTMLAttributes, type ReactNode } from 'react';
import { ApiError, OfflineError } from '../api.ts';
import { amountEdit, countdown, groupedAmountText } from '../format.ts';
import { useNow } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import { describeProblem, GENERIC_TEXT } from '../problems.ts';
import type { LiveStatus } from '../live.ts';
import type { MissionState } from '../types.ts';

/**
 * A server problem (or network failure), in words a person can act on: the
 * sentence for its catalogue code and one per offending field, in the
 * reader's language (problems.ts). The server's own English `detail` and
 * field messages are never shown.
 */
export function ProblemMessage({ error }: { error: unknown }) {
  const t = useT();
  const lang = useLang();
  if (!error) return null;
  let headline = GENERIC_TEXT[lang];
  let fields: string[] = [];
  if (error instanceof ApiError) {
    ({ headline, fields } = describeProblem(error.problem, lang));
  } else if (error instanceof OfflineError) {
    headline = t.common.offline;
  }
  return (
    <div className="alert alert-error" role="alert">
      <p className="alert-title">{headline}</p>
      {fields.length > 0 && (
        <ul className="alert-fields">
          {fields.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function SuccessMessage({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="alert alert-ok" role="status">
      {children}
    </p>
  );
}

/** A labelled form field with an optional hint and a client-side error. */
export function Field(props: {
  label: string;
  hint?: string;
  error?: string | null;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const describedBy =
    [props.hint ? hintId : null, props.error ? errId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.children({ id, describedBy, invalid: Boolean(props.error) })}
      {props.hint && (
        <p className="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p className="field-error" id={errId}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/**
 * A labelled text input: Field's label, hint and error wiring around an
 * <input>, which gets every other prop.
 */
export function TextField({
  label,
  hint,
  error,
  value,
  onChange,
  ...input
}: {
  label: string;
  hint?: string;
  error?: string | null;
  value: string;
  onChange: (value: string) => void;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange'>) {
  return (
    <Field label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <input
          {...input}
          id={id}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
        />
      )}
    </Field>
  );
}

/**
 * A labelled KRW (or points) amount input that groups digits as they are
 * typed ("10000" shows as "10,000", the caret staying after the same digit).
 * `value` is the text; parseAmount(value) is the integer to submit. Anything
 * but digits is dropped as it is typed; a numeric keypad opens on phones.
 */
export function AmountField({
  label,
  hint,
  error,
  value,
  onChange,
  ...input
}: {
  label: string;
  hint?: string;
  error?: string | null;
  value: string;
  onChange: (value: string) => void;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange' | 'type'>) {
  const ref = useRef<HTMLInputElement>(null);
  const caret = useRef<number | null>(null);
  const shown = groupedAmountText(value);
  // After React writes the regrouped text, put the caret back after its digit.
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && caret.current !== null && document.activeElement === el) {
      el.setSelectionRange(caret.current, caret.current);
    }
    caret.current = null;
  });
  return (
    <Field label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <input
          inputMode="numeric"
          autoComplete="off"
          {...input}
          ref={ref}
          type="text"
          className={`amount-input ${input.className ?? ''}`.trim()}
          id={id}
          value={shown}
          onChange={(e) => {
            const el = e.target;
            const edit = amountEdit(
              shown,
              el.value,
              el.selectionStart ?? el.value.length,
              (e.nativeEvent as InputEvent).inputType ?? '',
            );
            if (edit.text === shown) {
              // Nothing to change (a letter typed): React keeps the text, the caret stays put.
              el.value = shown;
              el.setSelectionRange(edit.caret, edit.caret);
              return;
            }
            caret.current = edit.caret;
            onChange(edit.text);
          }}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
        />
      )}
    </Field>
  );
}

export function StateBadge({ state }: { state: MissionState }) {
  const t = useT();
  return <span className={`badge badge-${state.toLowerCase()}`}>{t.state[state]}</span>;
}

/** A mission card's head: its title (the card's label, `titleId`) and state. */
export function MissionHead({ titleId, state, children }: { titleId: string; state: MissionState; children: ReactNode }) {
  return (
    <header className="mission-head">
      <h3 id={titleId} className="mission-title">
        {children}
      </h3>
      <StateBadge state={state} />
    </header>
  );
}

/** A live countdown to `until` (ISO time); announces nothing (it would be noise). */
export function Countdown({ until, className }: { until: string | null; className?: string }) {
  const t = useT();
  const now = useNow();
  if (!until) return <span className={className}>–</span>;
  const ms = new Date(until).getTime() - now;
  return (
    <time dateTime={until} className={`countdown ${className ?? ''}`}>
      {countdown(ms, t)}
    </time>
  );
}

export function LiveIndicator({ status }: { status: LiveStatus }) {
  const t = useT();
  return (
    <p className={`live live-${status}`}>
      <span className="live-dot" aria-hidden="true" />
      {t.common.live[status]}
    </p>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

/**
 * A confirmation as a native modal <dialog>: focus moves into it, Escape
 * cancels, and focus returns to the button that opened it.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  text: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const textId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      aria-describedby={textId}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={titleId} className="dialog-title">
        {props.title}
      </h2>
      <p id={textId}>{props.text}</p>
      <div className="button-row">
        <button
          type="button"
          className="button button-secondary"
          onClick={props.onCancel}
          autoFocus
        >
          {t.common.cancel}
        </button>
        <button
          type="button"
          className={`button ${props.danger ? 'button-danger' : 'button-primary'}`}
          onClick={props.onConfirm}
          disabled={props.busy}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

const UNITS = [
  ['s', 1],
  ['m', 60],
  ['h', 3600],
  ['d', 86400],
] as const;
type Unit = (typeof UNITS)[number][0];

/** A duration as a number and a unit; the value is in whole seconds (NaN when not a number). */
export function DurationInput(props: {
  label: string;
  hint?: string;
  error?: string | null;
  amount: string;
  unit: Unit;
  onChange(amount: string, unit: Unit): void;
}) {
  const t = useT();
  const unitId = useId();
  const names: Record<Unit, string> = {
    s: t.common.seconds,
    m: t.common.minutes,
    h: t.common.hours,
    d: t.common.days,
  };
  return (
    <Field label={props.label} hint={props.hint} error={props.error}>
      {({ id, describedBy, invalid }) => (
        <div className="duration">
          <input
            id={id}
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            value={props.amount}
            aria-describedby={describedBy}
            aria-invalid={invalid || undefined}
            onChange={(e) => props.onChange(e.target.value, props.unit)}
          />
          <label htmlFor={unitId} className="visually-hidden">
            {`${props.label} ${t.common.unit}`}
          </label>
          <select
            id={unitId}
            value={props.unit}
            onChange={(e) => props.onChange(props.amount, e.target.value as Unit)}
          >
            {UNITS.map(([u]) => (
              <option key={u} value={u}>
                {names[u]}
              </option>
            ))}
          </select>
        </div>
      )}
    </Field>
  );
}

export function durationSeconds(amount: string, unit: Unit): number {
  const n = Number(amount);
  const size = UNITS.find(([u]) => u === unit)![1];
  return Number.isFinite(n) ? Math.round(n * size) : NaN;
}

/** Splits seconds into the largest whole unit, for a DurationInput. */
export function toDuration(seconds: number): { amount: string; unit: Unit } {
  for (const [u, size] of [...UNITS].reverse()) {
    if (seconds >= size && seconds % size === 0) return { amount: String(seconds / size), unit: u };
  }
  return { amount: String(seconds), unit: 's' };
}

export type { Unit as DurationUnit };

export { parseAmount } from '../format.ts';

/** A read-only value (a URL to paste elsewhere) with a button that copies it. */
export function CopyField({ label, hint, value, testId }: { label: string; hint: string; value: string; testId?: string }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  return (
    <Field label={label} hint={hint}>
      {({ id, describedBy }) => (
        <div className="inline-form">
          <input
            id={id}
            readOnly
            value={value}
            aria-describedby={describedBy}
            data-testid={testId}
            onFocus={(e) => e.target.select()}
          />
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              void navigator.clipboard
                ?.writeText(value)
                .then(() => {
                  setCopied(true);
                  setTimeout(() => setCopied(false), 2000);
                })
                .catch(() => undefined);
            }}
          >
            {copied ? t.common.copied : t.common.copy}
          </button>
        </div>
      )}
    </Field>
  );
}
