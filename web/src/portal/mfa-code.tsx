import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { answerMfa, type MfaChallenge, SignInError } from '../auth.ts';
import { Icon } from '../ui/icons.tsx';

/** What the code step asks for, under its heading (the sign-in page, the recent sign-in dialog). */
export function MfaCodeLead({ email }: { email: string }) {
  return (
    <p class="muted auth-lead">
      Open the authenticator app you set up for {email} and enter the 6-digit code it shows for Device Portal.
    </p>
  );
}

interface MfaCodeFormProps {
  busy: boolean;
  /** Why the last code was refused: shown, and the field is emptied for the next try. */
  error: string | null;
  /** Called with the 6 digits (spaces taken out) once they look like a code. */
  onSubmit: (digits: string) => void;
  /** Focuses the field when it appears (in a dialog already open, where `autofocus` does nothing). */
  focusField?: boolean;
  /** The form's buttons: a submit button, and any other. */
  children: ComponentChildren;
}

/**
 * The field for the 6-digit code of the user's authenticator app (SOFTWARE_TOKEN_MFA) and its
 * error; the caller answers the challenge and says, through `busy` and `error`, how it went.
 */
export function MfaCodeForm({ busy, error, onSubmit, focusField = false, children }: MfaCodeFormProps) {
  const [code, setCode] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const wasBusy = useRef(busy);
  const fieldId = useId();
  const errorId = useId();
  const shown = invalid ?? error;

  useEffect(() => {
    if (focusField) field.current?.focus();
  }, []);

  useEffect(() => {
    // An answer came back refused: empty the field for the next code.
    if (wasBusy.current && !busy && error) {
      setCode('');
      field.current?.focus();
    }
    wasBusy.current = busy;
  }, [busy, error]);

  function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    const digits = code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(digits)) {
      setInvalid('Enter the 6 digits your authenticator app shows.');
      field.current?.focus();
      return;
    }
    setInvalid(null);
    onSubmit(digits);
  }

  return (
    <form onSubmit={submit} aria-describedby={shown ? errorId : undefined}>
      <div class="field">
        <label for={fieldId}>Authentication code</label>
        <input
          id={fieldId}
          ref={field}
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]*"
          maxLength={7}
          required
          aria-invalid={shown ? true : undefined}
          value={code}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
      </div>
      {shown ? (
        <p id={errorId} class="notice notice-error" role="alert">
          <Icon name="alert" size={18} />
          <span>{shown}</span>
        </p>
      ) : null}
      {children}
    </form>
  );
}

interface MfaCodeProps {
  challenge: MfaChallenge;
  /** Back to the sign-in form: with a message when the step timed out. */
  onRestart: (message?: string) => void;
}

/** The second sign-in step: the 6-digit code of the user's authenticator app (SOFTWARE_TOKEN_MFA). */
export function MfaCode({ challenge, onRestart }: MfaCodeProps) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
    document.title = 'Enter your code · Device Portal';
  }, []);

  async function answer(digits: string) {
    setBusy(true);
    setError(null);
    try {
      await answerMfa(challenge, digits);
    } catch (e) {
      if (e instanceof SignInError && e.restart) return onRestart(e.message);
      setError(e instanceof SignInError ? e.message : 'Sign-in failed. Try again.');
      setBusy(false);
    }
  }

  return (
    <>
      <h2 ref={heading} tabIndex={-1} class="auth-step">
        Enter your code
      </h2>
      <MfaCodeLead email={challenge.email} />
      <MfaCodeForm busy={busy} error={error} onSubmit={(digits) => void answer(digits)}>
        <button type="submit" class="button button-primary button-block" disabled={busy} aria-busy={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <button type="button" class="button button-block auth-back" onClick={() => onRestart()}>
          Back to sign-in
        </button>
      </MfaCodeForm>
    </>
  );
}
