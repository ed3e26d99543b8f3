import { useEffect, useRef, useState } from 'preact/hooks';
import { type MfaChallenge, type NewPasswordChallenge, SignInError, signIn } from '../auth.ts';
import { EmailField } from '../ui/email-field.tsx';
import { Icon } from '../ui/icons.tsx';
import { MfaCode } from './mfa-code.tsx';

type NewPasswordStep = typeof import('./new-password.tsx').NewPassword;

/** The new-password step is needed once per account: its code loads when it is. */
const loadNewPassword = () => import('./new-password.tsx').then((m) => m.NewPassword);

export function SignIn({ notice }: { notice?: string | undefined }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** Set while the account must choose a new password (its first sign-in, temporary password). */
  const [challenge, setChallenge] = useState<NewPasswordChallenge | null>(null);
  const [NewPassword, setNewPassword] = useState<NewPasswordStep | null>(null);
  /** Set while the account's second factor is asked for (an authenticator app's code). */
  const [mfa, setMfa] = useState<MfaChallenge | null>(null);
  const [returned, setReturned] = useState(false);
  const passwordField = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // Back from the new-password step: the temporary password is asked for again.
    if (returned && !challenge) passwordField.current?.focus();
  }, [returned, challenge]);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const next = await signIn(email, password);
      // Signed in: the app shows the portal instead of this page. Or the next step: a code, or a new password.
      if (next?.kind === 'SOFTWARE_TOKEN_MFA') {
        setPassword('');
        setMfa(next);
        setBusy(false);
      } else if (next) {
        let step: NewPasswordStep;
        try {
          step = NewPassword ?? (await loadNewPassword());
        } catch {
          throw new SignInError('The next step could not be loaded. Check your connection and try again.');
        }
        setNewPassword(() => step);
        setChallenge(next);
        setBusy(false);
      }
    } catch (e) {
      setError(e instanceof SignInError ? e.message : 'Sign-in failed. Try again.');
      setBusy(false);
    }
  }

  function restart(message?: string) {
    setChallenge(null);
    setMfa(null);
    setPassword('');
    setError(message ?? null);
    setReturned(true);
  }

  return (
    <main class="auth-page">
      <div class="auth-card">
        <div class="brand brand-large">
          <span class="brand-mark">
            <Icon name="logo" size={26} />
          </span>
          <h1>Device Portal</h1>
        </div>
        {mfa ? (
          <MfaCode challenge={mfa} onRestart={restart} />
        ) : challenge && NewPassword ? (
          <NewPassword challenge={challenge} temporaryPassword={password} onRestart={restart} />
        ) : (
          <>
            <p class="muted auth-lead">Sign in to register your phone or tablet and see your devices.</p>
            {notice && !error ? (
              <p class="notice notice-info" role="status">
                {notice}
              </p>
            ) : null}
            <form onSubmit={submit} noValidate={false} aria-describedby={error ? 'sign-in-error' : undefined}>
              <EmailField id="sign-in-email" value={email} onInput={setEmail} />
              <div class="field">
                <label for="sign-in-password">Password</label>
                <input
                  id="sign-in-password"
                  ref={passwordField}
                  type="password"
                  name="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onInput={(e) => setPassword(e.currentTarget.value)}
                />
              </div>
              {error ? (
                <p id="sign-in-error" class="notice notice-error" role="alert">
                  <Icon name="alert" size={18} />
                  <span>{error}</span>
                </p>
              ) : null}
              <button
                type="submit"
                class="button button-primary button-block"
                disabled={busy}
                aria-busy={busy}
              >
                {busy ? <span class="spinner" aria-hidden="true" /> : null}
                {busy ? 'Signing in…' : 'Sign in'}
              </button>
            </form>
          </>
        )}
      </div>
      <p class="auth-footer muted">
        Registering a device from the phone itself? Open the link from your invitation.
      </p>
    </main>
  );
}
