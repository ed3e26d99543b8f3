/**
 * `/account`: the user's own settings. Name, mobile number and language go to the portal
 * (PATCH /api/me, which writes them to the user pool and audits the change); the password, the
 * authenticator app (TOTP) and signing out everywhere go from the browser straight to Cognito with
 * the user's access token. The email is shown, not changed: invitations go to the verified address.
 */
import { useEffect, useState } from 'preact/hooks';
import type { MeResponse } from '../../../functions/core/api-types.ts';
import { api, errorMessage } from '../api.ts';
import {
  AccountError,
  changePassword,
  finishTotpSetup,
  setTotp,
  signOutEverywhere,
  startTotpSetup,
} from '../auth.ts';
import { Link } from '../router.tsx';
import { Icon } from '../ui/icons.tsx';
import { checkPhone, initialPhone, PhoneField, type PhoneValue, phoneError } from '../ui/phone-field.tsx';
import { MIN_PASSWORD_LENGTH } from './new-password.tsx';
import type { PageProps } from './pages.ts';

/** The languages invitations and the portal's dates can be in (BCP 47, Cognito's locale). */
const LANGUAGES: readonly { tag: string; name: string }[] = [
  { tag: 'en', name: 'English' },
  { tag: 'de', name: 'Deutsch' },
  { tag: 'fr', name: 'Français' },
  { tag: 'es', name: 'Español' },
  { tag: 'it', name: 'Italiano' },
  { tag: 'nl', name: 'Nederlands' },
  { tag: 'pt', name: 'Português' },
];

const ISSUER = 'Device Portal';

type Notice = { kind: 'success' | 'error'; text: string } | null;

function NoticeLine({ notice, id }: { notice: Notice; id: string }) {
  if (!notice) return null;
  return (
    <p
      id={id}
      class={notice.kind === 'error' ? 'notice notice-error' : 'notice notice-info'}
      role={notice.kind === 'error' ? 'alert' : 'status'}
    >
      {notice.kind === 'error' ? <Icon name="alert" size={18} /> : null}
      <span>{notice.text}</span>
    </p>
  );
}

export function AccountPage({ me, reloadMe }: PageProps) {
  return (
    <section aria-labelledby="account-heading" aria-busy={!me}>
      <div class="page-header">
        <div>
          <h1 id="account-heading">Account settings</h1>
          <p class="muted page-subtitle">Your details, your password and how you sign in.</p>
        </div>
      </div>
      {me ? (
        <>
          {me.mfa.required === 'ALL' && !me.mfa.enabled ? (
            <p class="notice notice-warning" role="alert" data-testid="mfa-required">
              <Icon name="alert" size={18} />
              <span>
                Your portal requires a second sign-in step. Set up an authenticator app below to go on.
              </span>
            </p>
          ) : null}
          <ProfileForm me={me} onSaved={reloadMe} />
          <PasswordForm />
          <TotpSection me={me} onChanged={reloadMe} />
          <SignOutEverywhere />
        </>
      ) : (
        <p role="status" class="muted">
          Loading your account…
        </p>
      )}
      <p class="page-back">
        <Link href="/">Back to My devices</Link>
      </p>
    </section>
  );
}

function ProfileForm({ me, onSaved }: { me: MeResponse; onSaved: (() => void) | undefined }) {
  const [name, setName] = useState(me.user.displayName);
  const [phone, setPhone] = useState<PhoneValue>(() => initialPhone(me.user.phoneNumber));
  const [language, setLanguage] = useState(me.user.language.split('-')[0] ?? 'en');
  const [phoneProblem, setPhoneProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState(false);
  const languages = LANGUAGES.some((l) => l.tag === language)
    ? LANGUAGES
    : [...LANGUAGES, { tag: language, name: language }];

  async function save(event: Event) {
    event.preventDefault();
    if (busy) return;
    setNotice(null);
    const typed = phone.number.trim();
    const check = checkPhone(phone);
    if (typed !== '' && !check.ok) {
      setPhoneProblem(phoneError(check));
      return;
    }
    if (!name.trim()) {
      setNotice({ kind: 'error', text: 'Enter your name.' });
      return;
    }
    setBusy(true);
    try {
      await api.updateMe({
        displayName: name.trim(),
        language,
        ...(typed !== '' ? { phoneNumber: typed, phoneCountry: phone.country } : {}),
      });
      setNotice({ kind: 'success', text: 'Your details are saved.' });
      onSaved?.();
    } catch (e) {
      setNotice({ kind: 'error', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="card account-card">
      <h2 id="profile-heading">Your details</h2>
      <form onSubmit={save} aria-labelledby="profile-heading">
        <div class="field">
          <label for="account-name">Name</label>
          <input
            id="account-name"
            autoComplete="name"
            required
            maxLength={100}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="account-email">Email</label>
          <input
            id="account-email"
            type="email"
            readOnly
            value={me.user.email}
            aria-describedby="account-email-hint"
          />
          <p id="account-email-hint" class="field-hint">
            Invitations go to this address. Your helpdesk can change it.
          </p>
        </div>
        <PhoneField
          id="account-phone"
          label="Mobile number (for SMS invitations)"
          value={phone}
          error={phoneProblem}
          onChange={(value) => {
            setPhone(value);
            setPhoneProblem(null);
          }}
        />
        <div class="field">
          <label for="account-language">Language</label>
          <select id="account-language" value={language} onChange={(e) => setLanguage(e.currentTarget.value)}>
            {languages.map((l) => (
              <option key={l.tag} value={l.tag} lang={l.tag}>
                {l.name}
              </option>
            ))}
          </select>
        </div>
        <NoticeLine notice={notice} id="profile-notice" />
        <button type="submit" class="button button-primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Saving…' : 'Save details'}
        </button>
      </form>
    </div>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [proposed, setProposed] = useState('');
  const [confirm, setConfirm] = useState('');
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    setNotice(null);
    if (!current) return setNotice({ kind: 'error', text: 'Enter your current password.' });
    if ([...proposed].length < MIN_PASSWORD_LENGTH) {
      return setNotice({
        kind: 'error',
        text: `Use at least ${MIN_PASSWORD_LENGTH} characters for the new password.`,
      });
    }
    if (proposed !== confirm) {
      return setNotice({
        kind: 'error',
        text: 'The two new passwords do not match. Type the same one twice.',
      });
    }
    if (proposed === current) {
      return setNotice({ kind: 'error', text: 'Choose a new password different from the current one.' });
    }
    setBusy(true);
    try {
      await changePassword(current, proposed);
      setCurrent('');
      setProposed('');
      setConfirm('');
      setNotice({ kind: 'success', text: 'Your password is changed.' });
    } catch (e) {
      setNotice({ kind: 'error', text: e instanceof AccountError ? e.message : errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="card account-card">
      <h2 id="password-heading">Password</h2>
      <form onSubmit={submit} aria-labelledby="password-heading">
        <div class="field">
          <label for="account-current-password">Current password</label>
          <input
            id="account-current-password"
            type="password"
            autoComplete="current-password"
            value={current}
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="account-new-password">New password</label>
          <input
            id="account-new-password"
            type="password"
            autoComplete="new-password"
            aria-describedby="account-new-password-hint"
            value={proposed}
            onInput={(e) => setProposed(e.currentTarget.value)}
          />
          <p id="account-new-password-hint" class="field-hint">
            At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words are easy to remember.
          </p>
        </div>
        <div class="field">
          <label for="account-confirm-password">New password again</label>
          <input
            id="account-confirm-password"
            type="password"
            autoComplete="new-password"
            value={confirm}
            onInput={(e) => setConfirm(e.currentTarget.value)}
          />
        </div>
        <NoticeLine notice={notice} id="password-notice" />
        <button type="submit" class="button button-primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </form>
    </div>
  );
}

/** otpauth:// for authenticator apps (Key Uri Format): the issuer, the account, the base32 secret. */
export function otpauthUri(email: string, secret: string): string {
  const label = encodeURIComponent(`${ISSUER}:${email}`);
  return `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(ISSUER)}&algorithm=SHA1&digits=6&period=30`;
}

function TotpSection({ me, onChanged }: { me: MeResponse; onChanged: (() => void) | undefined }) {
  const [secret, setSecret] = useState<string | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState(false);
  const enabled = me.mfa.enabled;

  useEffect(() => {
    if (!secret) return;
    let live = true;
    // The QR code's library loads with the set-up only.
    void import('qrcode')
      .then((m) => m.default.toString(otpauthUri(me.user.email, secret), { type: 'svg', margin: 1 }))
      .then((svg) => {
        if (live) setQr(svg);
      })
      .catch(() => {
        // The secret as text is still there to type in.
      });
    return () => {
      live = false;
    };
  }, [secret, me.user.email]);

  async function start() {
    setBusy(true);
    setNotice(null);
    try {
      setSecret(await startTotpSetup());
    } catch (e) {
      setNotice({ kind: 'error', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  async function verify(event: Event) {
    event.preventDefault();
    if (busy) return;
    if (!/^\d{6}$/.test(code.replace(/\s/g, ''))) {
      setNotice({ kind: 'error', text: 'Enter the 6 digits your authenticator app shows.' });
      return;
    }
    setBusy(true);
    setNotice(null);
    try {
      await finishTotpSetup(code, 'Authenticator app');
      setSecret(null);
      setQr(null);
      setCode('');
      setNotice({
        kind: 'success',
        text: 'Your authenticator app is set up. Sign-in now asks for its code.',
      });
      onChanged?.();
    } catch (e) {
      setNotice({ kind: 'error', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  async function turnOff() {
    setBusy(true);
    setNotice(null);
    try {
      await setTotp(false);
      setNotice({
        kind: 'success',
        text: 'The second sign-in step is off. Sign-in asks for your password only.',
      });
      onChanged?.();
    } catch (e) {
      setNotice({ kind: 'error', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="card account-card">
      <h2 id="totp-heading">Second sign-in step</h2>
      {enabled ? (
        <>
          <p data-testid="totp-status">
            <strong>On:</strong> signing in asks for a code from your authenticator app.
          </p>
          {me.mfa.required === 'OFF' ? (
            <button type="button" class="button" disabled={busy} onClick={() => void turnOff()}>
              Turn off
            </button>
          ) : (
            <p class="muted">Your portal requires it, so it cannot be turned off here.</p>
          )}
        </>
      ) : secret ? (
        <form onSubmit={verify} aria-labelledby="totp-heading">
          <p>
            Scan the QR code with an authenticator app (for example Microsoft Authenticator or Google
            Authenticator), or type the key into it. Then enter the 6-digit code it shows.
          </p>
          {qr ? (
            <img
              class="qr"
              data-testid="totp-qr"
              src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr)}`}
              alt="QR code for your authenticator app"
              width={180}
              height={180}
            />
          ) : null}
          <p>
            Key:{' '}
            <code class="mono totp-secret" data-testid="totp-secret">
              {secret}
            </code>
          </p>
          <div class="field">
            <label for="totp-code">Code from the app</label>
            <input
              id="totp-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={7}
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
          </div>
          <NoticeLine notice={notice} id="totp-notice" />
          <button type="submit" class="button button-primary" disabled={busy} aria-busy={busy}>
            Turn on
          </button>
        </form>
      ) : (
        <>
          <p class="muted">
            Add an authenticator app: signing in then asks for its code as well as your password.
          </p>
          <button type="button" class="button button-primary" disabled={busy} onClick={() => void start()}>
            Set up an authenticator app
          </button>
        </>
      )}
      {secret ? null : <NoticeLine notice={notice} id="totp-notice" />}
    </div>
  );
}

function SignOutEverywhere() {
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="card account-card">
      <h2>Sign out everywhere</h2>
      <p class="muted">
        Ends your sessions in every browser where you are signed in to the portal, this one included.
      </p>
      <NoticeLine notice={notice} id="everywhere-notice" />
      <button
        type="button"
        class="button"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          signOutEverywhere().catch((e: unknown) => {
            setNotice({ kind: 'error', text: errorMessage(e) });
            setBusy(false);
          });
        }}
      >
        Sign out everywhere
      </button>
    </div>
  );
}
