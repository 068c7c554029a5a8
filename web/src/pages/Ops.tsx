// The operators' page: rates computed from consecutive polls of the
// cumulative counters in /api/v1/ops/summary, and the ledger verifier.
import { useCallback, useRef, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { PageTitle } from '../components/Layout.tsx';
import { ProblemMessage, Spinner } from '../components/ui.tsx';
import { durationWords, fullDateTime, groupDigits } from '../format.ts';
import { useAction, usePolling, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import type { LedgerReport, Me, OpsSummary } from '../types.ts';

const POLL_MS = 2000;
const KEEP = 150; // five minutes of samples

interface Series {
  x: number[];
  rps: (number | null)[];
  latencyMs: (number | null)[];
  pledgesPerS: (number | null)[];
  lagS: (number | null)[];
  outbox: number[];
  mail: number[];
  sse: number[];
}

const empty = (): Series => ({
  x: [],
  rps: [],
  latencyMs: [],
  pledgesPerS: [],
  lagS: [],
  outbox: [],
  mail: [],
  sse: [],
});

/** Appends one derived point from two consecutive summaries (null where a counter reset or did not move). */
export function derive(prev: OpsSummary, cur: OpsSummary, s: Series): Series {
  const dt = (Date.parse(cur.at) - Date.parse(prev.at)) / 1000;
  const rate = (a: number, b: number) => (dt > 0 && b >= a ? (b - a) / dt : null);
  const mean = (sumA: number, sumB: number, nA: number, nB: number) =>
    nB > nA && sumB >= sumA ? (sumB - sumA) / (nB - nA) : null;
  const lat = mean(
    prev.http.latencySecondsSum,
    cur.http.latencySecondsSum,
    prev.http.latencyCount,
    cur.http.latencyCount,
  );
  const push = <T,>(arr: T[], v: T) => [...arr, v].slice(-KEEP);
  return {
    x: push(s.x, Date.parse(cur.at) / 1000),
    rps: push(s.rps, rate(prev.http.requests, cur.http.requests)),
    latencyMs: push(s.latencyMs, lat === null ? null : lat * 1000),
    pledgesPerS: push(s.pledgesPerS, rate(prev.pledges.count, cur.pledges.count)),
    lagS: push(
      s.lagS,
      mean(
        prev.settlement.lagSecondsSum,
        cur.settlement.lagSecondsSum,
        prev.settlement.lagCount,
        cur.settlement.lagCount,
      ),
    ),
    outbox: push(s.outbox, cur.outbox.pending),
    mail: push(s.mail, cur.mail.pending),
    sse: push(s.sse, cur.sse.clients),
  };
}

const fmt = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? '–' : Number(v.toFixed(digits)).toLocaleString('en-US');

export function OpsPage({ me }: { me: Me }) {
  const t = useT();
  useTitle(t.ops.title);
  if (!me.roles.includes('admin')) {
    return (
      <>
        <PageTitle>{t.ops.title}</PageTitle>
        <p className="alert alert-info">{t.ops.forbidden}</p>
      </>
    );
  }
  return <OpsDashboard />;
}

function OpsDashboard() {
  const t = useT();
  const lang = useLang();
  const [last, setLast] = useState<OpsSummary | null>(null);
  const [series, setSeries] = useState<Series>(empty);
  const [error, setError] = useState<unknown>(null);
  const [report, setReport] = useState<LedgerReport | null>(null);
  const verify = useAction();
  const prevRef = useRef<OpsSummary | null>(null);

  const poll = useCallback(async () => {
    try {
      const cur = await api<OpsSummary>('GET', '/api/v1/ops/summary');
      const prev = prevRef.current;
      if (prev && Date.parse(cur.at) > Date.parse(prev.at)) setSeries((s) => derive(prev, cur, s));
      prevRef.current = cur;
      setLast(cur);
      setError(null);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.status === 403) throw err;
    }
  }, []);
  usePolling(poll, POLL_MS);

  const ledger =
    report && (!last?.ledger.last || report.checkedAt >= last.ledger.last.checkedAt)
      ? report
      : (last?.ledger.last ?? null);
  const at = (i: (number | null)[]) => i.at(-1) ?? null;

  const charts: {
    key: keyof Omit<Series, 'x'>;
    title: string;
    color: string;
    digits?: number;
    stepped?: boolean;
  }[] = [
    { key: 'rps', title: t.ops.requests, color: '#5b21b6' },
    { key: 'latencyMs', title: t.ops.latency, color: '#1d4ed8', digits: 2 },
    { key: 'pledgesPerS', title: t.ops.pledges, color: '#047857', digits: 2 },
    { key: 'lagS', title: t.ops.lag, color: '#b45309', digits: 3 },
    { key: 'outbox', title: t.ops.outbox, color: '#be123c', digits: 0, stepped: true },
    { key: 'mail', title: t.ops.mail, color: '#0f766e', digits: 0, stepped: true },
    { key: 'sse', title: t.ops.sse, color: '#7c2d12', digits: 0, stepped: true },
  ];

  return (
    <>
      <PageTitle>{t.ops.title}</PageTitle>
      <ProblemMessage error={error} />
      {!last ? (
        <Spinner label={t.common.loading} />
      ) : (
        <>
          <dl className="stats">
            <div className="stat">
              <dt>{t.ops.uptime}</dt>
              <dd>{durationWords(last.uptimeSeconds, t)}</dd>
            </div>
            <div className="stat">
              <dt>{t.ops.errors}</dt>
              <dd>{groupDigits(last.http.errors5xx)}</dd>
            </div>
            <div className="stat">
              <dt>{t.ops.outbox}</dt>
              <dd data-testid="ops-outbox">{groupDigits(last.outbox.pending)}</dd>
            </div>
            <div className="stat">
              <dt>{t.ops.sse}</dt>
              <dd data-testid="ops-sse">{groupDigits(last.sse.clients)}</dd>
            </div>
          </dl>
          <p className="muted">{t.ops.chartsNote}</p>
          <div className="charts" data-samples={series.x.length}>
            {charts.map((c) => (
              <Chart
                key={c.key}
                title={c.title}
                summary={`${t.ops.current}: ${fmt(at(series[c.key]), c.digits ?? 1)}`}
                x={series.x}
                series={[
                  { label: c.title, values: series[c.key], color: c.color, stepped: c.stepped },
                ]}
                height={150}
                windowSeconds={(KEEP * POLL_MS) / 1000}
                integer={c.digits === 0}
                formatY={(v) => fmt(v, c.digits ?? 1)}
              />
            ))}
          </div>
        </>
      )}

      <section className="card section" aria-labelledby="ledger-h" aria-busy={verify.busy}>
        <h2 id="ledger-h">{t.ops.ledgerTitle}</h2>
        {ledger ? (
          <div
            className={`alert ${ledger.ok ? 'alert-ok' : 'alert-error'}`}
            data-testid="ledger-result"
          >
            <p className="alert-title">
              {ledger.ok ? t.ops.ledgerOk : t.ops.ledgerBad(ledger.problems.length)}
            </p>
            <p className="alert-detail">
              {t.ops.ledgerAt(fullDateTime(ledger.checkedAt, lang), ledger.durationMs)}
            </p>
            {ledger.problems.length > 0 && (
              <ul className="alert-fields">
                {ledger.problems.slice(0, 20).map((p, i) => (
                  <li key={i}>
                    <code>{p.check}</code>: {p.detail}
                  </li>
                ))}
              </ul>
            )}
          </div>
        ) : (
          <p className="muted">{t.ops.ledgerNever}</p>
        )}
        {verify.busy && (
          <div className="verify-progress" role="status">
            <progress aria-label={t.ops.verifying} />
            <span>{t.ops.verifying}</span>
          </div>
        )}
        <ProblemMessage error={verify.error} />
        <button
          type="button"
          className="button button-primary"
          disabled={verify.busy}
          onClick={() =>
            void verify.run(async () => {
              setReport(await api<LedgerReport>('POST', '/api/v1/ops/ledger/verify'));
              return null;
            })
          }
        >
          {verify.busy ? t.ops.verifying : t.ops.verify}
        </button>
      </section>
    </>
  );
}
