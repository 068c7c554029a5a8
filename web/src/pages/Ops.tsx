// The operators' page: the business figures, rates computed from
// consecutive polls of the cumulative counters in /api/v1/ops/summary (after
// a reload, first from the samples the server kept: /api/v1/ops/history), the
// last 14 days' takings, and the ledger verifier.
import { useCallback, useRef, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { PageTitle } from '../components/Layout.tsx';
import { MissionHead, ProblemMessage, Spinner, StateBadge, SuccessMessage } from '../components/ui.tsx';
import { durationWords, groupDigits, kstDateTime, kstFullDateTime, won } from '../format.ts';
import { useAction, usePolling, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import { Link } from '../router.tsx';
import type {
  DayTakings,
  Dispute,
  LedgerReport,
  Me,
  Mission,
  OpsBusiness,
  OpsHistory,
  OpsSample,
  OpsSummary,
  Page,
} from '../types.ts';
import { Proof } from './Channel.tsx';
import { WithdrawalQueue } from '../components/Withdrawals.tsx';

const POLL_MS = 2000;
const WINDOW_S = 3600; // the charts show the last hour
const KEEP = 2200; // an hour of the server's 10 s samples, then an hour of 2 s polls

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

/** Appends one derived point from two consecutive samples (null where a counter reset or did not move). */
export function derive(prev: OpsSample, cur: OpsSample, s: Series): Series {
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

/** The series of samples taken one after another (oldest first). */
export function seriesOf(samples: OpsSample[]): Series {
  let s = empty();
  for (let i = 1; i < samples.length; i++) {
    if (Date.parse(samples[i]!.at) > Date.parse(samples[i - 1]!.at))
      s = derive(samples[i - 1]!, samples[i]!, s);
  }
  return s;
}

const fmt = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? '–' : Number(v.toFixed(digits)).toLocaleString('en-US');

/** KST midnight of a YYYY-MM-DD day, in unix seconds (where a day's bar stands). */
const dayStart = (day: string) => Date.parse(`${day}T00:00:00+09:00`) / 1000;

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
  const [days, setDays] = useState<DayTakings[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [report, setReport] = useState<LedgerReport | null>(null);
  const verify = useAction();
  const prevRef = useRef<OpsSample | null>(null);
  const historyLoaded = useRef(false);

  const poll = useCallback(async () => {
    try {
      // First what the server kept, so a reload starts where the page left off.
      if (!historyLoaded.current) {
        const h = await api<OpsHistory>('GET', '/api/v1/ops/history');
        historyLoaded.current = true;
        setDays(h.days);
        if (h.samples.length > 0) {
          setSeries(seriesOf(h.samples));
          prevRef.current = h.samples.at(-1)!;
        }
      }
      const cur = await api<OpsSummary>('GET', '/api/v1/ops/summary');
      const prev = prevRef.current;
      if (prev && Date.parse(cur.at) > Date.parse(prev.at)) setSeries((s) => derive(prev, cur, s));
      prevRef.current = cur;
      setLast(cur);
      // Today's bar follows the tiles.
      setDays((d) =>
        d && d.at(-1)?.day === cur.business.day
          ? [...d.slice(0, -1), { day: cur.business.day, captured: cur.business.capturedToday, fees: cur.business.feesToday }]
          : d,
      );
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
  const span =
    series.x.length > 1
      ? t.ops.range(kstDateTime(series.x[0]! * 1000, lang), kstDateTime(series.x.at(-1)! * 1000, lang))
      : '';

  const charts: {
    key: keyof Omit<Series, 'x'>;
    title: string;
    color: string;
    digits?: number;
    stepped?: boolean;
  }[] = [
    { key: 'rps', title: t.ops.requests, color: 'var(--chart-1)' },
    { key: 'latencyMs', title: t.ops.latency, color: 'var(--chart-2)', digits: 2 },
    { key: 'pledgesPerS', title: t.ops.pledges, color: 'var(--chart-3)', digits: 2 },
    { key: 'lagS', title: t.ops.lag, color: 'var(--chart-4)', digits: 3 },
    { key: 'outbox', title: t.ops.outbox, color: 'var(--chart-5)', digits: 0, stepped: true },
    { key: 'mail', title: t.ops.mail, color: 'var(--chart-6)', digits: 0, stepped: true },
    { key: 'sse', title: t.ops.sse, color: 'var(--chart-7)', digits: 0, stepped: true },
  ];

  return (
    <>
      <PageTitle>{t.ops.title}</PageTitle>
      <ProblemMessage error={error} />
      {!last ? (
        <Spinner label={t.common.loading} />
      ) : (
        <>
          <Business business={last.business} />
          {days && <Takings days={days} />}
          <section className="section" aria-labelledby="system-h">
            <h2 id="system-h">{t.ops.systemTitle}</h2>
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
                  summary={`${t.ops.current}: ${fmt(at(series[c.key]), c.digits ?? 1)}${span ? ` · ${span}` : ''}`}
                  x={series.x}
                  series={[
                    { label: c.title, values: series[c.key], color: c.color, stepped: c.stepped },
                  ]}
                  height={150}
                  windowSeconds={WINDOW_S}
                  integer={c.digits === 0}
                  formatY={(v) => fmt(v, c.digits ?? 1)}
                  minPoints={2}
                  collecting={t.ops.collecting}
                />
              ))}
            </div>
          </section>
        </>
      )}

      <WithdrawalQueue />

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
              {t.ops.ledgerAt(kstFullDateTime(ledger.checkedAt, lang), ledger.durationMs)}
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
      <ReviewQueue />
    </>
  );
}

/** The platform's money and work now: held cash, today's takings (KST), missions by state, withdrawals to review. */
function Business({ business: b }: { business: OpsBusiness }) {
  const t = useT();
  return (
    <section className="card section business" aria-labelledby="business-h" data-testid="ops-business">
      <h2 id="business-h">{t.ops.businessTitle}</h2>
      <p className="ops-day">{t.ops.businessDay(b.day)}</p>
      <dl className="stats">
        <div className="stat stat-money">
          <dt>{t.ops.held}</dt>
          <dd data-testid="ops-held">{won(b.held.amount)}</dd>
          <dd className="stat-note">{t.ops.heldNote(b.held.count)}</dd>
        </div>
        <div className="stat stat-money">
          <dt>{t.ops.capturedToday}</dt>
          <dd data-testid="ops-captured-today">{won(b.capturedToday)}</dd>
          <dd className="stat-note">{t.ops.capturedNote}</dd>
        </div>
        <div className="stat stat-money">
          <dt>{t.ops.feesToday}</dt>
          <dd data-testid="ops-fees-today">{won(b.feesToday)}</dd>
          <dd className="stat-note">{t.ops.feesNote}</dd>
        </div>
        <div className="stat stat-money">
          <dt>{t.ops.inReview}</dt>
          <dd data-testid="ops-withdrawals-review">{won(b.withdrawalsInReview.amount)}</dd>
          <dd className="stat-note">{t.ops.inReviewNote(b.withdrawalsInReview.count)}</dd>
        </div>
      </dl>
      <h3 id="states-h">{t.ops.missionsByState}</h3>
      <ul className="state-counts" aria-labelledby="states-h" data-testid="ops-missions">
        {(Object.entries(b.missions) as [Mission['state'], number][]).map(([state, n]) => (
          <li key={state} data-state={state}>
            <StateBadge state={state} />
            <span className="state-count">{groupDigits(n)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Captured cash (bars) and fees (line) per KST day, the last 14 days. */
function Takings({ days }: { days: DayTakings[] }) {
  const t = useT();
  const total = days.reduce((s, d) => s + d.captured, 0);
  const fees = days.reduce((s, d) => s + d.fees, 0);
  return (
    <section className="section" aria-labelledby="takings-h">
      <h2 id="takings-h" className="visually-hidden">
        {t.ops.takingsTitle}
      </h2>
      {total === 0 ? (
        <EmptyState art="chart" testId="takings-empty">
          {t.ops.takingsEmpty}
        </EmptyState>
      ) : (
        <Chart
          title={t.ops.takingsTitle}
          summary={t.ops.takingsSummary(won(total), won(fees))}
          x={days.map((d) => dayStart(d.day))}
          series={[
            { label: t.ops.captured, values: days.map((d) => d.captured), color: 'var(--chart-1)', bars: true },
            { label: t.ops.fees, values: days.map((d) => d.fees), color: 'var(--chart-5)' },
          ]}
          height={170}
          xPad={86_400}
          formatY={(v) => groupDigits(v)}
        />
      )}
    </section>
  );
}

/** Disputed missions waiting for an operator (IN_REVIEW), with their disputes and the three resolutions. */
function ReviewQueue() {
  const t = useT();
  const [missions, setMissions] = useState<Mission[] | null>(null);
  const [disputes, setDisputes] = useState<Record<string, Dispute[]>>({});
  const act = useAction();
  const load = useCallback(async () => {
    const page = await api<Page<Mission>>('GET', '/api/v1/ops/missions?state=IN_REVIEW&limit=100');
    setMissions(page.items);
    const lists = await Promise.all(
      page.items.map(async (m) => [m.id, (await api<Page<Dispute>>('GET', `/api/v1/ops/missions/${m.id}/disputes?limit=100`)).items] as const),
    );
    setDisputes(Object.fromEntries(lists));
  }, []);
  usePolling(load, 5000);
  const resolve = (m: Mission, outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED') =>
    act.run(async () => {
      const { mission } = await api<{ mission: Mission }>('POST', `/api/v1/ops/missions/${m.id}/resolve`, { body: { outcome } });
      await load();
      return t.disputes.resolved(mission.title, t.state[mission.state]);
    });
  return (
    <section className="card section" aria-labelledby="review-h" aria-busy={act.busy}>
      <h2 id="review-h">{t.disputes.reviewQueue}</h2>
      <ProblemMessage error={act.error} />
      <SuccessMessage>{act.done}</SuccessMessage>
      {!missions ? (
        <Spinner label={t.common.loading} />
      ) : missions.length === 0 ? (
        <EmptyState art="review">{t.disputes.reviewEmpty}</EmptyState>
      ) : (
        <div className="missions" data-testid="review-queue">
          {missions.map((m) => (
            <article key={m.id} className="mission" aria-labelledby={`review-${m.id}`}>
              <MissionHead titleId={`review-${m.id}`} state={m.state}>
                <Link to={`/c/${m.channel}`}>@{m.channel}</Link> · {m.title}
              </MissionHead>
              <dl className="mission-facts">
                <div>
                  <dt>{t.disputes.proposedOutcome}</dt>
                  <dd>{m.proposedOutcome ? t.state[m.proposedOutcome] : '–'}</dd>
                </div>
                <div>
                  <dt>{t.disputes.disputed}</dt>
                  <dd>
                    {won(m.disputedAmount ?? 0)} / {won(m.pledgedAmount)}
                  </dd>
                </div>
              </dl>
              <Proof mission={m} />
              <ul className="dispute-list">
                {(disputes[m.id] ?? []).map((d) => (
                  <li key={d.id}>
                    <span className="muted">{t.disputes.by(d.backerName, won(d.amount))}</span>
                    <p className="dispute-reason">{d.reason}</p>
                  </li>
                ))}
              </ul>
              <div className="button-row">
                <button type="button" className="button button-success" disabled={act.busy} onClick={() => void resolve(m, 'SUCCEEDED')}>
                  {t.disputes.resolveSucceed}
                </button>
                <button type="button" className="button button-danger" disabled={act.busy} onClick={() => void resolve(m, 'FAILED')}>
                  {t.disputes.resolveFail}
                </button>
                <button type="button" className="button button-ghost" disabled={act.busy} onClick={() => void resolve(m, 'CANCELLED')}>
                  {t.disputes.resolveCancel}
                </button>
              </div>
            </article>
          ))}
        </div>
      )}
    </section>
  );
}
