import { useCallback, useId, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, reloadMe } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { PageTitle } from '../components/Layout.tsx';
import {
  ConfirmDialog,
  Countdown,
  DurationInput,
  durationSeconds,
  Field,
  LiveIndicator,
  parseAmount,
  ProblemMessage,
  Spinner,
  StateBadge,
  SuccessMessage,
  TextField,
  toDuration,
  type DurationUnit,
} from '../components/ui.tsx';
import { dateTime, groupDigits, percentOfBps, won } from '../format.ts';
import { useAction, usePolling, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import { useChannelBoard } from '../live.ts';
import { Link } from '../router.tsx';
import type { Channel, ChannelSettings, Earnings, Me, Mission, Page, Payout } from '../types.ts';

const HANDLE = /^[a-z0-9_]{3,24}$/;
const chars = (s: string) => [...s].length;

export function StudioPage({ me }: { me: Me }) {
  const t = useT();
  useTitle(t.studio.title);
  if (!me.channel) {
    return (
      <>
        <PageTitle>{t.studio.title}</PageTitle>
        <ChannelForm mode="create" />
      </>
    );
  }
  return <StudioDashboard key={me.channel} handle={me.channel} />;
}

type Pending = { kind: 'succeed' | 'fail' | 'reject' | 'cancel'; mission: Mission } | null;

function StudioDashboard({ handle }: { handle: string }) {
  const t = useT();
  const lang = useLang();
  const [earnings, setEarnings] = useState<Earnings | null>(null);
  const [payouts, setPayouts] = useState<Payout[] | null>(null);

  const loadEarnings = useCallback(async () => {
    setEarnings(await api<Earnings>('GET', '/api/v1/streamer/earnings'));
  }, []);
  const loadPayouts = useCallback(async () => {
    const all: Payout[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const q: string = `/api/v1/streamer/payouts?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Page<Payout> = await api<Page<Payout>>('GET', q);
      all.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    setPayouts(all);
  }, []);

  const board = useChannelBoard(handle, {
    // Money moves on pledges (pending) and settlements (settled).
    pledge: () => void loadEarnings().catch(() => undefined),
    state: (e) => {
      void loadEarnings().catch(() => undefined);
      if (e.settled) void loadPayouts().catch(() => undefined);
    },
  });
  usePolling(loadEarnings, 5000);
  usePolling(loadPayouts, 15_000);

  const [pending, setPending] = useState<Pending>(null);
  const act = useAction();
  const decide = (kind: NonNullable<Pending>['kind'], m: Mission) =>
    act.run(async () => {
      const path =
        kind === 'succeed' || kind === 'fail'
          ? `/api/v1/missions/${m.id}/decision`
          : `/api/v1/missions/${m.id}/${kind}`;
      const body =
        kind === 'succeed'
          ? { outcome: 'SUCCEEDED' }
          : kind === 'fail'
            ? { outcome: 'FAILED' }
            : undefined;
      const { mission } = await api<{ mission: Mission }>('POST', path, { body });
      await board.reload();
      void loadEarnings();
      return t.studio.done(`${mission.title} — ${t.state[mission.state]}`);
    });
  const accept = (m: Mission) =>
    act.run(async () => {
      const { mission } = await api<{ mission: Mission }>(
        'POST',
        `/api/v1/missions/${m.id}/accept`,
      );
      await board.reload();
      return t.studio.done(`${mission.title} — ${t.state[mission.state]}`);
    });

  const channel = board.channel;
  const queue = board.missions
    .filter((m) => m.state === 'PROPOSED')
    .sort((a, b) => a.acceptDeadline.localeCompare(b.acceptDeadline));
  const active = board.missions
    .filter((m) => m.state === 'ACTIVE')
    .sort((a, b) => (a.deadline ?? '').localeCompare(b.deadline ?? ''));

  // Cumulative earnings: a step at each payout, from 0 when the channel was made until now.
  const channelCreatedAt = board.channel?.createdAt;
  const chart = useMemo(() => {
    const sorted = [...(payouts ?? [])].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const secs = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);
    let sum = 0;
    const x: number[] = [];
    const y: number[] = [];
    if (sorted.length > 0) {
      const first = secs(sorted[0]!.createdAt);
      x.push(Math.min(first - 1, channelCreatedAt ? secs(channelCreatedAt) : first - 60));
      y.push(0);
    }
    for (const p of sorted) {
      sum += p.amount;
      const at = Math.max(secs(p.createdAt), (x.at(-1) ?? 0) + 1);
      x.push(at);
      y.push(sum);
    }
    if (x.length > 0) {
      x.push(Math.max(x.at(-1)! + 1, Math.floor(Date.now() / 1000)));
      y.push(sum);
    }
    return { x, y, sum };
  }, [payouts, channelCreatedAt]);

  const keep = channel ? percentOfBps(channel.settings.failureKeepBps) : '0%';
  const overlayUrl = `${window.location.origin}/overlay/${handle}`;

  const confirmText = (p: NonNullable<Pending>) => {
    switch (p.kind) {
      case 'succeed':
        return {
          title: t.studio.confirmSucceed(p.mission.title),
          text: t.studio.confirmSucceedText,
          label: t.studio.succeed,
          danger: false,
        };
      case 'fail':
        return {
          title: t.studio.confirmFail(p.mission.title),
          text: t.studio.confirmFailText(keep),
          label: t.studio.fail,
          danger: true,
        };
      case 'reject':
        return {
          title: t.studio.confirmReject(p.mission.title),
          text: t.studio.confirmRejectText,
          label: t.studio.reject,
          danger: true,
        };
      case 'cancel':
        return {
          title: t.studio.confirmCancel(p.mission.title),
          text: t.studio.confirmCancelText,
          label: t.studio.cancelMission,
          danger: true,
        };
    }
  };
  const dialog = pending ? confirmText(pending) : null;

  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle>{t.studio.title}</PageTitle>
          <p className="handle">
            {channel?.displayName} · <Link to={`/c/${handle}`}>@{handle}</Link>
          </p>
        </div>
        <LiveIndicator status={board.status} />
      </div>

      <ProblemMessage error={act.error} />
      <SuccessMessage>{act.done}</SuccessMessage>

      <section className="card section" aria-labelledby="earn-h">
        <h2 id="earn-h">{t.studio.earnings}</h2>
        {!earnings ? (
          <Spinner label={t.common.loading} />
        ) : (
          <dl className="stats">
            <div className="stat">
              <dt>{t.studio.settled}</dt>
              <dd data-testid="earnings-settled">{won(earnings.settled)}</dd>
            </div>
            <div className="stat">
              <dt>{t.studio.pending}</dt>
              <dd data-testid="earnings-pending">{won(earnings.pending)}</dd>
            </div>
          </dl>
        )}
        {payouts && payouts.length > 0 ? (
          <>
            <Chart
              title={t.studio.chart}
              summary={won(chart.sum)}
              x={chart.x}
              series={[
                {
                  label: t.studio.chart,
                  values: chart.y,
                  color: '#5b21b6',
                  fill: 'rgba(91, 33, 182, 0.12)',
                  stepped: true,
                },
              ]}
              formatY={(v) => groupDigits(v)}
            />
            <h3>{t.studio.recentPayouts}</h3>
            <ul className="payouts">
              {payouts.slice(0, 5).map((p) => (
                <li key={p.missionId}>
                  <span className="payout-title">{p.title}</span>
                  <span className="payout-amount">{won(p.amount)}</span>
                  <span className="muted">
                    {t.studio.fee(won(p.fee))} · {dateTime(p.createdAt, lang)}
                  </span>
                </li>
              ))}
            </ul>
          </>
        ) : payouts ? (
          <p className="muted">{t.studio.chartEmpty}</p>
        ) : null}
      </section>

      <section className="section" aria-labelledby="queue-h">
        <h2 id="queue-h">{t.studio.queue}</h2>
        {queue.length === 0 ? (
          <p className="muted">{t.studio.queueEmpty}</p>
        ) : (
          <div className="missions">
            {queue.map((m) => (
              <StudioMission key={m.id} mission={m}>
                <button
                  type="button"
                  className="button button-primary"
                  disabled={act.busy}
                  onClick={() => void accept(m)}
                >
                  {t.studio.accept}
                </button>
                <button
                  type="button"
                  className="button button-secondary"
                  disabled={act.busy}
                  onClick={() => setPending({ kind: 'reject', mission: m })}
                >
                  {t.studio.reject}
                </button>
              </StudioMission>
            ))}
          </div>
        )}
      </section>

      <section className="section" aria-labelledby="active-h">
        <h2 id="active-h">{t.studio.activeTitle}</h2>
        {active.length === 0 ? (
          <p className="muted">{t.studio.activeEmpty}</p>
        ) : (
          <div className="missions">
            {active.map((m) => (
              <StudioMission key={m.id} mission={m}>
                <button
                  type="button"
                  className="button button-success"
                  disabled={act.busy}
                  onClick={() => setPending({ kind: 'succeed', mission: m })}
                >
                  {t.studio.succeed}
                </button>
                <button
                  type="button"
                  className="button button-danger"
                  disabled={act.busy}
                  onClick={() => setPending({ kind: 'fail', mission: m })}
                >
                  {t.studio.fail}
                </button>
                <button
                  type="button"
                  className="button button-ghost"
                  disabled={act.busy}
                  onClick={() => setPending({ kind: 'cancel', mission: m })}
                >
                  {t.studio.cancelMission}
                </button>
              </StudioMission>
            ))}
          </div>
        )}
      </section>

      <section className="card section" aria-labelledby="links-h">
        <h2 id="links-h">{t.studio.links}</h2>
        <p>
          {t.studio.channelPage}:{' '}
          <Link to={`/c/${handle}`}>{`${window.location.origin}/c/${handle}`}</Link>
        </p>
        <CopyField label={t.studio.overlayUrl} value={overlayUrl} hint={t.studio.overlayHint} />
      </section>

      {channel && <ChannelForm mode="edit" channel={channel} onSaved={() => void board.reload()} />}

      <ConfirmDialog
        open={Boolean(pending)}
        title={dialog?.title ?? ''}
        text={dialog?.text ?? ''}
        confirmLabel={dialog?.label ?? ''}
        danger={dialog?.danger}
        busy={act.busy}
        onCancel={() => setPending(null)}
        onConfirm={() => {
          if (!pending) return;
          const p = pending;
          setPending(null);
          void decide(p.kind, p.mission);
        }}
      />
    </>
  );
}

function StudioMission({ mission: m, children }: { mission: Mission; children: ReactNode }) {
  const t = useT();
  const titleId = useId();
  return (
    <article className="mission" aria-labelledby={titleId} data-mission-id={m.id}>
      <header className="mission-head">
        <h3 id={titleId} className="mission-title">
          {m.title}
        </h3>
        <StateBadge state={m.state} />
      </header>
      {m.description && <p className="mission-description">{m.description}</p>}
      <dl className="mission-facts">
        <div>
          <dt>{t.channel.pledged}</dt>
          <dd>
            <strong className="total" data-testid="mission-total">
              {won(m.pledgedAmount)}
            </strong>{' '}
            <span className="muted">{t.common.backers(m.backerCount)}</span>
          </dd>
        </div>
        <div>
          <dt>{m.state === 'PROPOSED' ? t.channel.acceptLeft : t.channel.timeLeft}</dt>
          <dd>
            <Countdown
              until={m.state === 'PROPOSED' ? m.acceptDeadline : m.deadline}
              className="big-time"
            />
          </dd>
        </div>
      </dl>
      <div className="button-row">{children}</div>
    </article>
  );
}

function CopyField({ label, value, hint }: { label: string; value: string; hint: string }) {
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
            onFocus={(e) => e.target.select()}
          />
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              void navigator.clipboard?.writeText(value).then(() => {
                setCopied(true);
                setTimeout(() => setCopied(false), 2000);
              });
            }}
          >
            {copied ? t.common.copied : t.common.copy}
          </button>
        </div>
      )}
    </Field>
  );
}

const DEFAULTS: ChannelSettings = {
  missionMinAmount: 1000,
  missionMaxAmount: 1_000_000,
  acceptWindowSeconds: 3600,
  failureKeepBps: 0,
};

/** Creates a channel, or edits its name and settings (PATCH, partial). */
function ChannelForm(
  props: { mode: 'create' } | { mode: 'edit'; channel: Channel; onSaved(): void },
) {
  const t = useT();
  const editing = props.mode === 'edit' ? props.channel : null;
  const start = editing?.settings ?? DEFAULTS;
  const [handle, setHandle] = useState('');
  const [name, setName] = useState(editing?.displayName ?? '');
  const [min, setMin] = useState(String(start.missionMinAmount));
  const [max, setMax] = useState(String(start.missionMaxAmount));
  const [win, setWin] = useState<{ amount: string; unit: DurationUnit }>(
    toDuration(start.acceptWindowSeconds),
  );
  const [keep, setKeep] = useState(String(start.failureKeepBps / 100));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useAction();
  const headingId = useId();

  return (
    <section className="card section" aria-labelledby={headingId}>
      <h2 id={headingId}>{editing ? t.studio.settingsTitle : t.studio.createTitle}</h2>
      {!editing && <p>{t.studio.createLead}</p>}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const errs: Record<string, string> = {};
          const h = handle.trim();
          if (!editing && !HANDLE.test(h)) errs.handle = t.studio.errHandle;
          const n = name.trim();
          if (chars(n) < 1 || chars(n) > 50) errs.name = t.studio.errName;
          const lo = parseAmount(min);
          const hi = parseAmount(max);
          if (
            !Number.isSafeInteger(lo) ||
            !Number.isSafeInteger(hi) ||
            lo < 1 ||
            hi < lo ||
            hi > 10_000_000
          )
            errs.minmax = t.studio.errMinMax;
          const seconds = durationSeconds(win.amount, win.unit);
          if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 604_800)
            errs.window = t.studio.errWindow;
          const pct = Number(keep);
          const bps = Math.round(pct * 100);
          if (keep.trim() === '' || !Number.isFinite(pct) || bps < 0 || bps > 5000)
            errs.keep = t.studio.errKeep;
          setErrors(errs);
          if (Object.keys(errs).length) return;
          const settings: ChannelSettings = {
            missionMinAmount: lo,
            missionMaxAmount: hi,
            acceptWindowSeconds: seconds,
            failureKeepBps: bps,
          };
          void action.run(async () => {
            if (editing && props.mode === 'edit') {
              await api('PATCH', `/api/v1/channels/${editing.handle}`, {
                body: { displayName: n, settings },
              });
              props.onSaved();
              return t.common.saved;
            }
            try {
              await api('POST', '/api/v1/channels', {
                body: { handle: h, displayName: n, settings },
              });
            } catch (err) {
              if (!(err instanceof ApiError && err.code === 'ALREADY_STREAMER')) throw err;
            }
            // The new role and channel come with /me; the page then shows the dashboard.
            await reloadMe();
            return null;
          });
        }}
      >
        {!editing && (
          <TextField
            label={t.studio.handle}
            hint={t.studio.handleHint}
            error={errors.handle}
            value={handle}
            autoCapitalize="none"
            spellCheck={false}
            onChange={(value) => setHandle(value.toLowerCase())}
          />
        )}
        <TextField
          label={t.studio.displayName}
          error={errors.name}
          value={name}
          maxLength={50}
          onChange={setName}
        />
        <div className="grid-2">
          <TextField
            label={t.studio.minAmount}
            error={errors.minmax}
            inputMode="numeric"
            value={min}
            onChange={setMin}
          />
          <TextField
            label={t.studio.maxAmount}
            error={errors.minmax}
            inputMode="numeric"
            value={max}
            onChange={setMax}
          />
          <DurationInput
            label={t.studio.acceptWindow}
            error={errors.window}
            amount={win.amount}
            unit={win.unit}
            onChange={(amount, unit) => setWin({ amount, unit })}
          />
          <TextField
            label={t.studio.failureKeep}
            hint={t.studio.failureKeepHint}
            error={errors.keep}
            type="number"
            inputMode="decimal"
            min={0}
            max={50}
            step={0.01}
            value={keep}
            onChange={setKeep}
          />
        </div>
        <ProblemMessage error={action.error} />
        <SuccessMessage>{action.done}</SuccessMessage>
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {editing ? t.common.save : action.busy ? t.studio.creating : t.studio.create}
        </button>
      </form>
    </section>
  );
}
