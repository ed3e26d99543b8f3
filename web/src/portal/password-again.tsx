/**
 * The password step for 401 RECENT_SIGN_IN_REQUIRED (wipe, retire, ownership, the secure-apps
 * passcode): the user enters the password again, signs in once more (a fresh token, without being
 * signed out) and the caller sends the same request again.
 */
import { useId, useState } from 'preact/hooks';
import { errorMessage } from '../api.ts';
import { signIn } from '../auth.ts';
import { Dialog } from '../ui/dialog.tsx';
import { Icon } from '../ui/icons.tsx';

/** Signs in again with the password: null when it worked, else what to tell the user. */
export async function signInAgain(email: string | null, password: string): Promise<string | null> {
  if (!email) return 'Your profile is still loading. Try again in a moment.';
  try {
    const challenge = await signIn(email, password);
    if (challenge?.kind === 'SOFTWARE_TOKEN_MFA') {
      return 'Your account also asks for the code from your authenticator app: sign out, sign in again with it, then repeat this within 5 minutes.';
    }
    if (challenge) return 'Your account needs a new password first. Sign out and sign in again to set it.';
    return null;
  } catch (e) {
    return errorMessage(e);
  }
}

interface PasswordAgainProps {
  /** What is confirmed, lower case: "wipe device", "change ownership". */
  what: string;
  danger?: boolean;
  email: string | null;
  busy: boolean;
  error: string | null;
  onSubmit: (password: string) => void;
  onClose: () => void;
}

export function PasswordAgainDialog({
  what,
  danger = false,
  email,
  busy,
  error,
  onSubmit,
  onClose,
}: PasswordAgainProps) {
  const [password, setPassword] = useState('');
  const passwordId = useId();
  return (
    <Dialog
      title="Enter your password again"
      onClose={onClose}
      size="small"
      busy={busy}
      description={`To ${what}, confirm it is you: your last sign-in was more than a few minutes ago.`}
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit(password);
        }}
      >
        {email ? <p class="muted reauth-email">Signed in as {email}</p> : null}
        <div class="field">
          <label for={passwordId}>Password</label>
          <input
            id={passwordId}
            type="password"
            autoComplete="current-password"
            required
            autofocus
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        {error ? (
          <p class="notice notice-error" role="alert">
            <Icon name="alert" size={18} />
            <span>{error}</span>
          </p>
        ) : null}
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            class={danger ? 'button button-danger' : 'button button-primary'}
            disabled={busy || !password}
            aria-busy={busy}
          >
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Confirm and {what}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
