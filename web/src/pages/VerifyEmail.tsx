// /verify-email?token=…: the link of a verification mail. It confirms the
// token once and says whether that worked. No session is needed (the token
// is the proof); a signed-in tab reloads its profile to show the new state.
import { useEffect, useState } from 'react';
import { api, ApiError, reloadMe } from '../api.ts';
import { PageTitle } from '../components/Layout.tsx';
import { ProblemMessage, Spinner } from '../components/ui.tsx';
import { useSession, useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { Link, useLocation } from '../router.tsx';

type Outcome = { kind: 'ok' } | { kind: 'invalid' } | { kind: 'error'; error: unknown };

// A token is spent by its first confirmation: a second one (a re-render, React's
// development double effects) must share that answer instead of asking again.
const confirmations = new Map<string, Promise<Outcome>>();

function confirmOnce(token: string): Promise<Outcome> {
  let pending = confirmations.get(token);
  if (!pending) {
    pending = api('POST', '/api/v1/auth/email-verification/confirm', { body: { token } }).then(
      (): Outcome => ({ kind: 'ok' }),
      (error: unknown): Outcome =>
        error instanceof ApiError &&
        (error.code === 'INVALID_TOKEN' || error.code === 'VALIDATION_FAILED')
          ? { kind: 'invalid' }
          : { kind: 'error', error },
    );
    // A network failure may be retried (with a reload); an answer may not.
    void pending.then((o) => {
      if (o.kind === 'error') confirmations.delete(token);
    });
    confirmations.set(token, pending);
  }
  return pending;
}

export function VerifyEmailPage() {
  const t = useT();
  useTitle(t.verify.title);
  const { search } = useLocation();
  const token = new URLSearchParams(search).get('token') ?? '';
  const session = useSession();
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useEffect(() => {
    if (!token) return;
    let live = true;
    setOutcome(null);
    void confirmOnce(token).then((o) => {
      if (live) setOutcome(o);
    });
    return () => {
      live = false;
    };
  }, [token]);

  // Once verified, a signed-in tab shows it at once (and any role it brings).
  const signedIn = session.status === 'signed-in';
  const verified = outcome?.kind === 'ok';
  useEffect(() => {
    if (verified && signedIn) void reloadMe().catch(() => undefined);
  }, [verified, signedIn]);

  return (
    <section className="narrow">
      <PageTitle>{t.verify.title}</PageTitle>
      {!token ? (
        <p className="alert alert-error" role="alert">
          {t.verify.missing}
        </p>
      ) : !outcome ? (
        <Spinner label={t.verify.checking} />
      ) : outcome.kind === 'ok' ? (
        <p className="alert alert-ok" role="status" data-testid="verify-result">
          {t.verify.ok}
        </p>
      ) : outcome.kind === 'invalid' ? (
        <>
          <p className="alert alert-error" role="alert" data-testid="verify-result">
            {t.verify.failed}
          </p>
          <p>{t.verify.again}</p>
        </>
      ) : (
        <ProblemMessage error={outcome.error} />
      )}
      <p>
        {signedIn ? (
          <Link to="/me">{t.verify.toAccount}</Link>
        ) : (
          <Link to="/">{t.verify.home}</Link>
        )}
      </p>
    </section>
  );
}
