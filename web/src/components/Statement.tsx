// A statement: when, what (with its mission), the movement and the balance
// after it — one table for the cash history and the points history alike.
// Below 640 px the "when" column folds into the "what" cell (.entry-when).
import type { ReactNode } from 'react';
import { dateTime } from '../format.ts';
import { useLang, useT } from '../i18n.ts';
import type { EntryWords } from '../wallet-history.ts';
import { Spinner } from './ui.tsx';

export interface StatementRow {
  id: string;
  createdAt: string;
  words: EntryWords;
  /** The balance after this movement, formatted. */
  balance: string;
  /** Attributes of the row, e.g. {"data-entry-kind": "capture"}. */
  attrs?: Record<`data-${string}`, string>;
}

/** The statement; a spinner while `rows` is null (loading), a short note when there are none. */
export function StatementTable({
  rows,
  className,
  testId,
}: {
  rows: StatementRow[] | null;
  className?: string;
  testId?: string;
}): ReactNode {
  const t = useT();
  const lang = useLang();
  if (rows === null) return <Spinner label={t.common.loading} />;
  if (rows.length === 0) return <p className="muted">{t.common.empty}</p>;
  return (
    <table className={`table statement${className ? ` ${className}` : ''}`} data-testid={testId}>
      <thead>
        <tr>
          <th scope="col" className="when">
            {t.wallet.when}
          </th>
          <th scope="col">{t.wallet.kind}</th>
          <th scope="col" className="num">
            {t.wallet.amount}
          </th>
          <th scope="col" className="num">
            {t.wallet.balanceAfter}
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ id, createdAt, words, balance, attrs }) => (
          <tr key={id} {...attrs}>
            <td className="when">{dateTime(createdAt, lang)}</td>
            <td className="kind">
              <span className="entry-when">{dateTime(createdAt, lang)}</span>
              {words.label}
              {words.title && <span className="entry-title">{words.title}</span>}
            </td>
            <td className={`num ${words.sign}`}>
              {words.amount}
              {words.notes.map((n) => (
                <span key={n} className="entry-note">
                  {n}
                </span>
              ))}
            </td>
            <td className="num">{balance}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
