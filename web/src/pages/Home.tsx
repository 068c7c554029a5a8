import { useState } from 'react';
import { TextField } from '../components/ui.tsx';
import { PageTitle } from '../components/Layout.tsx';
import { useSession, useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { Link, navigate } from '../router.tsx';

const HANDLE = /^[a-z0-9_]{3,24}$/;

export function HomePage() {
  const t = useT();
  const session = useSession();
  useTitle(t.nav.home);
  const [handle, setHandle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const me = session.me;
  return (
    <>
      <section className="hero">
        <PageTitle>{t.home.title}</PageTitle>
        <p className="lead">{t.home.lead}</p>
        {me?.channel && (
          <p>
            <Link to={`/c/${me.channel}`} className="button button-primary">
              {`/c/${me.channel}`}
            </Link>
          </p>
        )}
      </section>
      <section className="card" aria-labelledby="find-channel">
        <h2 id="find-channel">{t.home.goTitle}</h2>
        <form
          className="inline-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            const h = handle.trim().replace(/^@/, '').toLowerCase();
            if (!HANDLE.test(h)) {
              setError(t.home.handleHint);
              return;
            }
            navigate(`/c/${h}`);
          }}
        >
          <TextField
            label={t.home.handle}
            hint={error ? undefined : t.home.handleHint}
            error={error}
            value={handle}
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
            onChange={(value) => {
              setHandle(value);
              setError(null);
            }}
          />
          <button type="submit" className="button button-primary">
            {t.home.go}
          </button>
        </form>
      </section>
      <div className="grid-3">
        <section className="card">
          <h2>{t.home.viewersTitle}</h2>
          <p>{t.home.viewersText}</p>
        </section>
        <section className="card">
          <h2>{t.home.streamersTitle}</h2>
          <p>{t.home.streamersText}</p>
        </section>
        <section className="card">
          <h2>{t.home.predictTitle}</h2>
          <p>{t.home.predictText}</p>
        </section>
      </div>
    </>
  );
}
