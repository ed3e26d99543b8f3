import { Link } from '../router.tsx';
import { HelpdeskDetails } from './helpdesk.tsx';
import type { PageProps } from './pages.ts';

/** `/help`: the helpdesk contact the administrator configured (GET /api/me's `helpdesk`). */
export function HelpPage({ me }: PageProps) {
  return (
    <section aria-labelledby="help-heading" aria-busy={!me}>
      <div class="page-header">
        <div>
          <h1 id="help-heading">Helpdesk</h1>
          <p class="muted page-subtitle">Questions about your devices? We can help.</p>
        </div>
      </div>
      <div class="card help-card">
        {me ? (
          <HelpdeskDetails contact={me.helpdesk} />
        ) : (
          <p role="status" class="muted">
            Loading the contact details…
          </p>
        )}
      </div>
      <p class="page-back">
        <Link href="/">Back to My devices</Link>
      </p>
    </section>
  );
}
