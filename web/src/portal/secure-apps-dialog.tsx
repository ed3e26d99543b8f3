/**
 * Reset secure apps passcode: a confirmation, then the one-time PIN the server answers, shown once
 * (grouped digits, Copy, a live countdown to its expiry) with what to do in the agent app. While
 * the PIN is on screen, Back closes the dialog and reloading or closing the tab asks first.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ActionAvailability, SecureAppsPasscodeResponse } from '../../../functions/core/api-types.ts';
import { api } from '../api.ts';
import { countdown, formatTimeOrDateTime } from '../format.ts';
import { useNow } from '../hooks.ts';
import { Dialog } from '../ui/dialog.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';
import { Icon } from '../ui/icons.tsx';
import { RecentSignInDialog, useRecentSignIn } from './password-again.tsx';
import { pinGroups, useKeepSecretOnScreen } from './secret-on-screen.ts';

interface Props {
  deviceId: string;
  deviceName: string;
  availability: ActionAvailability | undefined;
  email: string | null;
  onClose: () => void;
}

const WHAT =
  'You get a one-time PIN. In the agent app on the device you then choose Forgot passcode and set a new passcode for the secure apps. Nothing else on the device changes.';

export function SecureAppsDialog({ deviceId, deviceName, availability, email, onClose }: Props) {
  const [answer, setAnswer] = useState<SecureAppsPasscodeResponse | null>(null);
  const reauth = useRecentSignIn({
    email,
    request: async () => setAnswer(await api.secureAppsPasscode(deviceId)),
  });
  const { busy, error } = reauth;

  if (answer) return <PinView answer={answer} deviceName={deviceName} onClose={onClose} />;

  if (reauth.step !== 'confirm') {
    return (
      <RecentSignInDialog
        what="reset the secure apps passcode"
        email={email}
        reauth={reauth}
        onClose={onClose}
      />
    );
  }

  return (
    <Dialog
      title="Reset the secure apps passcode?"
      onClose={onClose}
      size="small"
      busy={busy}
      description={deviceName}
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          reauth.send();
        }}
      >
        <p class="action-consequence" data-testid="action-consequence">
          {availability?.consequence || WHAT}
        </p>
        <ErrorNotice message={error} />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose} disabled={busy} autofocus>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy} aria-busy={busy}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Get a one-time PIN
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function PinView({
  answer,
  deviceName,
  onClose,
}: {
  answer: SecureAppsPasscodeResponse;
  deviceName: string;
  onClose: () => void;
}) {
  const now = useNow(1000);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const leadRef = useRef<HTMLParagraphElement>(null);
  const left = Date.parse(answer.expiresAt) - now;
  const expired = left <= 0;
  useKeepSecretOnScreen(!expired, onClose);

  useEffect(() => {
    leadRef.current?.focus({ preventScroll: true });
  }, []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(answer.pin);
      setCopied('copied');
      setTimeout(() => setCopied('idle'), 2000);
    } catch {
      setCopied('failed');
    }
  }

  return (
    <Dialog title="Your one-time PIN" onClose={onClose} size="small" description={deviceName}>
      <div class="result secure-apps-result">
        <p class="result-lead" ref={leadRef} tabIndex={-1}>
          Use it on the device to set a new secure apps passcode.
        </p>
        <section class="secret-box" aria-labelledby="secure-apps-pin-label">
          <p id="secure-apps-pin-label" class="secret-label">
            One-time PIN
          </p>
          <p class="pin" data-testid="secure-apps-pin" aria-describedby="secure-apps-pin-note">
            {pinGroups(answer.pin).map((group) => (
              <span key={group.at} class="pin-group">
                {group.digits}
              </span>
            ))}
          </p>
          <button type="button" class="button button-small" onClick={copy}>
            <Icon name="copy" size={14} />
            {copied === 'copied' ? 'Copied' : 'Copy PIN'}
          </button>
          <span class="visually-hidden" role="status">
            {copied === 'copied' ? 'PIN copied' : ''}
          </span>
          {copied === 'failed' ? (
            <p class="field-error">The PIN could not be copied: write it down instead.</p>
          ) : null}
          <p id="secure-apps-pin-note" class="secret-note">
            <Icon name="alert" size={16} />
            Shown once — it is not shown again when you close this.
          </p>
        </section>

        <p class={expired ? 'expiry expiry-expired' : 'expiry'} role="timer" aria-live="off">
          <Icon name="clock" size={18} />
          {expired ? (
            <span>
              <strong>Expired.</strong> Close this and reset the passcode again for a new PIN.
            </span>
          ) : (
            <span>
              Expires at{' '}
              <time dateTime={answer.expiresAt}>{formatTimeOrDateTime(answer.expiresAt, now)}</time>{' '}
              <span class="countdown" data-testid="secure-apps-countdown">
                ({countdown(left)} left)
              </span>
            </span>
          )}
        </p>

        <div class="result-section">
          <h3 class="result-heading">What to do next</h3>
          <p data-testid="secure-apps-next">
            In the agent app choose <strong>Forgot passcode</strong>, enter your user name and this PIN, then
            set a new passcode.
          </p>
        </div>

        <div class="dialog-actions">
          <button type="button" class="button button-primary" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  );
}
