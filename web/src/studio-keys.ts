// The streamer's queue, decided from the keyboard: with a proposal card
// focused, A accepts it, R rejects it (after the usual confirmation), and
// ↑/↓ (or K/J) move to the previous/next card. Keys typed into a field never
// count, nor any with Ctrl, Alt or Meta (the browser's and the system's own).

export type QueueAction = 'accept' | 'reject' | 'next' | 'prev';

export interface KeyLike {
  key: string;
  code: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  repeat?: boolean;
  isComposing?: boolean;
}

/** Whether keys typed with `el` focused are text (an input, a text area, a list box, an editable element). */
export function typesText(el: { tagName: string; isContentEditable?: boolean } | null): boolean {
  if (!el) return false;
  return /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable === true;
}

/**
 * What a key pressed on a queue card asks for, or null. The letter is read
 * from the key when it is a Latin one, else from the key's place on the
 * keyboard, so A and R work with a Korean (두벌식) layout switched on too
 * (where that key types ㅁ or ㄱ).
 * @example queueAction({ key: 'ㅁ', code: 'KeyA', altKey: false, ctrlKey: false, metaKey: false }, null) // 'accept'
 */
export function queueAction(
  e: KeyLike,
  target: { tagName: string; isContentEditable?: boolean } | null,
): QueueAction | null {
  if (e.altKey || e.ctrlKey || e.metaKey || e.repeat || e.isComposing || typesText(target))
    return null;
  if (e.key === 'ArrowDown') return 'next';
  if (e.key === 'ArrowUp') return 'prev';
  const letter = /^[a-z]$/i.test(e.key)
    ? e.key.toLowerCase()
    : /^Key[A-Z]$/.test(e.code)
      ? e.code.slice(3).toLowerCase()
      : '';
  switch (letter) {
    case 'a':
      return 'accept';
    case 'r':
      return 'reject';
    case 'j':
      return 'next';
    case 'k':
      return 'prev';
    default:
      return null;
  }
}
