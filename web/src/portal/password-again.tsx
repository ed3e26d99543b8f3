/**
 * The recent sign-in step for 401 RECENT_SIGN_IN_REQUIRED (wipe, retire, ownership, the secure-apps
 * passcode), for every dialog that sends such a request: `useRecentSignIn` sends it and, on that
 * answer, moves to the password step, which the dialog shows as `RecentSignInDialog`. The user
 * enters the password again and, when the account has an authenticator app, the app's code in the
 * same dialog; they are signed in once more (a fresh token, without being signed out) and the same
 * request goes again.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, RECENT_SIGN_IN_REQUIRED } from '../api.ts';
import { answerMfa, type MfaChallenge, SignInError, signIn } from '../auth.ts';
import { Dialog } from '../ui/dialog.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';
import { MfaCodeForm, MfaCodeLead } from './mfa-code.tsx';

/** The dialog's own step (what it asks first), the password, the authenticator app's code. */
export type RecentSignInStep = 'confirm' | 'password' | 'code';

type SignInAgain =
  | { kind: 'signed-in' }
  | { kind: 'code'; challenge: MfaChallenge }
  | { kind: 'refused'; message: string };

/** Signs in again with the password: signed in, a code to ask for, or what to tell the user. */
async function signInAgain(email: string | null, password: string): Promise<SignInAgain> {
  if (!email) return { kind: 'refused', message: 'Your profile is still loading. Try again in a moment.' };
  try {
    const challenge = await signIn(email, password);
    if (challenge?.kind === 'SOFTWARE_TOKEN_MFA') return { kind: 'code', challenge };
    if (challenge) {
      return {
        kind: 'refused',
        message: 'Your account needs a new password first. Sign out and sign in again to set it.',
      };
    }
    return { kind: 'signed-in' };
  } catch (e) {
    return { kind: 'refused', message: errorMessage(e) };
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
  /** The code step's challenge (the account's authenticator app). */
  challenge: MfaChallenge | null;
  /** Sends the request from the dialog's own step. */
  send: () => void;
  /** Signs in again with the password, then sends again (or asks for the code first). */
  confirmPassword: (password: string) => void;
  /** Answers the authenticator app's code, then sends again. */
  confirmCode: (digits: string) => void;
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
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);

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
        // After the code the new sign-in stands, and its challenge is spent: the dialog's own
        // step sends again without another one.
        if (from === 'code') setStep('confirm');
        setError(refused(e));
      }
      setBusy(false);
    }
  }

  async function confirmPassword(password: string) {
    setBusy(true);
    setError(null);
    const outcome = await signInAgain(email, password);
    if (outcome.kind === 'refused') {
      setError(outcome.message);
      setBusy(false);
      return;
    }
    if (outcome.kind === 'code') {
      setChallenge(outcome.challenge);
      setStep('code');
      setBusy(false);
      return;
    }
    await send('password');
  }

  async function confirmCode(digits: string) {
    if (!challenge) return;
    setBusy(true);
    setError(null);
    try {
      await answerMfa(challenge, digits);
    } catch (e) {
      // A wrong code may be tried again; a spent or expired challenge needs the password again.
      if (e instanceof SignInError && e.restart) setStep('password');
      setError(e instanceof SignInError ? e.message : 'Sign-in failed. Try again.');
      setBusy(false);
      return;
    }
    await send('code');
  }

  return {
    step,
    busy,
    error,
    challenge,
    send: () => void send(step),
    confirmPassword: (password) => void confirmPassword(password),
    confirmCode: (digits) => void confirmCode(digits),
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

/** The password step and, for an account with an authenticator app, the code step: one dialog. */
export function RecentSignInDialog({
  what,
  danger = false,
  email,
  reauth,
  onClose,
}: RecentSignInDialogProps) {
  const { busy, error, challenge } = reauth;
  const code = reauth.step === 'code' && challenge ? challenge : null;
  const confirm = (
    <div class="dialog-actions">
      <button type="button" class="button" onClick={onClose} disabled={busy}>
        Cancel
      </button>
      <SubmitButton what={what} danger={danger} busy={busy} />
    </div>
  );
  return (
    <Dialog
      title={code ? 'Enter your code' : 'Enter your password again'}
      onClose={onClose}
      size="small"
      busy={busy}
      description={
        code
          ? `Your password is right. To ${what}, your account also asks for the code from your authenticator app.`
          : `To ${what}, confirm it is you: your last sign-in was more than a few minutes ago.`
      }
    >
      {code ? (
        <>
          <MfaCodeLead email={code.email} />
          <MfaCodeForm busy={busy} error={error} onSubmit={reauth.confirmCode} focusField>
            {confirm}
          </MfaCodeForm>
        </>
      ) : (
        <PasswordForm
          email={email}
          busy={busy}
          error={error}
          what={what}
          danger={danger}
          onSubmit={reauth.confirmPassword}
          onClose={onClose}
        />
      )}
    </Dialog>
  );
}

function SubmitButton({
  what,
  danger,
  busy,
  disabled = false,
}: {
  what: string;
  danger: boolean;
  busy: boolean;
  disabled?: boolean;
}) {
  return (
    <button
      type="submit"
      class={danger ? 'button button-danger' : 'button button-primary'}
      disabled={busy || disabled}
      aria-busy={busy}
    >
      {busy ? <span class="spinner" aria-hidden="true" /> : null}
      Confirm and {what}
    </button>
  );
}

interface PasswordFormProps {
  what: string;
  danger: boolean;
  email: string | null;
  busy: boolean;
  error: string | null;
  onSubmit: (password: string) => void;
  onClose: () => void;
}

function PasswordForm({ what, danger, email, busy, error, onSubmit, onClose }: PasswordFormProps) {
  const [password, setPassword] = useState('');
  const passwordId = useId();
  const field = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // Back from the code step (it timed out): the dialog is open already, so `autofocus` does not.
    field.current?.focus();
  }, []);

  return (
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
          ref={field}
          type="password"
          autoComplete="current-password"
          required
          autofocus
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </div>
      <ErrorNotice message={error} />
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <SubmitButton what={what} danger={danger} busy={busy} disabled={!password} />
      </div>
    </form>
  );
}
