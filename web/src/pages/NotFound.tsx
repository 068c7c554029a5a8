import { PageTitle } from '../components/Layout.tsx';
import { useTitle } from '../hooks.ts';
import { useT } from '../i18n.ts';
import { Link, useLocation } from '../router.tsx';

/** Any address the app does not know (the server answers it with status 404). */
export function NotFoundPage() {
  const t = useT();
  const { pathname } = useLocation();
  useTitle(t.common.notFoundTitle);
  return (
    <section className="narrow not-found">
      <p className="not-found-code" aria-hidden="true">
        404
      </p>
      <PageTitle>{t.common.notFoundTitle}</PageTitle>
      <p className="not-found-path">{t.common.notFoundText(pathname)}</p>
      <p>
        <Link to="/" className="button button-primary">
          {t.common.notFoundHome}
        </Link>
      </p>
    </section>
  );
}
