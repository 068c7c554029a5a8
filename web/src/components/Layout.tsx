import type { ReactNode } from 'react';
import { signOut } from '../api.ts';
import { useSession } from '../hooks.ts';
import { setLang, useLang, useT } from '../i18n.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { setTheme, useTheme } from '../theme.ts';

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

/** Dark mode on or off (a toggle button); the choice is kept in localStorage. */
export function ThemeSwitch() {
  const t = useT();
  const dark = useTheme() === 'dark';
  return (
    <button
      type="button"
      className="theme-switch"
      aria-pressed={dark}
      title={t.nav.darkMode}
      onClick={() => setTheme(dark ? 'light' : 'dark')}
    >
      <svg
        viewBox="0 0 24 24"
        aria-hidden="true"
        focusable="false"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      >
        {dark ? (
          <>
            <circle cx="12" cy="12" r="4" />
            <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
          </>
        ) : (
          <path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z" />
        )}
      </svg>
      <span className="visually-hidden">{t.nav.darkMode}</span>
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
            <ThemeSwitch />
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
          MissionLink · <a href="/api/docs">{t.nav.apiDocs}</a>
        </p>
      </footer>
    </div>
  );
}
