import { useId, useState } from 'react';
import { api, newIdempotencyKey } from '../api.ts';
import { PageTitle } from '../components/Layout.tsx';
import { PredictionWidget } from '../components/Prediction.tsx';
import {
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
  type DurationUnit,
} from '../components/ui.tsx';
import { durationWords, percentOfBps, pts, won } from '../format.ts';
import { useAction, useSession, useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { useChannelBoard, type Board } from '../live.ts';
import { Link } from '../router.tsx';
import { isTerminal, type Channel, type Mission } from '../types.ts';
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
  const ended = board.missions
    .filter((m) => isTerminal(m.state) && board.endedAt[m.id])
    .sort((a, b) => board.endedAt[b.id]! - board.endedAt[a.id]!);
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
          <p className="muted">{t.channel.noActive}</p>
        ) : (
          <div className="missions">{active.map(card)}</div>
        )}
      </section>

      <section aria-labelledby="proposed-h" className="section">
        <h2 id="proposed-h">{t.channel.proposed}</h2>
        {proposed.length === 0 ? (
          <p className="muted">{t.channel.noProposed}</p>
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
  return (
    <article
      className={`mission mission-${m.state.toLowerCase()}`}
      aria-labelledby={titleId}
      data-mission-id={m.id}
    >
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
        {terminal && (
          <div>
            <dt>{t.channel.outcome}</dt>
            <dd data-testid="mission-outcome">
              {t.state[m.state]} · {m.settledAt ? t.channel.settled : t.channel.settling}
            </dd>
          </div>
        )}
      </dl>
      {!terminal && canPledge && <BackForm mission={m} channel={channel} onBacked={onMoneyMoved} />}
      {/* A mission that was ever active has a prediction; after the outcome it shows the payout. */}
      {(m.state === 'ACTIVE' || (terminal && m.deadline)) && (
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
  const [amount, setAmount] = useState(String(s.missionMinAmount));
  const [error, setError] = useState<string | null>(null);
  const action = useAction();
  return (
    <form
      className="back-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const n = parseAmount(amount);
        if (!Number.isSafeInteger(n) || n < s.missionMinAmount || n > s.missionMaxAmount) {
          setError(t.channel.errAmount(won(s.missionMinAmount), won(s.missionMaxAmount)));
          return;
        }
        setError(null);
        const key = newIdempotencyKey();
        void action.run(async () => {
          await api('POST', `/api/v1/missions/${mission.id}/pledges`, {
            body: { amount: n },
            idempotencyKey: key,
          });
          onBacked();
          return t.channel.backed(won(n));
        });
      }}
    >
      <div className="inline-form">
        <TextField
          label={t.channel.backAmount}
          error={error}
          inputMode="numeric"
          value={amount}
          onChange={setAmount}
        />
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {action.busy ? t.channel.backing : t.channel.back}
        </button>
      </div>
      {mission.failureKeepBps > 0 && (
        <p className="hint">{t.channel.keepNote(percentOfBps(mission.failureKeepBps))}</p>
      )}
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
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useAction();
  const range = [won(s.missionMinAmount), won(s.missionMaxAmount)] as const;
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
          if (!Number.isSafeInteger(n) || n < s.missionMinAmount || n > s.missionMaxAmount)
            errs.amount = t.channel.errAmount(...range);
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
            };
            if (description.trim()) body.description = description;
            await api('POST', `/api/v1/channels/${channel.handle}/missions`, {
              body,
              idempotencyKey: key,
            });
            setTitle('');
            setDescription('');
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
        <div className="grid-2">
          <TextField
            label={t.channel.amount}
            hint={t.channel.amountHint(...range)}
            error={errors.amount}
            inputMode="numeric"
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
        <ProblemMessage error={action.error} />
        <SuccessMessage>{action.done}</SuccessMessage>
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {action.busy ? t.channel.proposing : t.channel.propose}
        </button>
      </form>
    </section>
  );
}
