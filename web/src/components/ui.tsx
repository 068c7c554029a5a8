// Small building blocks shared by the pages.
import { useEffect, useId, useRef, type InputHTMLAttributes, type ReactNode } from 'react';
import { ApiError, OfflineError } from '../api.ts';
import { countdown } from '../format.ts';
import { useNow } from '../hooks.ts';
import { useT } from '../i18n.ts';
import type { LiveStatus } from '../live.ts';
import type { MissionState } from '../types.ts';

/** A server problem (or network failure), in words a person can act on. */
export function ProblemMessage({ error }: { error: unknown }) {
  const t = useT();
  if (!error) return null;
  let headline = t.errors.generic!;
  let detail: string | undefined;
  let fields: { path: string; message: string }[] = [];
  if (error instanceof ApiError) {
    headline = (error.code && t.errors[error.code]) || error.problem.title || headline;
    detail = error.problem.detail;
    fields = error.problem.errors ?? [];
    if (detail === headline) detail = undefined;
  } else if (error instanceof OfflineError) {
    headline = t.common.offline;
  } else if (error instanceof Error) {
    detail = error.message;
  }
  return (
    <div className="alert alert-error" role="alert">
      <p className="alert-title">{headline}</p>
      {detail && <p className="alert-detail">{detail}</p>}
      {fields.length > 0 && (
        <ul className="alert-fields">
          {fields.map((f, i) => (
            <li key={i}>
              {f.path ? <code>{f.path}</code> : null}
              {f.path ? ': ' : ''}
              {f.message}
            </li>
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

export function StateBadge({ state }: { state: MissionState }) {
  const t = useT();
  return <span className={`badge badge-${state.toLowerCase()}`}>{t.state[state]}</span>;
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

/** Parses a KRW or points amount typed by a person ("26,650" works too). */
export function parseAmount(text: string): number {
  const cleaned = text.replace(/[,\s원Pp]/g, '');
  if (!/^\d+$/.test(cleaned)) return NaN;
  return Number(cleaned);
}
