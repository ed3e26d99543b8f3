import { useEffect, useRef, useState } from 'preact/hooks';
import { answerMfa, type MfaChallenge, SignInError } from '../auth.ts';
import { Icon } from '../ui/icons.tsx';

interface MfaCodeProps {
  challenge: MfaChallenge;
  /** Back to the sign-in form: with a message when the step timed out. */
  onRestart: (message?: string) => void;
}

/** The second sign-in step: the 6-digit code of the user's authenticator app (SOFTWARE_TOKEN_MFA). */
export function MfaCode({ challenge, onRestart }: MfaCodeProps) {
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const field = useRef<HTMLInputElement>(null);

  useEffect(() => {
    heading.current?.focus();
    document.title = 'Enter your code · Device Portal';
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    const digits = code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(digits)) {
      setError('Enter the 6 digits your authenticator app shows.');
      field.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await answerMfa(challenge, digits);
    } catch (e) {
      if (e instanceof SignInError && e.restart) return onRestart(e.message);
      setError(e instanceof SignInError ? e.message : 'Sign-in failed. Try again.');
      setCode('');
      setBusy(false);
      field.current?.focus();
    }
  }

  return (
    <>
      <h2 ref={heading} tabIndex={-1} class="auth-step">
        Enter your code
      </h2>
      <p class="muted auth-lead">
        Open the authenticator app you set up for {challenge.email} and enter the 6-digit code it shows for
        Device Portal.
      </p>
      <form onSubmit={submit} aria-describedby={error ? 'mfa-code-error' : undefined}>
        <div class="field">
          <label for="mfa-code">Authentication code</label>
          <input
            id="mfa-code"
            ref={field}
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9 ]*"
            maxLength={7}
            required
            aria-invalid={error ? true : undefined}
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </div>
        {error ? (
          <p id="mfa-code-error" class="notice notice-error" role="alert">
            <Icon name="alert" size={18} />
            <span>{error}</span>
          </p>
        ) : null}
        <button type="submit" class="button button-primary button-block" disabled={busy} aria-busy={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <button type="button" class="button button-block auth-back" onClick={() => onRestart()}>
          Back to sign-in
        </button>
      </form>
    </>
  );
}
