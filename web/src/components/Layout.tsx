import type { ReactNode } from 'react';
import { signOut } from '../api.ts';
import { useSession } from '../hooks.ts';
import { setLang, useLang, useT } from '../i18n.ts';
import { Link, navigate, useLocation } from '../router.tsx';

export function PageTitle({ children }: { children: ReactNode }) {
  // tabIndex -1: focus moves here after in-app navigation, for screen readers.
  return (
    <h1 tabIndex={-1} className="page-title">
      {children}
    </h1>
  );
}

function NavLink({ to, children }: { to: string; children: ReactNode }) {
  const { pathname } = useLocation();
  const current = pathname === to || (to !== '/' && pathname.startsWith(`${to}/`));
  return (
    <Link to={to} className="nav-link" aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}

export function LanguageSwitch() {
  const t = useT();
  const lang = useLang();
  const other = lang === 'ko' ? 'en' : 'ko';
  return (
    <button
      type="button"
      className="button button-ghost lang-switch"
      lang={other}
      onClick={() => setLang(other)}
    >
      {t.nav.switchTo}
    </button>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const t = useT();
  const session = useSession();
  const me = session.me;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t.skipToContent}
      </a>
      <header className="site-header">
        <div className="header-inner">
          <Link to="/" className="brand">
            <span className="brand-mark" aria-hidden="true">
              M
            </span>
            MissionLink
          </Link>
          <nav aria-label={t.nav.label} className="nav">
            {me && (
              <>
                <NavLink to="/wallet">{t.nav.wallet}</NavLink>
                <NavLink to="/me">{t.nav.me}</NavLink>
                <NavLink to="/studio">{t.nav.studio}</NavLink>
                {me.roles.includes('admin') && <NavLink to="/ops">{t.nav.ops}</NavLink>}
              </>
            )}
          </nav>
          <div className="header-tools">
            <LanguageSwitch />
            {session.status === 'signed-in' && me ? (
              <>
                <span className="whoami">{t.nav.signedInAs(me.displayName)}</span>
                <button
                  type="button"
                  className="button button-secondary"
                  onClick={() => {
                    void signOut()
                      .catch(() => undefined)
                      .finally(() => navigate('/'));
                  }}
                >
                  {t.nav.signOut}
                </button>
              </>
            ) : session.status === 'anonymous' ? (
              <>
                <Link to="/signin" className="button button-secondary">
                  {t.nav.signIn}
                </Link>
                <Link to="/signup" className="button button-primary">
                  {t.nav.signUp}
                </Link>
              </>
            ) : null}
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="main">
        {children}
      </main>
      <footer className="site-footer">
        <p>
          MissionLink · <a href="/api/v1/openapi.json">API</a>
        </p>
      </footer>
    </div>
  );
}
