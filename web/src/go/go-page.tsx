/**
 * The /go page, opened on the phone (from the invitation link or the QR code): email + registration
 * PIN (or password) → the next step for the platform. No sign-in; kept small on purpose.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EnrollVerifyResponse, RegistrationChoice } from '../../../functions/core/api-types.ts';
import { ApiError, api, errorMessage } from '../api.ts';
import { countdown } from '../format.ts';
import { useCooldown } from '../hooks.ts';
import { EmailField } from '../ui/email-field.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';
import { Icon } from '../ui/icons.tsx';

export const QR_DAMAGED = 'This QR code is damaged or old: generate a new one in the portal.';

/** The QR token the page was opened with, kept for the tab until a verification uses it. */
const QR_KEY = 'device-portal.go-qr';
/** The answer of a successful verification, kept for the tab until it expires (reload, Back). */
const NEXT_KEY = 'device-portal.go-next';
/** The portal's QR tokens: 128 bits in base64url (22 characters); anything far off is damaged. */
const QR_TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

type QrState = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'damaged' };

function storage(): Storage | null {
  try {
    return sessionStorage;
  } catch {
    return null;
  }
}

/**
 * The QR code's one-time token travels in the fragment (#t=…), which browsers never send to a
 * server. Once read it is taken out of the address bar (so it stays in no history) and kept for
 * the tab, so a reload before signing in still has it.
 */
function readQrToken(): QrState {
  const fragment = location.hash.replace(/^#/, '');
  if (fragment) {
    const token = new URLSearchParams(fragment).get('t')?.trim();
    if (token === undefined) return { kind: 'none' };
    history.replaceState(history.state, '', location.pathname + location.search);
    if (!QR_TOKEN.test(token)) {
      storage()?.removeItem(QR_KEY);
      return { kind: 'damaged' };
    }
    storage()?.setItem(QR_KEY, token);
    return { kind: 'token', token };
  }
  const kept = storage()?.getItem(QR_KEY);
  return kept && QR_TOKEN.test(kept) ? { kind: 'token', token: kept } : { kind: 'none' };
}

function isNextStep(value: unknown): value is EnrollVerifyResponse {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<EnrollVerifyResponse>;
  return (
    typeof v.deviceId === 'string' &&
    (v.platform === 'IOS' || v.platform === 'ANDROID') &&
    typeof v.enrollmentToken === 'string' &&
    typeof v.expiresAt === 'string' &&
    typeof v.next === 'object' &&
    v.next !== null &&
    (v.next.kind === 'IOS_PROFILE' || v.next.kind === 'ANDROID_STORE')
  );
}

/** The kept verification answer, while it has not expired. */
function readNextStep(): EnrollVerifyResponse | null {
  try {
    const raw = storage()?.getItem(NEXT_KEY);
    const value: unknown = raw ? JSON.parse(raw) : null;
    if (isNextStep(value) && Date.parse(value.expiresAt) > Date.now()) return value;
  } catch {
    // Corrupt: start over.
  }
  storage()?.removeItem(NEXT_KEY);
  return null;
}

function keepNextStep(answer: EnrollVerifyResponse | null): void {
  try {
    if (answer) storage()?.setItem(NEXT_KEY, JSON.stringify(answer));
    else storage()?.removeItem(NEXT_KEY);
  } catch {
    // No storage: the step lasts as long as the page.
  }
}

function thisDevice(): 'IOS' | 'ANDROID' | null {
  const ua = navigator.userAgent;
  if (/Android/i.test(ua)) return 'ANDROID';
  if (/iPhone|iPad|iPod/i.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)) return 'IOS';
  return null;
}

export function GoPage() {
  const [qr, setQr] = useState<QrState>(readQrToken);
  const [username, setUsername] = useState('');
  const [secret, setSecret] = useState('');
  const [usePassword, setUsePassword] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<EnrollVerifyResponse | null>(readNextStep);
  /** The registrations the password fits, when the server asks which one this device is. */
  const [choices, setChoices] = useState<RegistrationChoice[] | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const cooldown = useCooldown();
  const secretRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Register this device · Device Portal';
    // Another QR link opened in this same page changes only the fragment: read it again.
    const onHash = () => {
      if (location.hash) setQr(readQrToken());
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy || cooldown.secondsLeft > 0) return;
    const user = username.trim();
    const value = usePassword ? secret : secret.replace(/\D/g, '');
    if (!user || !value) {
      setError(usePassword ? 'Enter your email and password.' : 'Enter your email and the registration PIN.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const here = thisDevice();
      const answer = await api.enrollVerify({
        username: user,
        ...(usePassword ? { password: value } : { pin: value }),
        ...(qr.kind === 'token' ? { qrToken: qr.token } : {}),
        // The server checks the registration's platform before it uses the PIN up.
        ...(here ? { platform: here } : {}),
        ...(chosen ? { deviceId: chosen } : {}),
      });
      // The QR token is spent; the answer is kept for the tab instead (reload, Back).
      storage()?.removeItem(QR_KEY);
      keepNextStep(answer);
      setResult(answer);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'CHOOSE_REGISTRATION') {
        // The password was right: keep it, and ask which registration this device is.
        const offered = (e.details as { choices?: RegistrationChoice[] } | undefined)?.choices ?? [];
        setChoices(offered);
        setChosen(offered[0]?.deviceId ?? null);
        setError(errorMessage(e));
        return;
      }
      if (e instanceof ApiError && e.code === 'QR_CODE_INVALID') {
        storage()?.removeItem(QR_KEY);
        setQr({ kind: 'damaged' });
        setError(QR_DAMAGED);
      } else {
        setError(errorMessage(e));
      }
      if (e instanceof ApiError && e.status === 429) cooldown.start(e.retryAfter);
      setSecret('');
      secretRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  function startOver() {
    keepNextStep(null);
    setResult(null);
    setSecret('');
    setError(null);
  }

  return (
    <main class="go-page">
      <div class="brand go-brand">
        <span class="brand-mark">
          <Icon name="logo" size={20} />
        </span>
        <span class="brand-name">Device Portal</span>
      </div>
      <div class="card go-card">
        {result ? (
          <NextStep result={result} onStartOver={startOver} />
        ) : (
          <>
            <h1 class="go-title">Register this device</h1>
            <p class="muted">
              Sign in with your work email and the registration PIN shown in the portal
              {usePassword ? ', or your password' : ''}.
            </p>
            {qr.kind === 'token' ? (
              <p class="notice notice-info">
                <Icon name="qr" size={18} />
                <span>QR code recognised. Sign in to continue.</span>
              </p>
            ) : qr.kind === 'damaged' && error !== QR_DAMAGED ? (
              <p class="notice notice-warning" data-testid="qr-damaged">
                <Icon name="alert" size={18} />
                <span>{QR_DAMAGED}</span>
              </p>
            ) : null}
            <form class="go-form" onSubmit={submit} noValidate>
              <EmailField id="go-username" value={username} onInput={setUsername} />
              <div class="field">
                <label for="go-secret">{usePassword ? 'Password' : 'Registration PIN'}</label>
                {usePassword ? (
                  <input
                    ref={secretRef}
                    id="go-secret"
                    key="password"
                    type="password"
                    name="password"
                    autoComplete="current-password"
                    required
                    value={secret}
                    onInput={(e) => setSecret(e.currentTarget.value)}
                  />
                ) : (
                  <input
                    ref={secretRef}
                    id="go-secret"
                    key="pin"
                    class="pin-input"
                    type="text"
                    name="pin"
                    inputMode="numeric"
                    autoComplete="one-time-code"
                    pattern="[0-9 ]*"
                    maxLength={16}
                    required
                    value={secret}
                    aria-describedby="go-pin-hint"
                    onInput={(e) => setSecret(e.currentTarget.value)}
                  />
                )}
                {usePassword ? null : (
                  <p id="go-pin-hint" class="field-hint">
                    The digits shown in the portal when you chose Request registration PIN.
                  </p>
                )}
              </div>
              {choices && usePassword ? (
                <fieldset class="field-group" data-testid="choose-registration">
                  <legend>Which registration is this device?</legend>
                  {choices.map((choice) => (
                    <label key={choice.deviceId} class="check">
                      <input
                        type="radio"
                        name="registration"
                        value={choice.deviceId}
                        checked={chosen === choice.deviceId}
                        onChange={() => setChosen(choice.deviceId)}
                      />
                      <span>
                        {choice.name || (choice.platform === 'IOS' ? 'iPhone or iPad' : 'Android device')}{' '}
                        <span class="muted">
                          requested{' '}
                          {new Intl.DateTimeFormat(undefined, {
                            dateStyle: 'medium',
                            timeStyle: 'short',
                          }).format(new Date(choice.createdAt))}
                        </span>
                      </span>
                    </label>
                  ))}
                </fieldset>
              ) : null}
              <ErrorNotice message={error} />
              <button
                type="submit"
                class="button button-primary button-block button-large"
                disabled={busy || cooldown.secondsLeft > 0}
                aria-busy={busy}
              >
                {busy ? <span class="spinner" aria-hidden="true" /> : null}
                {busy
                  ? 'Checking…'
                  : cooldown.secondsLeft > 0
                    ? `Try again in ${countdown(cooldown.secondsLeft * 1000)}`
                    : 'Continue'}
              </button>
              <button
                type="button"
                class="link-button go-toggle"
                onClick={() => {
                  setChoices(null);
                  setChosen(null);
                  setUsePassword(!usePassword);
                  setSecret('');
                  setError(null);
                }}
              >
                {usePassword ? 'Use a registration PIN instead' : 'Use my password instead'}
              </button>
            </form>
          </>
        )}
      </div>
      <p class="go-footer muted">Only open this page on the phone or tablet you are registering.</p>
    </main>
  );
}

function NextStep({ result, onStartOver }: { result: EnrollVerifyResponse; onStartOver: () => void }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const here = thisDevice();
  const mismatch = here !== null && here !== result.platform;
  const expires = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' }).format(
    new Date(result.expiresAt),
  );
  useEffect(() => headingRef.current?.focus(), []);
  const { next } = result;

  return (
    <div class="go-next" data-testid="enroll-next">
      <p class="go-ok">
        <Icon name="check" size={22} />
      </p>
      <div>
        <h1 class="go-title" ref={headingRef} tabIndex={-1}>
          One more step
        </h1>
        <p class="muted">
          {next.kind === 'IOS_PROFILE'
            ? 'Your sign-in worked. Now install the enrollment profile on this iPhone or iPad.'
            : 'Your sign-in worked. Now install the agent app on this Android device.'}
        </p>
      </div>
      {mismatch ? (
        <p class="notice notice-warning">
          <Icon name="alert" size={18} />
          <span>
            This registration is for {result.platform === 'IOS' ? 'an iPhone or iPad' : 'an Android device'}.
            Open this page on that device.
          </span>
        </p>
      ) : null}
      {next.kind === 'IOS_PROFILE' ? (
        <>
          <a class="button button-primary button-block button-large" href={next.profileUrl}>
            <Icon name="download" size={20} />
            Install enrollment profile
          </a>
          <ol class="steps">
            <li>
              Tap <strong>Install enrollment profile</strong> and allow the download.
            </li>
            <li>
              Open <strong>Settings</strong> → <strong>Profile Downloaded</strong> → <strong>Install</strong>,
              and enter your device passcode when asked.
            </li>
            <li>When the profile is installed, your device shows as Active in the portal.</li>
          </ol>
        </>
      ) : (
        <>
          <a class="button button-primary button-block button-large" href={next.storeUrl}>
            <Icon name="download" size={20} />
            Get the agent app
          </a>
          <ol class="steps">
            <li>
              Tap <strong>Get the agent app</strong> and install it from Google Play.
            </li>
            <li>Open the app and follow its steps; it finishes the registration of this device.</li>
            <li>When it is done, your device shows as Active in the portal.</li>
          </ol>
        </>
      )}
      <p class="muted go-expiry">
        <Icon name="clock" size={16} /> This step works once and until {expires}.
      </p>
      <button type="button" class="link-button go-toggle" onClick={onStartOver}>
        Start over
      </button>
    </div>
  );
}
