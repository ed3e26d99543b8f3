/**
 * The recent sign-in step for 401 RECENT_SIGN_IN_REQUIRED (wipe, retire, ownership, the secure-apps
 * passcode), for every dialog that sends such a request: `useRecentSignIn` sends it and, on that
 * answer, moves to the password step, which the dialog shows as `RecentSignInDialog`. The user
 * enters the password again, signs in once more (a fresh token, without being signed out) and the
 * same request goes again.
 */
import { useId, useState } from 'preact/hooks';
import { ApiError, errorMessage, RECENT_SIGN_IN_REQUIRED } from '../api.ts';
import { signIn } from '../auth.ts';
import { Dialog } from '../ui/dialog.tsx';
import { Icon } from '../ui/icons.tsx';

/** The dialog's own step (what it asks first), then the password. */
export type RecentSignInStep = 'confirm' | 'password';

/** Signs in again with the password: null when it worked, else what to tell the user. */
async function signInAgain(email: string | null, password: string): Promise<string | null> {
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

interface RecentSignInOptions {
  /** The signed-in user's email, for signing in again. */
  email: string | null;
  /**
   * The dialog's request and what it does with the answer (close, show it). It is sent again,
   * as it is, after the new sign-in.
   */
  request: () => Promise<void>;
  /**
   * What to say when the request fails otherwise than with RECENT_SIGN_IN_REQUIRED; null says
   * nothing (the dialog has dealt with it, e.g. handed a 409 to the page). Default: the error's
   * message.
   */
  refused?: (error: unknown) => string | null;
}

export interface RecentSignIn {
  step: RecentSignInStep;
  /** A request or a sign-in is under way: the dialog cannot be closed. */
  busy: boolean;
  /** What went wrong last, for the current step. */
  error: string | null;
  /** Sends the request from the dialog's own step. */
  send: () => void;
  /** Signs in again with the password, then sends again. */
  confirmPassword: (password: string) => void;
}

/**
 * The step, busy and error state of a dialog whose request may need a recent sign-in, and the new
 * sign-in. On success `busy` stays set: the dialog closes or shows the answer.
 */
export function useRecentSignIn({
  email,
  request,
  refused = errorMessage,
}: RecentSignInOptions): RecentSignIn {
  const [step, setStep] = useState<RecentSignInStep>('confirm');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function send(from: RecentSignInStep) {
    setBusy(true);
    setError(null);
    try {
      await request();
    } catch (e) {
      if (e instanceof ApiError && e.code === RECENT_SIGN_IN_REQUIRED) {
        // Still too old after signing in again: the server says why.
        if (from !== 'confirm') setError(e.message);
        setStep('password');
      } else {
        setError(refused(e));
      }
      setBusy(false);
    }
  }

  async function confirmPassword(password: string) {
    setBusy(true);
    setError(null);
    const refusal = await signInAgain(email, password);
    if (refusal) {
      setError(refusal);
      setBusy(false);
      return;
    }
    await send('password');
  }

  return {
    step,
    busy,
    error,
    send: () => void send(step),
    confirmPassword: (password) => void confirmPassword(password),
  };
}

interface RecentSignInDialogProps {
  /** What is confirmed, lower case: "wipe device", "change ownership". */
  what: string;
  danger?: boolean;
  email: string | null;
  reauth: RecentSignIn;
  onClose: () => void;
}

/** The password step. */
export function RecentSignInDialog({
  what,
  danger = false,
  email,
  reauth,
  onClose,
}: RecentSignInDialogProps) {
  const { busy, error } = reauth;
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
          reauth.confirmPassword(password);
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
