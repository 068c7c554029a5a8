import { ChannelDirectory } from '../components/ChannelDirectory.tsx';
import { PageTitle } from '../components/Layout.tsx';
import { useSession, useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { Link } from '../router.tsx';

export function HomePage() {
  const t = useT();
  const session = useSession();
  useTitle(t.nav.home);
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
      <ChannelDirectory />
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
