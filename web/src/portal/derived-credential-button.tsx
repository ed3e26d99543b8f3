/**
 * The Entrust derived credential of a pending registration: where it stands (requested, failed)
 * and, while `canRequest`, the button that starts it. The server answers where to send the browser
 * (Entrust's self-service page with a one-time state); Entrust sends it back to /derived-credential.
 */
import { useState } from 'preact/hooks';
import type { DeviceSummary } from '../../../functions/core/api-types.ts';
import { api, errorMessage } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { Icon } from '../ui/icons.tsx';

interface Props {
  device: DeviceSummary;
  /** Called just before the browser leaves for Entrust (e.g. to let a PIN's guard go). */
  beforeLeave?: () => void;
}

export function DerivedCredential({ device, beforeLeave }: Props) {
  const credential = device.derivedCredential;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!credential) return null;
  const { status, canRequest } = credential;
  if (status === 'NONE' && !canRequest) return null;

  async function start() {
    setBusy(true);
    setError(null);
    try {
      const { redirectUrl } = await api.startDerivedCredential(device.deviceId);
      beforeLeave?.();
      location.assign(redirectUrl);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <div class="derived-credential" data-testid="derived-credential" data-status={status}>
      {status === 'REQUESTED' ? (
        <p class="derived-credential-state">
          <Icon name="check" size={16} />
          <span>
            <strong>Derived credential requested</strong>
            {credential.name ? <> · {credential.name}</> : null}
            {credential.at ? (
              <span class="muted">
                {' '}
                on <time dateTime={credential.at}>{formatDateTime(credential.at)}</time>
              </span>
            ) : null}
          </span>
        </p>
      ) : status === 'FAILED' ? (
        <p class="derived-credential-state derived-credential-failed">
          <Icon name="alert" size={16} />
          <span>
            <strong>The derived credential request did not finish</strong>
            {credential.at ? (
              <span class="muted">
                {' '}
                (<time dateTime={credential.at}>{formatDateTime(credential.at)}</time>)
              </span>
            ) : null}
            {canRequest ? '. You can request it again.' : '.'}
          </span>
        </p>
      ) : null}
      {canRequest && status !== 'REQUESTED' ? (
        <button type="button" class="button" onClick={start} disabled={busy} aria-busy={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : <Icon name="key" size={18} />}
          Request derived credential
        </button>
      ) : null}
      {error ? (
        <p class="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
