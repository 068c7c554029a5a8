import { useId, useState } from 'react';
import { api, newIdempotencyKey } from '../api.ts';
import { PageTitle } from '../components/Layout.tsx';
import { ChannelHistory, ChannelRecord } from '../components/ChannelHistory.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { PredictionWidget } from '../components/Prediction.tsx';
import {
  MESSAGE_MAX,
  MessageField,
  MissionPledges,
  OnFailureChoice,
  UnitCounter,
} from '../components/Terms.tsx';
import {
  Countdown,
  AmountField,
  DurationInput,
  durationSeconds,
  Field,
  LiveIndicator,
  MissionHead,
  parseAmount,
  ProblemMessage,
  Spinner,
  SuccessMessage,
  TextField,
  type DurationUnit,
} from '../components/ui.tsx';
import { durationWords, percentOfBps, pts, won } from '../format.ts';
import { useAction, useSession, useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { useChannelBoard, type Board } from '../live.ts';
import { Link } from '../router.tsx';
import { isTerminal, isUnconfirmed, type Channel, type Mission, type OnFailure } from '../types.ts';
import { useWallet } from './Wallet.tsx';

const MAX_DURATION = 604_800;
const chars = (s: string) => [...s].length;

export function ChannelPage({ handle }: { handle: string }) {
  const t = useT();
  const session = useSession();
  const signedIn = session.status === 'signed-in';
  const board = useChannelBoard(handle);
  const { wallet, refresh: refreshWallet } = useWallet(signedIn);
  useTitle(board.channel?.displayName ?? handle);

  if (!board.loaded) return <Spinner label={t.common.loading} />;
  if (board.notFound || !board.channel) {
    return (
      <section className="narrow">
        <PageTitle>{t.channel.notFound}</PageTitle>
        <ProblemMessage error={board.error} />
        <p>
          <Link to="/">{t.nav.home}</Link>
        </p>
      </section>
    );
  }
  const channel = board.channel;
  const isOwner = session.me?.channel === channel.handle;
  const canPledge = signedIn && !isOwner;
  const byNewest = (a: Mission, b: Mission) => b.createdAt.localeCompare(a.createdAt);
  const active = board.missions
    .filter((m) => m.state === 'ACTIVE')
    .sort((a, b) => (a.deadline ?? '').localeCompare(b.deadline ?? ''));
  const proposed = board.missions.filter((m) => m.state === 'PROPOSED').sort(byNewest);
  const confirming = board.missions.filter((m) => isUnconfirmed(m.state)).sort(byNewest);
  const ended = board.missions
    .filter((m) => isTerminal(m.state) && board.endedAt[m.id])
    .sort((a, b) => board.endedAt[b.id]! - board.endedAt[a.id]!);
  const endedIds = new Set(ended.map((m) => m.id));
  const s = channel.settings;

  const card = (m: Mission) => (
    <MissionCard
      key={m.id}
      mission={m}
      channel={channel}
      board={board}
      canPledge={canPledge}
      isOwner={isOwner}
      onMoneyMoved={() => void refreshWallet()}
    />
  );

  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle>{channel.displayName}</PageTitle>
          <p className="handle">@{channel.handle}</p>
        </div>
        <LiveIndicator status={board.status} />
      </div>
      <p className="muted">
        {t.channel.settings(
          won(s.missionMinAmount),
          won(s.missionMaxAmount),
          percentOfBps(s.failureKeepBps),
          durationWords(s.acceptWindowSeconds, t),
        )}
      </p>
      {signedIn && wallet && !isOwner && (
        <p className="balance-line" data-testid="channel-balance">
          {t.channel.myBalance(won(wallet.available), pts(wallet.points))}
        </p>
      )}
      {isOwner && (
        <p className="alert alert-info">
          {t.channel.ownerNote} <Link to="/studio">{t.channel.openStudio}</Link>
        </p>
      )}
      {session.status === 'anonymous' && (
        <p className="alert alert-info">
          {t.channel.signInToTakePart}{' '}
          <Link to={`/signin?next=${encodeURIComponent(`/c/${channel.handle}`)}`}>
            {t.nav.signIn}
          </Link>
        </p>
      )}

      <section aria-labelledby="active-h" className="section">
        <h2 id="active-h">{t.channel.active}</h2>
        {active.length === 0 ? (
          <EmptyState art="missions">{t.channel.noActive}</EmptyState>
        ) : (
          <div className="missions">{active.map(card)}</div>
        )}
      </section>

      {confirming.length > 0 && (
        <section aria-labelledby="confirming-h" className="section">
          <h2 id="confirming-h">{t.disputes.confirmingTitle}</h2>
          <p className="muted">{t.disputes.confirmingLead}</p>
          <div className="missions">{confirming.map(card)}</div>
        </section>
      )}

      <section aria-labelledby="proposed-h" className="section">
        <h2 id="proposed-h">{t.channel.proposed}</h2>
        {proposed.length === 0 ? (
          <EmptyState art="list">{t.channel.noProposed}</EmptyState>
        ) : (
          <div className="missions">{proposed.map(card)}</div>
        )}
      </section>

      {ended.length > 0 && (
        <section aria-labelledby="ended-h" className="section">
          <h2 id="ended-h">{t.channel.ended}</h2>
          <div className="missions">{ended.map(card)}</div>
        </section>
      )}

      <ChannelRecord handle={channel.handle} version={ended.length} />

      <ChannelHistory handle={channel.handle} version={ended.length} hide={endedIds} />

      {canPledge && <ProposeForm channel={channel} onProposed={() => void refreshWallet()} />}
    </>
  );
}

function MissionCard({
  mission: m,
  channel,
  board,
  canPledge,
  isOwner,
  onMoneyMoved,
}: {
  mission: Mission;
  channel: Channel;
  board: Board;
  canPledge: boolean;
  isOwner: boolean;
  onMoneyMoved(): void;
}) {
  const t = useT();
  const titleId = useId();
  const last = board.lastPledge[m.id];
  const terminal = isTerminal(m.state);
  const unconfirmed = isUnconfirmed(m.state);
  return (
    <article
      className={`mission mission-${m.state.toLowerCase()}`}
      aria-labelledby={titleId}
      data-mission-id={m.id}
    >
      <MissionHead titleId={titleId} state={m.state}>
        {m.title}
      </MissionHead>
      {m.description && <p className="mission-description">{m.description}</p>}
      <dl className="mission-facts">
        <div>
          <dt>{t.channel.pledged}</dt>
          <dd>
            <strong
              className={`total${last ? ' flash' : ''}`}
              data-testid="mission-total"
              key={last?.eventId ?? 0}
            >
              {won(m.pledgedAmount)}
            </strong>{' '}
            <span className="muted" data-testid="mission-backers">
              {t.common.backers(m.backerCount)}
            </span>
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
        {m.state === 'ACTIVE' && (
          <div>
            <dt>{t.channel.timeLeft}</dt>
            <dd>
              <Countdown until={m.deadline} className="big-time" />
            </dd>
          </div>
        )}
        {m.state === 'PROPOSED' && (
          <div>
            <dt>{t.channel.acceptLeft}</dt>
            <dd>
              <Countdown until={m.acceptDeadline} className="big-time" />
            </dd>
          </div>
        )}
        {unconfirmed && m.proposedOutcome && (
          <div>
            <dt>{t.disputes.proposedOutcome}</dt>
            <dd data-testid="mission-proposed-outcome">{t.state[m.proposedOutcome]}</dd>
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
        {unconfirmed && (m.disputedAmount ?? 0) > 0 && (
          <div>
            <dt>{t.disputes.disputed}</dt>
            <dd data-testid="mission-disputed">{won(m.disputedAmount ?? 0)}</dd>
          </div>
        )}
        {terminal && (
          <div>
            <dt>{t.channel.outcome}</dt>
            <dd data-testid="mission-outcome">
              {t.state[m.state]} · {m.settledAt ? t.channel.settled : t.channel.settling}
            </dd>
          </div>
        )}
      </dl>
      <Proof mission={m} />
      {m.state === 'IN_REVIEW' && <p className="alert alert-info">{t.disputes.inReview}</p>}
      {(m.state === 'PROPOSED' || m.state === 'ACTIVE') && canPledge && (
        <BackForm mission={m} channel={channel} onBacked={onMoneyMoved} />
      )}
      {/* Kept mounted in review: the backer's own dispute may be what sent it there, and its confirmation stays. */}
      {unconfirmed && canPledge && <DisputeForm mission={m} />}
      <MissionPledges
        mission={m}
        last={last}
        hidden={board.hidden}
        canHide={isOwner}
        onHidden={(pledgeId) => board.messageHidden(m.id, pledgeId)}
      />
      {/* A mission that was ever active has a prediction; after the outcome it shows the payout. */}
      {(m.state === 'ACTIVE' || ((terminal || unconfirmed) && m.deadline)) && (
        <PredictionWidget
          mission={m}
          live={board.pools[m.id]}
          canBet={!isOwner}
          onBet={onMoneyMoved}
        />
      )}
    </article>
  );
}

/** The owner's proof link and note of a decision, shown to backers. */
export function Proof({ mission: m }: { mission: Mission }) {
  const t = useT();
  if (!m.proofUrl && !m.note) return null;
  return (
    <dl className="mission-facts proof" data-testid="mission-proof">
      {m.proofUrl && (
        <div>
          <dt>{t.disputes.proof}</dt>
          <dd>
            <a href={m.proofUrl} target="_blank" rel="noopener noreferrer nofollow" className="proof-link">
              {t.disputes.openProof}
            </a>
          </dd>
        </div>
      )}
      {m.note && (
        <div>
          <dt>{t.disputes.note}</dt>
          <dd className="proof-note">{m.note}</dd>
        </div>
      )}
    </dl>
  );
}

/** A backer disputes the decided outcome while its window is open (the server answers who may). */
function DisputeForm({ mission }: { mission: Mission }) {
  const t = useT();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const action = useAction();
  if (mission.state !== 'CONFIRMING') return <SuccessMessage>{action.done}</SuccessMessage>;
  return (
    <form
      className="dispute-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const r = reason.trim();
        if (chars(r) < 1 || chars(r) > 500) {
          setError(t.disputes.errReason);
          return;
        }
        setError(null);
        void action.run(async () => {
          const { dispute } = await api<{ dispute: { amount: number } }>(
            'POST',
            `/api/v1/missions/${mission.id}/disputes`,
            { body: { reason: r } },
          );
          setReason('');
          return t.disputes.disputedOk(won(dispute.amount));
        });
      }}
    >
      <Field label={t.disputes.reason} hint={t.disputes.reasonHint} error={error}>
        {({ id, describedBy, invalid }) => (
          <textarea
            id={id}
            rows={2}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-describedby={describedBy}
            aria-invalid={invalid || undefined}
          />
        )}
      </Field>
      <button type="submit" className="button button-danger" disabled={action.busy}>
        {action.busy ? t.disputes.disputing : t.disputes.dispute}
      </button>
      <ProblemMessage error={action.error} />
      <SuccessMessage>{action.done}</SuccessMessage>
    </form>
  );
}

function BackForm({
  mission,
  channel,
  onBacked,
}: {
  mission: Mission;
  channel: Channel;
  onBacked(): void;
}) {
  const t = useT();
  const s = channel.settings;
  const unit = mission.unit;
  const maxUnits = unit?.maxUnits ?? 1;
  // On a per-unit mission the channel's bounds apply to the hold (amount × maxUnits).
  const least = Math.ceil(s.missionMinAmount / maxUnits);
  // A round default (to 100원) when it still fits under the maximum.
  const round = Math.ceil(least / 100) * 100;
  const minPer = round * maxUnits <= s.missionMaxAmount ? round : least;
  const [amount, setAmount] = useState(String(minPer));
  const [message, setMessage] = useState('');
  const [onFailure, setOnFailure] = useState<OnFailure>('REFUND');
  const [error, setError] = useState<string | null>(null);
  const [messageError, setMessageError] = useState<string | null>(null);
  const action = useAction();
  const n = parseAmount(amount);
  const holdOk = Number.isSafeInteger(n) && n > 0;
  return (
    <form
      className="back-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const hold = n * maxUnits;
        const amountOk =
          Number.isSafeInteger(n) && hold >= s.missionMinAmount && hold <= s.missionMaxAmount;
        setError(
          amountOk
            ? null
            : unit
              ? t.terms.errHold(won(s.missionMinAmount), won(s.missionMaxAmount))
              : t.channel.errAmount(won(s.missionMinAmount), won(s.missionMaxAmount)),
        );
        const messageOk = chars(message) <= MESSAGE_MAX;
        setMessageError(messageOk ? null : t.terms.errMessage);
        if (!amountOk || !messageOk) return;
        const key = newIdempotencyKey();
        void action.run(async () => {
          const body: Record<string, unknown> = { amount: n, onFailure };
          if (message.trim()) body.message = message;
          await api('POST', `/api/v1/missions/${mission.id}/pledges`, {
            body,
            idempotencyKey: key,
          });
          setMessage('');
          onBacked();
          return t.channel.backed(won(hold));
        });
      }}
    >
      <div className="inline-form">
        <AmountField
          label={unit ? t.terms.unitAmount(unit.label) : t.channel.backAmount}
          error={error}
          value={amount}
          onChange={setAmount}
        />
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {action.busy ? t.channel.backing : t.channel.back}
        </button>
      </div>
      {unit && holdOk && (
        <p className="hint" data-testid="hold-note">
          {t.terms.holdNote(won(n), unit.maxUnits, won(n * unit.maxUnits))}
        </p>
      )}
      <MessageField value={message} onChange={setMessage} error={messageError} />
      <OnFailureChoice
        value={onFailure}
        onChange={setOnFailure}
        keep={percentOfBps(mission.failureKeepBps)}
      />
      <ProblemMessage error={action.error} />
      <SuccessMessage>{action.done}</SuccessMessage>
    </form>
  );
}

function ProposeForm({ channel, onProposed }: { channel: Channel; onProposed(): void }) {
  const t = useT();
  const s = channel.settings;
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [amount, setAmount] = useState(String(s.missionMinAmount));
  const [dur, setDur] = useState<{ amount: string; unit: DurationUnit }>({
    amount: '30',
    unit: 'm',
  });
  const [message, setMessage] = useState('');
  const [onFailure, setOnFailure] = useState<OnFailure>('REFUND');
  const [perUnit, setPerUnit] = useState(false);
  const [unitLabel, setUnitLabel] = useState('');
  const [maxUnits, setMaxUnits] = useState('10');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useAction();
  const range = [won(s.missionMinAmount), won(s.missionMaxAmount)] as const;
  const perN = parseAmount(amount);
  const maxN = Number(maxUnits);
  const unitOk = Number.isSafeInteger(maxN) && maxN >= 1 && maxN <= 1000;
  return (
    <section className="card section" aria-labelledby="propose-h">
      <h2 id="propose-h">{t.channel.proposeTitle}</h2>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const errs: Record<string, string> = {};
          const tt = title.trim();
          if (chars(tt) < 1 || chars(tt) > 100) errs.title = t.channel.errTitle;
          if (chars(description) > 2000) errs.description = t.channel.errDescription;
          const n = parseAmount(amount);
          const label = unitLabel.trim();
          if (perUnit && (chars(label) < 1 || chars(label) > 20))
            errs.unitLabel = t.terms.errUnitLabel;
          if (perUnit && !unitOk) errs.maxUnits = t.terms.errMaxUnits;
          const hold = perUnit && unitOk ? n * maxN : n;
          if (!Number.isSafeInteger(hold) || hold < s.missionMinAmount || hold > s.missionMaxAmount)
            errs.amount = perUnit ? t.terms.errHold(...range) : t.channel.errAmount(...range);
          if (chars(message) > MESSAGE_MAX) errs.message = t.terms.errMessage;
          const seconds = durationSeconds(dur.amount, dur.unit);
          // The server's lower bound (MIN_WINDOW_SECONDS) may be below 60 in demos; it answers for itself.
          if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_DURATION)
            errs.duration = t.channel.errDuration;
          setErrors(errs);
          if (Object.keys(errs).length) return;
          const key = newIdempotencyKey();
          void action.run(async () => {
            const body: Record<string, unknown> = {
              title: tt,
              amount: n,
              durationSeconds: seconds,
              onFailure,
            };
            if (description.trim()) body.description = description;
            if (message.trim()) body.message = message;
            if (perUnit) body.unit = { label, maxUnits: maxN };
            await api('POST', `/api/v1/channels/${channel.handle}/missions`, {
              body,
              idempotencyKey: key,
            });
            setTitle('');
            setDescription('');
            setMessage('');
            onProposed();
            return t.channel.proposed_ok;
          });
        }}
      >
        <TextField
          label={t.channel.missionTitle}
          hint={t.channel.missionTitleHint}
          error={errors.title}
          value={title}
          onChange={setTitle}
        />
        <Field
          label={t.channel.description}
          hint={t.channel.descriptionHint}
          error={errors.description}
        >
          {({ id, describedBy, invalid }) => (
            <textarea
              id={id}
              rows={3}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              aria-describedby={describedBy}
              aria-invalid={invalid || undefined}
            />
          )}
        </Field>
        <label className="check">
          <input type="checkbox" checked={perUnit} onChange={(e) => setPerUnit(e.target.checked)} />
          {t.terms.perUnit}
        </label>
        {perUnit && (
          <div className="grid-2">
            <TextField
              label={t.terms.unitLabel}
              hint={t.terms.unitLabelHint}
              error={errors.unitLabel}
              maxLength={20}
              value={unitLabel}
              onChange={setUnitLabel}
            />
            <TextField
              label={t.terms.maxUnits}
              hint={t.terms.maxUnitsHint}
              error={errors.maxUnits}
              inputMode="numeric"
              value={maxUnits}
              onChange={setMaxUnits}
            />
          </div>
        )}
        <div className="grid-2">
          <AmountField
            label={
              perUnit ? t.terms.unitAmount(unitLabel.trim() || t.terms.unitLabel) : t.channel.amount
            }
            hint={
              perUnit && unitOk && Number.isSafeInteger(perN) && perN > 0
                ? t.terms.holdNote(won(perN), maxN, won(perN * maxN))
                : t.channel.amountHint(...range)
            }
            error={errors.amount}
            value={amount}
            onChange={setAmount}
          />
          <DurationInput
            label={t.channel.duration}
            hint={t.channel.durationHint}
            error={errors.duration}
            amount={dur.amount}
            unit={dur.unit}
            onChange={(amount, unit) => setDur({ amount, unit })}
          />
        </div>
        <MessageField value={message} onChange={setMessage} error={errors.message} />
        <OnFailureChoice
          value={onFailure}
          onChange={setOnFailure}
          keep={percentOfBps(s.failureKeepBps)}
        />
        <ProblemMessage error={action.error} />
        <SuccessMessage>{action.done}</SuccessMessage>
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {action.busy ? t.channel.proposing : t.channel.propose}
        </button>
      </form>
    </section>
  );
}
