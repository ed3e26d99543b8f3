/**
 * `/derived-credential`: where Entrust sends the browser back. Sends the return (state, result,
 * name; already out of the address bar) to the portal once and says how it went: requested, not
 * finished at Entrust, or the server's message for a replayed, expired or foreign state.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DerivedCredentialCompleted } from '../../../functions/core/api-types.ts';
import { api, errorMessage } from '../api.ts';
import { Link } from '../router.tsx';
import { Icon } from '../ui/icons.tsx';
import { takeDerivedCredentialReturn } from './derived-credential-return.ts';
import type { PageProps } from './pages.ts';

type View =
  | { kind: 'working' }
  | { kind: 'nothing' }
  | { kind: 'done'; completed: DerivedCredentialCompleted; name: string | null }
  | { kind: 'error'; message: string };

export function DerivedCredentialPage({ devices }: PageProps) {
  const [view, setView] = useState<View>({ kind: 'working' });
  const started = useRef(false);
  const reloadDevices = useRef(devices.reload);
  reloadDevices.current = devices.reload;
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const body = takeDerivedCredentialReturn();
    if (!body) {
      setView({ kind: 'nothing' });
      return;
    }
    api.completeDerivedCredential(body).then(
      (completed) => {
        setView({ kind: 'done', completed, name: body.credentialName ?? null });
        reloadDevices.current();
      },
      (error: unknown) => setView({ kind: 'error', message: errorMessage(error) }),
    );
  }, []);

  useEffect(() => {
    if (view.kind !== 'working') headingRef.current?.focus({ preventScroll: true });
  }, [view.kind]);

  return (
    <section aria-labelledby="derived-credential-heading" class="derived-credential-page">
      <h1 id="derived-credential-heading" ref={headingRef} tabIndex={-1}>
        Derived credential
      </h1>
      <div data-testid="derived-credential-outcome" data-outcome={outcomeOf(view)}>
        {view.kind === 'working' ? (
          <p class="working" role="status">
            <span class="spinner" aria-hidden="true" />
            Finishing the request with Entrust…
          </p>
        ) : view.kind === 'done' && view.completed.status === 'REQUESTED' ? (
          <div class="notice notice-info page-notice" role="status">
            <Icon name="check" size={18} />
            <span>
              <strong>Derived credential requested{view.name ? `: ${view.name}` : ''}.</strong> You can now
              register the device with your registration PIN; activate the credential in the PIV-D Entrust app
              with the activation password you recorded.
            </span>
          </div>
        ) : view.kind === 'done' ? (
          <div class="notice notice-error page-notice" role="alert">
            <Icon name="alert" size={18} />
            <span>
              <strong>The derived credential was not requested.</strong> Entrust reported that the request did
              not finish. You can request it again from the device card on My devices.
            </span>
          </div>
        ) : view.kind === 'error' ? (
          <div class="notice notice-error page-notice" role="alert">
            <Icon name="alert" size={18} />
            <span>{view.message}</span>
          </div>
        ) : (
          <p class="notice notice-info page-notice">
            <Icon name="alert" size={18} />
            <span>
              There is no derived-credential request to finish here. Start one from a pending device on My
              devices.
            </span>
          </p>
        )}
      </div>
      <p>
        <Link href="/">Back to My devices</Link>
      </p>
    </section>
  );
}

function outcomeOf(view: View): string {
  if (view.kind === 'done') return view.completed.status === 'REQUESTED' ? 'requested' : 'failed';
  return view.kind;
}
