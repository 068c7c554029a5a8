// "Nothing here yet", with a small drawing (inline SVG, coloured by the
// theme's tokens through classes: no inline styles under our CSP). The
// drawing is decoration; the sentence says it all.
import type { ReactNode } from 'react';

export type Art = 'missions' | 'list' | 'chart' | 'search' | 'review';

/** A drawing of `art`, 88×64, hidden from screen readers. */
export function EmptyArt({ art, className }: { art: Art; className?: string }) {
  return (
    <svg
      className={className}
      viewBox="0 0 88 64"
      aria-hidden="true"
      focusable="false"
      fill="none"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {ART[art]}
    </svg>
  );
}

const spark = (x: number, y: number) => (
  <path className="art-accent art-spark" d={`M${x} ${y - 5}l1.5 3.5 3.5 1.5-3.5 1.5-1.5 3.5-1.5-3.5-3.5-1.5 3.5-1.5z`} />
);

const ART: Record<Art, ReactNode> = {
  // A stream screen with a play mark and a target.
  missions: (
    <>
      <rect className="art-fill art-line" x="10" y="12" width="52" height="36" rx="6" />
      <path className="art-primary" d="M31 23v14l12-7z" />
      <path className="art-line" d="M26 54h20" />
      <circle className="art-fill art-line" cx="68" cy="40" r="11" />
      <circle className="art-line" cx="68" cy="40" r="5" />
      <circle className="art-accent" cx="68" cy="40" r="2" />
      {spark(74, 14)}
    </>
  ),
  // Stacked cards.
  list: (
    <>
      <rect className="art-fill art-line" x="18" y="8" width="52" height="14" rx="4" />
      <rect className="art-fill art-line" x="18" y="26" width="52" height="14" rx="4" />
      <rect className="art-line" x="18" y="44" width="52" height="14" rx="4" strokeDasharray="4 4" />
      <path className="art-line" d="M26 15h20M26 33h28" />
      {spark(78, 12)}
    </>
  ),
  // Bars waiting for data, and a heartbeat.
  chart: (
    <>
      <path className="art-line" d="M10 54h68M10 54V10" />
      <rect className="art-fill art-line" x="18" y="38" width="9" height="16" rx="2" />
      <rect className="art-fill art-line" x="33" y="28" width="9" height="26" rx="2" />
      <rect className="art-line" x="48" y="34" width="9" height="20" rx="2" strokeDasharray="3 3" />
      <path className="art-line" d="M14 22h10l4-8 6 16 4-8h8" />
      {spark(70, 18)}
    </>
  ),
  // A magnifier over a channel's face.
  search: (
    <>
      <circle className="art-fill art-line" cx="38" cy="28" r="17" />
      <circle className="art-primary" cx="38" cy="24" r="5" />
      <path className="art-line" d="M29 37c3-5 15-5 18 0M51 41l14 14" />
      {spark(72, 14)}
    </>
  ),
  // A shield with a check: nothing waits for review.
  review: (
    <>
      <path className="art-fill art-line" d="M44 6l22 8v14c0 14-9 24-22 30-13-6-22-16-22-30V14z" />
      <path className="art-line" d="M34 31l7 7 13-14" />
      {spark(74, 46)}
    </>
  ),
};

/** An empty list: the drawing and the sentence (its text stays findable as before). */
export function EmptyState({
  art,
  children,
  testId,
}: {
  art: Art;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <div className="empty-state" data-testid={testId}>
      <EmptyArt art={art} />
      <p>{children}</p>
    </div>
  );
}
