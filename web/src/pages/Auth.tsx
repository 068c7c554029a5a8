import { useEffect, useState } from 'react';
import { signIn, signUp } from '../api.ts';
import { PageTitle } from '../components/Layout.tsx';
import { ProblemMessage, TextField } from '../components/ui.tsx';
import { useAction, useSession, useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { Link, navigate, useLocation } from '../router.tsx';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const chars = (s: string) => [...s].length;

/** Where to go after signing in: only paths of this app (never another site). */
function nextPath(search: string): string {
  const next = new URLSearchParams(search).get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//') || /^\/sign(in|up)\b/.test(next))
    return '/';
  return next;
}

function useLeaveWhenSignedIn() {
  const session = useSession();
  const { search } = useLocation();
  useEffect(() => {
    if (session.status === 'signed-in') navigate(nextPath(search), { replace: true });
  }, [session.status, search]);
}

export function SignInPage() {
  const t = useT();
  useTitle(t.auth.signInTitle);
  useLeaveWhenSignedIn();
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useAction();
  return (
    <section className="narrow card">
      <PageTitle>{t.auth.signInTitle}</PageTitle>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const errs: Record<string, string> = {};
          if (!EMAIL.test(email.trim())) errs.email = t.auth.badEmail;
          if (!password) errs.password = t.common.required;
          setErrors(errs);
          if (Object.keys(errs).length) return;
          void action.run(() => signIn(email.trim(), password));
        }}
      >
        <TextField
          label={t.auth.email}
          error={errors.email}
          type="email"
          autoComplete="username"
          value={email}
          onChange={setEmail}
          required
        />
        <TextField
          label={t.auth.password}
          error={errors.password}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
          required
        />
        <ProblemMessage error={action.error} />
        <button type="submit" className="button button-primary button-wide" disabled={action.busy}>
          {action.busy ? t.auth.signingIn : t.auth.submitSignIn}
        </button>
      </form>
      <p className="muted">
        {t.auth.noAccount} <Link to={`/signup${search}`}>{t.auth.signUpTitle}</Link>
      </p>
    </section>
  );
}

export function SignUpPage() {
  const t = useT();
  useTitle(t.auth.signUpTitle);
  useLeaveWhenSignedIn();
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useAction();
  return (
    <section className="narrow card">
      <PageTitle>{t.auth.signUpTitle}</PageTitle>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const errs: Record<string, string> = {};
          if (!EMAIL.test(email.trim())) errs.email = t.auth.badEmail;
          if (chars(password) < 10 || chars(password) > 128) errs.password = t.auth.badPassword;
          const name = displayName.trim();
          if (chars(name) < 1 || chars(name) > 50) errs.displayName = t.auth.badDisplayName;
          setErrors(errs);
          if (Object.keys(errs).length) return;
          void action.run(() => signUp(email.trim(), password, name));
        }}
      >
        <TextField
          label={t.auth.email}
          error={errors.email}
          type="email"
          autoComplete="email"
          value={email}
          onChange={setEmail}
          required
        />
        <TextField
          label={t.auth.displayName}
          hint={t.auth.displayNameHint}
          error={errors.displayName}
          autoComplete="nickname"
          value={displayName}
          maxLength={50}
          onChange={setDisplayName}
          required
        />
        <TextField
          label={t.auth.password}
          hint={t.auth.passwordHint}
          error={errors.password}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          required
        />
        <ProblemMessage error={action.error} />
        <button type="submit" className="button button-primary button-wide" disabled={action.busy}>
          {action.busy ? t.auth.signingIn : t.auth.submitSignUp}
        </button>
      </form>
      <p className="muted">
        {t.auth.haveAccount} <Link to={`/signin${search}`}>{t.auth.signInTitle}</Link>
      </p>
    </section>
  );
}
