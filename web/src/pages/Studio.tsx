import { useCallback, useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, reloadMe } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { hidePledgeMessage, HideMessageButton, proposalPledgeId } from '../components/HideMessage.tsx';
import { BlockList, BlockedWordsField, ProgressControl } from '../components/Moderation.tsx';
import { UnitCounter } from '../components/Terms.tsx';
import { PageTitle } from '../components/Layout.tsx';
import {
  AmountField,
  ConfirmDialog,
  Countdown,
  DurationInput,
  durationSeconds,
  LiveIndicator,
  MissionHead,
  parseAmount,
  ProblemMessage,
  Spinner,
  SuccessMessage,
  TextField,
  toDuration,
  type DurationUnit,
  CopyField,
} from '../components/ui.tsx';
import { dateTime, durationWords, groupDigits, percentOfBps, won } from '../format.ts';
import { useAction, usePolling, useTitle } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import { useChannelBoard } from '../live.ts';
import { Link } from '../router.tsx';
import { queueAction } from '../studio-keys.ts';
import { WithdrawalsSection } from '../components/Withdrawals.tsx';
import { Proof } from './Channel.tsx';
import type { Channel, ChannelSettings, Dispute, Earnings, Me, Mission, Page, Payout } from '../types.ts';

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
  const [blocksVersion, setBlocksVersion] = useState(0);
  // Proof link and note typed for each active mission, sent with its decision.
  const [proofs, setProofs] = useState<Record<string, { url: string; note: string }>>({});
  const act = useAction();
  const decide = (kind: NonNullable<Pending>['kind'], m: Mission) =>
    act.run(async () => {
      const path =
        kind === 'succeed' || kind === 'fail'
          ? `/api/v1/missions/${m.id}/decision`
          : `/api/v1/missions/${m.id}/${kind}`;
      const proof = proofs[m.id];
      const extra = {
        ...(proof?.url.trim() ? { proofUrl: proof.url.trim() } : {}),
        ...(proof?.note.trim() ? { note: proof.note.trim() } : {}),
      };
      const body =
        kind === 'succeed'
          ? { outcome: 'SUCCEEDED', ...extra }
          : kind === 'fail'
            ? { outcome: 'FAILED', ...extra }
            : undefined;
      const { mission } = await api<{ mission: Mission }>('POST', path, { body });
      await board.reload();
      void loadEarnings();
      return decidedSentence(kind, mission);
    });
  /** What a decision did, as a sentence ("미션을 수락했습니다"), from the state it left the mission in. */
  const decidedSentence = (kind: NonNullable<Pending>['kind'] | 'accept', m: Mission) => {
    if (m.state === 'CONFIRMING' || m.state === 'IN_REVIEW') return t.studio.confirming(m.title);
    const expected = {
      accept: ['ACTIVE', t.studio.accepted],
      reject: ['REJECTED', t.studio.rejected],
      succeed: ['SUCCEEDED', t.studio.succeeded],
      fail: ['FAILED', t.studio.failed],
      cancel: ['CANCELLED', t.studio.cancelled],
    } as const;
    const [state, sentence] = expected[kind];
    return m.state === state ? sentence(m.title) : t.studio.stateNow(m.title, t.state[m.state]);
  };
  const lockPrediction = (m: Mission) =>
    act.run(async () => {
      await api('POST', `/api/v1/missions/${m.id}/prediction/lock`);
      return t.studio.predictionLocked(m.title);
    });
  const accept = (m: Mission) =>
    act.run(async () => {
      const { mission } = await api<{ mission: Mission }>(
        'POST',
        `/api/v1/missions/${m.id}/accept`,
      );
      await board.reload();
      return decidedSentence('accept', mission);
    });
  const blockProposer = (m: Mission) =>
    act.run(async () => {
      await api('POST', `/api/v1/channels/${handle}/blocks`, {
        body: { userId: m.createdBy },
      });
      setBlocksVersion((v) => v + 1);
      return m.proposerName ? t.studio.blockedProposer(m.proposerName) : t.terms.blocked;
    });

  // The proposal's message is its first pledge's: found, hidden, and dropped from the card at once.
  const hideProposalMessage = (m: Mission) =>
    act.run(async () => {
      const pledgeId = await proposalPledgeId(m.id);
      if (!pledgeId) return null;
      await hidePledgeMessage(pledgeId);
      board.messageHidden(m.id, pledgeId, true);
      return t.terms.messageHidden;
    });

  const channel = board.channel;
  const queue = board.missions
    .filter((m) => m.state === 'PROPOSED')
    .sort((a, b) => a.acceptDeadline.localeCompare(b.acceptDeadline));
  // A decided proposal leaves the queue: focus goes to the card that takes its
  // place (or the one before, or the queue's heading), so the keyboard can go on.
  const queueCards = useRef(new Map<string, HTMLElement>());
  const queueHeading = useRef<HTMLHeadingElement>(null);
  const refocus = useRef<{ gone: string; index: number } | null>(null);
  const queueIds = queue.map((m) => m.id).join(',');
  useEffect(() => {
    const r = refocus.current;
    if (!r) return;
    const ids = queueIds ? queueIds.split(',') : [];
    if (ids.includes(r.gone)) return;
    refocus.current = null;
    const next = ids[Math.min(r.index, ids.length - 1)];
    (next ? queueCards.current.get(next) : queueHeading.current)?.focus();
  }, [queueIds]);
  const leavingQueue = (m: Mission) => {
    refocus.current = { gone: m.id, index: Math.max(0, queue.findIndex((x) => x.id === m.id)) };
  };
  const moveInQueue = (m: Mission, by: number) => {
    const i = queue.findIndex((x) => x.id === m.id);
    const to = queue[i + by];
    if (to) queueCards.current.get(to.id)?.focus();
  };
  const acceptFromQueue = (m: Mission) => {
    if (act.busy) return;
    leavingQueue(m);
    void accept(m).then((ok) => {
      if (!ok) refocus.current = null;
    });
  };
  const rejectFromQueue = (m: Mission) => {
    if (!act.busy) setPending({ kind: 'reject', mission: m });
  };

  const active = board.missions
    .filter((m) => m.state === 'ACTIVE')
    .sort((a, b) => (a.deadline ?? '').localeCompare(b.deadline ?? ''));
  const confirming = board.missions
    .filter((m) => m.state === 'CONFIRMING' || m.state === 'IN_REVIEW')
    .sort((a, b) => (a.disputeEndsAt ?? '').localeCompare(b.disputeEndsAt ?? ''));

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
                  color: 'var(--chart-1)',
                  fill: 'var(--chart-1-fill)',
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

      <WithdrawalsSection earnings={earnings} onChange={() => void loadEarnings().catch(() => undefined)} />

      <section className="section studio-queue" aria-labelledby="queue-h">
        <h2 id="queue-h" ref={queueHeading} tabIndex={-1}>
          {t.studio.queue}
        </h2>
        {queue.length === 0 ? (
          <p className="muted">{t.studio.queueEmpty}</p>
        ) : (
          <>
            <QueueKeys />
            <div className="missions">
              {queue.map((m) => (
                <QueueCard
                  key={m.id}
                  mission={m}
                  busy={act.busy}
                  cardRef={(el) => {
                    if (el) queueCards.current.set(m.id, el);
                    else queueCards.current.delete(m.id);
                  }}
                  onAccept={() => acceptFromQueue(m)}
                  onReject={() => rejectFromQueue(m)}
                  onMove={(by) => moveInQueue(m, by)}
                  onBlock={() => void blockProposer(m)}
                  onHideMessage={() =>
                    void hideProposalMessage(m).then(
                      // Its button is gone with the message: focus stays on the card.
                      (ok) => ok && queueCards.current.get(m.id)?.focus(),
                    )
                  }
                />
              ))}
            </div>
          </>
        )}
      </section>

      <section className="section" aria-labelledby="active-h">
        <h2 id="active-h">{t.studio.activeTitle}</h2>
        {active.length === 0 ? (
          <p className="muted">{t.studio.activeEmpty}</p>
        ) : (
          <div className="missions">
            {active.map((m) => (
              <StudioMission
                key={m.id}
                mission={m}
                extra={
                  m.unit ? (
                    <ProgressControl mission={m} onReported={() => void board.reload()} />
                  ) : null
                }
              >
                <ProofFields
                  value={proofs[m.id] ?? { url: '', note: '' }}
                  onChange={(v) => setProofs((p) => ({ ...p, [m.id]: v }))}
                />
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
                <button
                  type="button"
                  className="button button-secondary"
                  disabled={act.busy}
                  onClick={() => void lockPrediction(m)}
                >
                  {t.disputes.lockPrediction}
                </button>
              </StudioMission>
            ))}
          </div>
        )}
      </section>

      {confirming.length > 0 && (
        <section className="section" aria-labelledby="confirming-h">
          <h2 id="confirming-h">{t.disputes.confirmingTitle}</h2>
          <p className="muted">{t.disputes.confirmingLead}</p>
          <div className="missions">
            {confirming.map((m) => (
              <StudioMission key={m.id} mission={m}>
                <Disputes mission={m} />
              </StudioMission>
            ))}
          </div>
        </section>
      )}

      <section className="card section" aria-labelledby="links-h">
        <h2 id="links-h">{t.studio.links}</h2>
        <p>
          {t.studio.channelPage}:{' '}
          <Link to={`/c/${handle}`}>{`${window.location.origin}/c/${handle}`}</Link>
        </p>
        <CopyField label={t.studio.overlayUrl} value={overlayUrl} hint={t.studio.overlayHint} />
        <p>
          <Link to="/studio/overlay">{t.overlaySettings.title}</Link> —{' '}
          {t.overlaySettings.studioLink}
        </p>
        <p>
          <Link to="/studio/webhooks">{t.webhooks.title}</Link> — {t.webhooks.studioLink}
        </p>
      </section>

      {channel && <ChannelForm mode="edit" channel={channel} onSaved={() => void board.reload()} />}

      <BlockList handle={handle} version={blocksVersion} />

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
          if (p.kind === 'reject') leavingQueue(p.mission);
          void decide(p.kind, p.mission).then((ok) => {
            if (!ok) refocus.current = null;
          });
        }}
      />
    </>
  );
}

/** The keys of the queue, shown once above it. */
function QueueKeys() {
  const t = useT();
  return (
    <p className="hint queue-keys" data-testid="queue-keys">
      <span className="queue-keys-title">{t.studio.keysTitle}:</span>{' '}
      <span>
        <kbd>Tab</kbd> {t.studio.keyPick}
      </span>{' '}
      ·{' '}
      <span>
        <kbd>↑</kbd>
        <kbd>↓</kbd> {t.studio.keyMove}
      </span>{' '}
      ·{' '}
      <span>
        <kbd>A</kbd> {t.studio.keyAccept}
      </span>{' '}
      ·{' '}
      <span>
        <kbd>R</kbd> {t.studio.keyReject}
      </span>
    </p>
  );
}

/**
 * A proposal waiting in the queue: who proposed it and what they wrote (as
 * the server shows it: blocked words masked, nothing once hidden), what is
 * held, how long it would run, how long is left to accept. Focused, it takes
 * A (accept) and R (reject) and moves with ↑/↓ (studio-keys.ts).
 */
function QueueCard({
  mission: m,
  busy,
  cardRef,
  onAccept,
  onReject,
  onMove,
  onBlock,
  onHideMessage,
}: {
  mission: Mission;
  busy: boolean;
  cardRef(el: HTMLElement | null): void;
  onAccept(): void;
  onReject(): void;
  onMove(by: number): void;
  onBlock(): void;
  onHideMessage(): void;
}) {
  const t = useT();
  const titleId = useId();
  const keysId = useId();
  return (
    <article
      ref={cardRef}
      className="mission mission-proposed queue-card"
      tabIndex={0}
      aria-labelledby={titleId}
      aria-describedby={keysId}
      aria-keyshortcuts="A R"
      data-mission-id={m.id}
      onKeyDown={(e) => {
        const action = queueAction(
          {
            key: e.key,
            code: e.code,
            altKey: e.altKey,
            ctrlKey: e.ctrlKey,
            metaKey: e.metaKey,
            repeat: e.repeat,
            isComposing: e.nativeEvent.isComposing,
          },
          e.target as HTMLElement,
        );
        if (!action) return;
        e.preventDefault();
        if (action === 'accept') onAccept();
        else if (action === 'reject') onReject();
        else onMove(action === 'next' ? 1 : -1);
      }}
    >
      <MissionHead titleId={titleId} state={m.state}>
        {m.title}
      </MissionHead>
      <p className="queue-proposer" data-testid="proposer">
        {m.proposerName ? t.studio.proposedBy(m.proposerName) : t.studio.proposerUnknown}
      </p>
      {m.proposalMessage && (
        <div className="queue-message">
          <span className="visually-hidden">{t.studio.proposalMessage}: </span>
          <blockquote data-testid="proposal-message">{m.proposalMessage}</blockquote>
          <HideMessageButton backerName={m.proposerName} busy={busy} onHide={onHideMessage} />
        </div>
      )}
      {m.description && <p className="mission-description">{m.description}</p>}
      <dl className="mission-facts">
        <div>
          <dt>{t.studio.heldTotal}</dt>
          <dd>
            <strong className="total" data-testid="mission-total">
              {won(m.pledgedAmount)}
            </strong>{' '}
            <span className="muted">{t.common.backers(m.backerCount)}</span>
          </dd>
        </div>
        <div>
          <dt>{t.studio.duration}</dt>
          <dd data-testid="mission-duration">{durationWords(m.durationSeconds, t)}</dd>
        </div>
        {m.unit && (
          <div>
            <dt>{t.terms.progress}</dt>
            <dd>
              <UnitCounter mission={m} />
            </dd>
          </div>
        )}
        <div>
          <dt>{t.channel.acceptLeft}</dt>
          <dd>
            <Countdown until={m.acceptDeadline} className="big-time" />
          </dd>
        </div>
      </dl>
      <p id={keysId} className="visually-hidden">
        {t.studio.cardKeys}
      </p>
      <div className="button-row">
        <button
          type="button"
          className="button button-primary"
          disabled={busy}
          aria-keyshortcuts="A"
          onClick={onAccept}
        >
          {t.studio.accept} <kbd aria-hidden="true">A</kbd>
        </button>
        <button
          type="button"
          className="button button-secondary"
          disabled={busy}
          aria-keyshortcuts="R"
          onClick={onReject}
        >
          {t.studio.reject} <kbd aria-hidden="true">R</kbd>
        </button>
        <button type="button" className="button button-ghost" disabled={busy} onClick={onBlock}>
          {t.terms.blockProposer}
        </button>
      </div>
    </article>
  );
}

function StudioMission({
  mission: m,
  children,
  extra,
}: {
  mission: Mission;
  children: ReactNode;
  extra?: ReactNode;
}) {
  const t = useT();
  const titleId = useId();
  return (
    <article className="mission" aria-labelledby={titleId} data-mission-id={m.id}>
      <MissionHead titleId={titleId} state={m.state}>
        {m.title}
      </MissionHead>
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
        {m.unit && (
          <div>
            <dt>{t.terms.progress}</dt>
            <dd>
              <UnitCounter mission={m} />
            </dd>
          </div>
        )}
        {m.state === 'PROPOSED' || m.state === 'ACTIVE' ? (
          <div>
            <dt>{m.state === 'PROPOSED' ? t.channel.acceptLeft : t.channel.timeLeft}</dt>
            <dd>
              <Countdown
                until={m.state === 'PROPOSED' ? m.acceptDeadline : m.deadline}
                className="big-time"
              />
            </dd>
          </div>
        ) : (
          <>
            {m.proposedOutcome && (
              <div>
                <dt>{t.disputes.proposedOutcome}</dt>
                <dd>{t.state[m.proposedOutcome]}</dd>
              </div>
            )}
            {m.state === 'CONFIRMING' && (
              <div>
                <dt>{t.disputes.windowLeft}</dt>
                <dd>
                  <Countdown until={m.disputeEndsAt} className="big-time" />
                </dd>
              </div>
            )}
            <div>
              <dt>{t.disputes.disputed}</dt>
              <dd data-testid="mission-disputed">{won(m.disputedAmount ?? 0)}</dd>
            </div>
          </>
        )}
      </dl>
      {extra}
      <Proof mission={m} />
      {m.state === 'IN_REVIEW' && <p className="alert alert-info">{t.disputes.inReview}</p>}
      <div className="button-row">{children}</div>
    </article>
  );
}

/** Optional proof link and note of a decision, checked as the server does before it is sent. */
function ProofFields({
  value,
  onChange,
}: {
  value: { url: string; note: string };
  onChange(v: { url: string; note: string }): void;
}) {
  const t = useT();
  const url = value.url.trim();
  const badUrl = url !== '' && (!/^https:\/\/[^\s]+$/.test(url) || chars(url) > 500);
  const badNote = chars(value.note.trim()) > 500;
  return (
    <div className="proof-fields">
      <TextField
        label={t.disputes.proofUrl}
        hint={t.disputes.proofUrlHint}
        error={badUrl ? t.disputes.errProofUrl : null}
        type="url"
        inputMode="url"
        value={value.url}
        onChange={(u) => onChange({ ...value, url: u })}
      />
      <TextField
        label={t.disputes.noteLabel}
        hint={t.disputes.noteHint}
        error={badNote ? t.disputes.errNote : null}
        value={value.note}
        onChange={(n) => onChange({ ...value, note: n })}
      />
    </div>
  );
}

/** The disputes of a decided mission, for its streamer (refreshed every few seconds). */
function Disputes({ mission }: { mission: Mission }) {
  const t = useT();
  const [items, setItems] = useState<Dispute[] | null>(null);
  const load = useCallback(async () => {
    const page = await api<Page<Dispute>>('GET', `/api/v1/missions/${mission.id}/disputes?limit=100`);
    setItems(page.items);
  }, [mission.id]);
  usePolling(load, 5000);
  return (
    <section className="disputes" aria-label={t.disputes.disputesTitle}>
      <h4>{t.disputes.disputesTitle}</h4>
      {!items ? (
        <Spinner label={t.common.loading} />
      ) : items.length === 0 ? (
        <p className="muted">{t.disputes.noDisputes}</p>
      ) : (
        <ul className="dispute-list" data-testid="dispute-list">
          {items.map((d) => (
            <li key={d.id}>
              <span className="muted">{t.disputes.by(d.backerName, won(d.amount))}</span>
              <p className="dispute-reason">{d.reason}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const DEFAULTS: ChannelSettings = {
  missionMinAmount: 1000,
  missionMaxAmount: 1_000_000,
  acceptWindowSeconds: 3600,
  failureKeepBps: 0,
  blockedWords: [],
  disputeWindowSeconds: 0,
  disputeThresholdBps: 3000,
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
  const [words, setWords] = useState<string[]>(start.blockedWords ?? []);
  const [dispWin, setDispWin] = useState<{ amount: string; unit: DurationUnit }>(
    toDuration(start.disputeWindowSeconds),
  );
  const [threshold, setThreshold] = useState(String(start.disputeThresholdBps / 100));
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
          const dispSeconds = dispWin.amount.trim() === '' ? 0 : durationSeconds(dispWin.amount, dispWin.unit);
          if (!Number.isSafeInteger(dispSeconds) || dispSeconds < 0 || dispSeconds > 86_400)
            errs.dispWin = t.disputes.errWindow;
          const thresholdBps = Math.round(Number(threshold) * 100);
          if (threshold.trim() === '' || !Number.isFinite(thresholdBps) || thresholdBps < 1 || thresholdBps > 10_000)
            errs.threshold = t.disputes.errThreshold;
          setErrors(errs);
          if (Object.keys(errs).length) return;
          const settings: ChannelSettings = {
            missionMinAmount: lo,
            missionMaxAmount: hi,
            acceptWindowSeconds: seconds,
            failureKeepBps: bps,
            blockedWords: words,
            disputeWindowSeconds: dispSeconds,
            disputeThresholdBps: thresholdBps,
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
          <AmountField
            label={t.studio.minAmount}
            error={errors.minmax}
            value={min}
            onChange={setMin}
          />
          <AmountField
            label={t.studio.maxAmount}
            error={errors.minmax}
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
          <DurationInput
            label={t.disputes.windowSetting}
            hint={t.disputes.windowSettingHint}
            error={errors.dispWin}
            amount={dispWin.amount}
            unit={dispWin.unit}
            onChange={(amount, unit) => setDispWin({ amount, unit })}
          />
          <TextField
            label={t.disputes.thresholdSetting}
            hint={t.disputes.thresholdSettingHint}
            error={errors.threshold}
            type="number"
            inputMode="decimal"
            min={0.01}
            max={100}
            step={0.01}
            value={threshold}
            onChange={setThreshold}
          />
        </div>
        <BlockedWordsField words={words} onChange={setWords} />
        <ProblemMessage error={action.error} />
        <SuccessMessage>{action.done}</SuccessMessage>
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {editing ? t.common.save : action.busy ? t.studio.creating : t.studio.create}
        </button>
      </form>
    </section>
  );
}
