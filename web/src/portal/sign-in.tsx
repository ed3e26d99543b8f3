import { useState } from 'preact/hooks';
import { SignInError, signIn } from '../auth.ts';
import { Icon } from '../ui/icons.tsx';

export function SignIn({ notice }: { notice?: string | undefined }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
    } catch (e) {
      setError(e instanceof SignInError ? e.message : 'Sign-in failed. Try again.');
      setBusy(false);
    }
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
        <p class="muted auth-lead">Sign in to register your phone or tablet and see your devices.</p>
        {notice && !error ? (
          <p class="notice notice-info" role="status">
            {notice}
          </p>
        ) : null}
        <form onSubmit={submit} noValidate={false} aria-describedby={error ? 'sign-in-error' : undefined}>
          <div class="field">
            <label for="sign-in-email">Email</label>
            <input
              id="sign-in-email"
              type="email"
              name="username"
              autoComplete="username"
              inputMode="email"
              autocapitalize="off"
              spellcheck={false}
              required
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="sign-in-password">Password</label>
            <input
              id="sign-in-password"
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
          <button type="submit" class="button button-primary button-block" disabled={busy} aria-busy={busy}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
      <p class="auth-footer muted">
        Registering a device from the phone itself? Open the link from your invitation.
      </p>
    </main>
  );
}
