import { useEffect, useRef, useState } from 'preact/hooks';
import { completeNewPassword, type NewPasswordChallenge, SignInError } from '../auth.ts';
import { Icon } from '../ui/icons.tsx';

/**
 * The pool's password policy (infra/stateful-stack.ts): NIST SP 800-63B, so length only, no
 * composition rules. Cognito also refuses a space at either end and more than 256 characters.
 */
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 256;

interface FieldErrors {
  password?: string;
  confirm?: string;
}

function checkPasswords(password: string, confirm: string, temporaryPassword: string): FieldErrors {
  // Characters as people count them (code points), never more than Cognito counts.
  const length = [...password].length;
  if (length === 0) return { password: 'Enter a new password.' };
  if (length < MIN_PASSWORD_LENGTH) {
    return { password: `Use at least ${MIN_PASSWORD_LENGTH} characters (this one has ${length}).` };
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return { password: `Use at most ${MAX_PASSWORD_LENGTH} characters.` };
  }
  if (password.trim() !== password) {
    return { password: 'Remove the space at the start or end: spaces are allowed only in between.' };
  }
  if (password === temporaryPassword) {
    return { password: 'Choose a password different from the temporary one.' };
  }
  if (!confirm) return { confirm: 'Enter the new password again.' };
  if (confirm !== password)
    return { confirm: 'The two passwords do not match. Type the same password twice.' };
  return {};
}

interface NewPasswordProps {
  challenge: NewPasswordChallenge;
  /** What the user signed in with, so the new one can be told apart from it. */
  temporaryPassword: string;
  /** Back to the sign-in form: with a message when the step timed out or was refused. */
  onRestart: (message?: string) => void;
}

/** The second sign-in step for accounts that still have the temporary password an admin issued. */
export function NewPassword({ challenge, temporaryPassword, onRestart }: NewPasswordProps) {
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const passwordField = useRef<HTMLInputElement>(null);
  const confirmField = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // A new step on the same page: say so to screen readers, and in the tab title.
    heading.current?.focus();
    const previousTitle = document.title;
    document.title = 'Choose a new password · Device Portal';
    return () => {
      document.title = previousTitle;
    };
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    const found = checkPasswords(password, confirm, temporaryPassword);
    setErrors(found);
    setError(null);
    if (found.password) {
      passwordField.current?.focus();
      return;
    }
    if (found.confirm) {
      confirmField.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await completeNewPassword(challenge, password);
    } catch (e) {
      if (e instanceof SignInError && e.restart) {
        onRestart(e.message);
        return;
      }
      setError(e instanceof SignInError ? e.message : 'Your new password could not be saved. Try again.');
      setBusy(false);
      passwordField.current?.focus();
    }
  }

  const passwordDescribedBy = errors.password ? 'new-password-error new-password-rule' : 'new-password-rule';
  return (
    <>
      <h2 class="auth-step" ref={heading} tabIndex={-1}>
        Choose a new password
      </h2>
      <p class="muted auth-lead">
        You signed in with a temporary password. Choose your own to finish signing in as{' '}
        <strong class="auth-email">{challenge.email}</strong>.
      </p>
      <form onSubmit={submit} noValidate aria-describedby={error ? 'new-password-form-error' : undefined}>
        {/* For password managers: the account the new password belongs to. */}
        <input type="email" name="username" autoComplete="username" value={challenge.email} readOnly hidden />
        <div class="field">
          <label for="new-password">New password</label>
          <input
            id="new-password"
            ref={passwordField}
            type="password"
            name="new-password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_LENGTH}
            value={password}
            aria-invalid={errors.password ? 'true' : undefined}
            aria-describedby={passwordDescribedBy}
            onInput={(e) => {
              setPassword(e.currentTarget.value);
              if (errors.password) setErrors({});
            }}
          />
          <p id="new-password-rule" class="field-hint">
            At least {MIN_PASSWORD_LENGTH} characters. No need for symbols or digits: a few unrelated words
            make a strong password.
          </p>
          {errors.password ? (
            <p id="new-password-error" class="field-error">
              {errors.password}
            </p>
          ) : null}
        </div>
        <div class="field">
          <label for="new-password-confirm">Confirm new password</label>
          <input
            id="new-password-confirm"
            ref={confirmField}
            type="password"
            name="confirm-password"
            autoComplete="new-password"
            required
            value={confirm}
            aria-invalid={errors.confirm ? 'true' : undefined}
            aria-describedby={errors.confirm ? 'new-password-confirm-error' : undefined}
            onInput={(e) => {
              setConfirm(e.currentTarget.value);
              if (errors.confirm) setErrors({});
            }}
          />
          {errors.confirm ? (
            <p id="new-password-confirm-error" class="field-error">
              {errors.confirm}
            </p>
          ) : null}
        </div>
        {error ? (
          <p id="new-password-form-error" class="notice notice-error" role="alert">
            <Icon name="alert" size={18} />
            <span>{error}</span>
          </p>
        ) : null}
        <button type="submit" class="button button-primary button-block" disabled={busy} aria-busy={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          {busy ? 'Saving…' : 'Save password and sign in'}
        </button>
        <button
          type="button"
          class="button button-block auth-back"
          disabled={busy}
          onClick={() => onRestart()}
        >
          Back to sign in
        </button>
      </form>
    </>
  );
}
