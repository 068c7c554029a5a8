import { PageTitle } from '../components/Layout.tsx';
import { useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { Link } from '../router.tsx';

export function NotFoundPage() {
  const t = useT();
  useTitle(t.common.notFound);
  return (
    <section className="narrow">
      <PageTitle>{t.common.notFound}</PageTitle>
      <p>
        <Link to="/">{t.nav.home}</Link>
      </p>
    </section>
  );
}
