// The channel owner hides a backer's message (POST /api/v1/pledges/:id/hide-message):
// a small "Hide" beside the message that asks once, in place, before anything
// is sent. The server drops the message from every list and the overlays
// (a `moderation` live event); the page that hid it drops it at once.
import { useEffect, useId, useRef, useState } from 'react';
import { api } from '../api.ts';
import { useT } from '../i18n.ts';
import type { Page, Pledge } from '../types.ts';

/** Hides one pledge's message (channel owner only; 204, also when already hidden). */
export async function hidePledgeMessage(pledgeId: string): Promise<void> {
  await api('POST', `/api/v1/pledges/${encodeURIComponent(pledgeId)}/hide-message`);
}

/**
 * The pledge that carries a proposal's message: the proposer's first pledge,
 * made with the mission, so the mission's oldest (the list is newest first).
 */
export async function proposalPledgeId(missionId: string): Promise<string | null> {
  let oldest: Pledge | undefined;
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const q: string = `/api/v1/missions/${encodeURIComponent(missionId)}/pledges?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Page<Pledge> = await api<Page<Pledge>>('GET', q);
    oldest = page.items.at(-1) ?? oldest;
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return oldest?.id ?? null;
}

/**
 * "Hide" (named with whose message it is); pressed, it becomes a question
 * with "Yes, hide" and "Cancel" (Escape cancels too), focus moving into the
 * question and back. `onHide` runs only on "Yes".
 */
export function HideMessageButton({
  backerName,
  busy,
  onHide,
}: {
  backerName: string | null;
  busy?: boolean;
  onHide(): void;
}) {
  const t = useT();
  const [asking, setAsking] = useState(false);
  const askId = useId();
  const yes = useRef<HTMLButtonElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const backToTrigger = useRef(false);
  useEffect(() => {
    if (asking) yes.current?.focus();
    else if (backToTrigger.current) {
      backToTrigger.current = false;
      trigger.current?.focus();
    }
  }, [asking]);
  const cancel = () => {
    backToTrigger.current = true;
    setAsking(false);
  };
  if (!asking)
    return (
      <button
        ref={trigger}
        type="button"
        className="button button-ghost button-small hide-message"
        aria-label={backerName ? t.terms.hideMessageOf(backerName) : undefined}
        disabled={busy}
        onClick={() => setAsking(true)}
      >
        {t.terms.hideMessage}
      </button>
    );
  return (
    <span
      className="hide-ask"
      role="group"
      aria-labelledby={askId}
      data-testid="hide-ask"
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return;
        e.stopPropagation();
        cancel();
      }}
    >
      <span id={askId} className="hide-ask-text">
        {t.terms.hideAsk}
      </span>
      <span className="hide-ask-buttons">
        <button
          ref={yes}
          type="button"
          className="button button-danger button-small"
          disabled={busy}
          onClick={() => {
            setAsking(false);
            onHide();
          }}
        >
          {t.terms.hideYes}
        </button>
        <button type="button" className="button button-ghost button-small" onClick={cancel}>
          {t.common.cancel}
        </button>
      </span>
    </span>
  );
}
