import { StrictMode, useEffect, useRef, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { bootSession } from './api.ts';
import { Layout } from './components/Layout.tsx';
import { Spinner } from './components/ui.tsx';
import { useSession } from './hooks.ts';
import { applyLang, useT } from './i18n.ts';
import { ChannelPage } from './pages/Channel.tsx';
import { HomePage } from './pages/Home.tsx';
import { MePage } from './pages/Me.tsx';
import { NotFoundPage } from './pages/NotFound.tsx';
import { OpsPage } from './pages/Ops.tsx';
import { OverlayPage } from './pages/Overlay.tsx';
import { OverlaySettingsPage } from './pages/OverlaySettings.tsx';
import { SignInPage, SignUpPage } from './pages/Auth.tsx';
import { VerifyEmailPage } from './pages/VerifyEmail.tsx';
import { StudioPage } from './pages/Studio.tsx';
import { WalletPage } from './pages/Wallet.tsx';
import { WebhooksPage } from './pages/Webhooks.tsx';
import { matchRoute, navigate, useLocation } from './router.tsx';
import { applyTheme } from './theme.ts';
import type { Me } from './types.ts';
// Pretendard, bundled (font-src 'self'): the variable font cut into unicode
// ranges, so a page downloads only the pieces of Hangul and Latin it shows.
import 'pretendard/dist/web/variable/pretendardvariable-dynamic-subset.css';
// The overlay's rules are scoped (html.overlay, .overlay-settings).
import './overlay.css';
import './styles.css';
import './polish.css';

applyLang();

/** Pages that need a session send anonymous visitors to sign in first. */
export function RequireAuth({ children }: { children: (me: Me) => ReactNode }) {
  const session = useSession();
  const t = useT();
  const { pathname, search } = useLocation();
  useEffect(() => {
    if (session.status === 'anonymous')
      navigate(`/signin?next=${encodeURIComponent(pathname + search)}`, { replace: true });
  }, [session.status, pathname, search]);
  if (session.status !== 'signed-in' || !session.me) return <Spinner label={t.common.loading} />;
  return <>{children(session.me)}</>;
}

function App() {
  const { pathname } = useLocation();
  const route = matchRoute(pathname);
  const first = useRef(true);

  // After in-app navigation, move focus to the new page's heading.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = document.querySelector<HTMLElement>('main h1');
    (h1 ?? document.getElementById('main'))?.focus();
  }, [pathname]);

  if (route.name === 'overlay')
    return <OverlayPage key={route.params.handle} handle={route.params.handle!} />;

  let page: ReactNode;
  switch (route.name) {
    case 'home':
      page = <HomePage />;
      break;
    case 'signin':
      page = <SignInPage />;
      break;
    case 'signup':
      page = <SignUpPage />;
      break;
    case 'channel':
      page = <ChannelPage key={route.params.handle} handle={route.params.handle!} />;
      break;
    case 'wallet':
      page = <RequireAuth>{() => <WalletPage />}</RequireAuth>;
      break;
    case 'me':
      page = <RequireAuth>{() => <MePage />}</RequireAuth>;
      break;
    case 'studio':
      page = <RequireAuth>{(me) => <StudioPage me={me} />}</RequireAuth>;
      break;
    case 'webhooks':
      page = <RequireAuth>{(me) => <WebhooksPage me={me} />}</RequireAuth>;
      break;
    case 'overlay-settings':
      page = <RequireAuth>{(me) => <OverlaySettingsPage me={me} />}</RequireAuth>;
      break;
    case 'ops':
      page = <RequireAuth>{(me) => <OpsPage me={me} />}</RequireAuth>;
      break;
    case 'verify-email':
      page = <VerifyEmailPage />;
      break;
    default:
      page = <NotFoundPage />;
  }
  return <Layout>{page}</Layout>;
}

// The overlay has no page background at all (OBS composites it over video).
if (matchRoute(window.location.pathname).name === 'overlay')
  document.documentElement.classList.add('overlay');
else {
  // Not on the overlay: OBS composites it, its colours are its own.
  applyTheme();
  void bootSession();
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
