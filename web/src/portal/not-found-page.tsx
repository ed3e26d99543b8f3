import { Link } from '../router.tsx';
import { Icon } from '../ui/icons.tsx';

/** Any path the portal has no page for. */
export function NotFoundPage() {
  return (
    <section class="card empty-state" aria-labelledby="not-found-heading">
      <div class="empty-illustration" aria-hidden="true">
        <Icon name="alert" size={36} />
      </div>
      <h1 id="not-found-heading" class="empty-title">
        Page not found
      </h1>
      <p class="empty-lead">
        There is no page at <span class="mono">{location.pathname}</span>. The link may be old or mistyped.
      </p>
      <Link class="button button-primary" href="/">
        Go to My devices
      </Link>
    </section>
  );
}
