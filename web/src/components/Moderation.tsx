// The streamer's tools in the studio: reporting a per-unit mission's
// progress, the channel's blocked words and its block list.
import { useCallback, useEffect, useId, useState } from 'react';
import { api } from '../api.ts';
import { recentProposers, type Proposer } from '../blocks.ts';
import { dateTime } from '../format.ts';
import { useAction } from '../hooks.ts';
import { useLang, useT } from '../i18n.ts';
import type { Block, Mission, Page } from '../types.ts';
import { chars } from './Terms.tsx';
import { Field, ProblemMessage, SuccessMessage, TextField } from './ui.tsx';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** +1 and an absolute count for an ACTIVE per-unit mission (the count never goes back). */
export function ProgressControl({
  mission: m,
  onReported,
}: {
  mission: Mission;
  onReported(): void;
}) {
  const t = useT();
  const unit = m.unit!;
  const [value, setValue] = useState(String(unit.units));
  const [error, setError] = useState<string | null>(null);
  const action = useAction();
  const headingId = useId();
  const report = (units: number) =>
    action.run(async () => {
      const { mission } = await api<{ mission: Mission }>(
        'POST',
        `/api/v1/missions/${m.id}/progress`,
        {
          body: { units },
        },
      );
      const done = mission.unit?.units ?? units;
      setValue(String(done));
      onReported();
      return t.terms.progressOk(done, unit.label);
    });
  return (
    <form
      className="progress-form"
      aria-labelledby={headingId}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const n = Number(value.trim());
        if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0 || n > unit.maxUnits) {
          setError(t.terms.errUnits(unit.maxUnits));
          return;
        }
        setError(null);
        void report(n);
      }}
    >
      <h4 id={headingId} className="visually-hidden">
        {t.terms.reportProgress}
      </h4>
      <div className="inline-form">
        <button
          type="button"
          className="button button-primary"
          disabled={action.busy || unit.units >= unit.maxUnits}
          aria-label={t.terms.plusOneLabel(unit.label)}
          onClick={() => void report(unit.units + 1)}
        >
          {t.terms.plusOne}
        </button>
        <TextField
          label={t.terms.setUnits(unit.label)}
          error={error}
          type="number"
          inputMode="numeric"
          min={0}
          max={unit.maxUnits}
          value={value}
          onChange={setValue}
        />
        <button type="submit" className="button button-secondary" disabled={action.busy}>
          {t.terms.setUnitsButton}
        </button>
      </div>
      <ProblemMessage error={action.error} />
      <SuccessMessage>{action.done}</SuccessMessage>
    </form>
  );
}

/** The channel's blocked words as removable tags, with a field to add one. */
export function BlockedWordsField({
  words,
  onChange,
}: {
  words: string[];
  onChange(words: string[]): void;
}) {
  const t = useT();
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const add = () => {
    const w = draft.trim();
    if (!w) return;
    if (chars(w) > 40 || words.length >= 200) {
      setError(t.terms.errWord);
      return;
    }
    setError(null);
    if (!words.some((x) => x.toLowerCase() === w.toLowerCase())) onChange([...words, w]);
    setDraft('');
  };
  return (
    <div className="blocked-words">
      <Field label={t.terms.blockedWords} hint={t.terms.blockedWordsHint} error={error}>
        {({ id, describedBy, invalid }) => (
          <div className="inline-form">
            <input
              id={id}
              value={draft}
              maxLength={40}
              aria-describedby={describedBy}
              aria-invalid={invalid || undefined}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  add();
                }
              }}
            />
            <button type="button" className="button button-secondary" onClick={add}>
              {t.terms.addWord}
            </button>
          </div>
        )}
      </Field>
      {words.length === 0 ? (
        <p className="muted">{t.terms.noWords}</p>
      ) : (
        <ul className="tag-list" aria-label={t.terms.blockedWords} data-testid="blocked-words">
          {words.map((w) => (
            <li key={w} className="tag">
              <span>{w}</span>
              <button
                type="button"
                aria-label={t.terms.removeWord(w)}
                onClick={() => onChange(words.filter((x) => x !== w))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Users the channel blocked, by name: block a recent proposer or an id, list, unblock. */
export function BlockList({ handle, version }: { handle: string; version: number }) {
  const t = useT();
  const lang = useLang();
  const headingId = useId();
  const [blocks, setBlocks] = useState<Block[] | null>(null);
  const [proposers, setProposers] = useState<Proposer[]>([]);
  const [chosen, setChosen] = useState('');
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const action = useAction();
  const load = useCallback(async () => {
    // The block list and the newest missions (whose proposers the picker offers), read side by side.
    const blocksOfChannel = async () => {
      const all: Block[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 5; i++) {
        const q: string = `/api/v1/channels/${handle}/blocks?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page: Page<Block> = await api<Page<Block>>('GET', q);
        all.push(...page.items);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      return all;
    };
    const [all, newest] = await Promise.all([
      blocksOfChannel(),
      api<Page<Mission>>('GET', `/api/v1/channels/${handle}/missions?limit=100`),
    ]);
    setBlocks(all);
    setProposers(recentProposers(newest.items, all));
  }, [handle]);
  const block = (id: string, done: () => void) =>
    action.run(async () => {
      await api('POST', `/api/v1/channels/${handle}/blocks`, { body: { userId: id } });
      done();
      await load();
      return t.terms.blocked;
    });
  useEffect(() => {
    void load().catch(() => undefined);
  }, [load, version]);
  return (
    <section className="card section" aria-labelledby={headingId} data-testid="blocks">
      <h2 id={headingId}>{t.terms.blocksTitle}</h2>
      <p className="muted">{t.terms.blocksLead}</p>
      {blocks && blocks.length === 0 && <p className="muted">{t.terms.noBlocks}</p>}
      {blocks && blocks.length > 0 && (
        <ul className="block-list">
          {blocks.map((b) => (
            <li key={b.userId}>
              <span>
                <strong data-testid="blocked-name">{b.displayName}</strong>{' '}
                <code className="muted">{b.userId}</code>{' '}
                <span className="muted">{t.terms.blockedAt(dateTime(b.createdAt, lang))}</span>
              </span>
              <button
                type="button"
                className="button button-ghost"
                aria-label={`${t.terms.unblock}: ${b.displayName}`}
                disabled={action.busy}
                onClick={() =>
                  void action.run(async () => {
                    await api('DELETE', `/api/v1/channels/${handle}/blocks/${b.userId}`);
                    await load();
                    return t.terms.unblocked;
                  })
                }
              >
                {t.terms.unblock}
              </button>
            </li>
          ))}
        </ul>
      )}
      {proposers.length > 0 && (
        <form
          data-testid="block-proposer"
          onSubmit={(e) => {
            e.preventDefault();
            if (chosen) void block(chosen, () => setChosen(''));
          }}
        >
          <div className="inline-form">
            <Field label={t.terms.blockRecentProposer} hint={t.terms.blockRecentProposerHint}>
              {({ id, describedBy }) => (
                <select
                  id={id}
                  value={chosen}
                  aria-describedby={describedBy}
                  onChange={(e) => setChosen(e.target.value)}
                >
                  <option value="">{t.terms.chooseProposer}</option>
                  {proposers.map((p) => (
                    <option key={p.userId} value={p.userId}>
                      {p.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button
              type="submit"
              className="button button-secondary"
              disabled={action.busy || !chosen}
            >
              {t.terms.block}
            </button>
          </div>
        </form>
      )}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const id = userId.trim().toLowerCase();
          if (!UUID.test(id)) {
            setError(t.terms.errUserId);
            return;
          }
          setError(null);
          void block(id, () => setUserId(''));
        }}
      >
        <div className="inline-form">
          <TextField
            label={t.terms.blockUserId}
            hint={t.terms.blockUserIdHint}
            error={error}
            autoCapitalize="none"
            spellCheck={false}
            value={userId}
            onChange={setUserId}
          />
          <button type="submit" className="button button-secondary" disabled={action.busy}>
            {t.terms.block}
          </button>
        </div>
      </form>
      <ProblemMessage error={action.error} />
      <SuccessMessage>{action.done}</SuccessMessage>
    </section>
  );
}
