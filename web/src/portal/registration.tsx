/**
 * Register device: the form (platform, ownership, delivery, method) and the result (PIN shown once,
 * QR code, expiry with a live countdown, delivery outcome). Also shows the result of a resend.
 * Loaded on demand: most visits never open it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type {
  CreateRegistrationRequest,
  DeliveryChannel,
  DeviceSummary,
  MeResponse,
  Ownership,
  Platform,
  RegistrationMethod,
  RegistrationResponse,
} from '../../../functions/core/api-types.ts';
import { DEVICE_NAME_MAX_LENGTH } from '../../../functions/core/device-name.ts';
import { ApiError, api, errorMessage } from '../api.ts';
import { countdown, deviceTitle, formatTimeOrDateTime } from '../format.ts';
import { useCooldown, useLazy, useNow } from '../hooks.ts';
import { Dialog } from '../ui/dialog.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';
import { Icon, type IconName } from '../ui/icons.tsx';
import type { PhoneCheck, PhoneValue } from '../ui/phone-field.tsx';
import { DerivedCredential } from './derived-credential-button.tsx';
import { DeliveryLine } from './device-card.tsx';
import { pinGroups, useKeepSecretOnScreen } from './secret-on-screen.ts';

interface RegistrationDialogProps {
  me: MeResponse;
  /** Resend for this device instead of showing the form. */
  resendFor: DeviceSummary | null;
  /** Pending and active devices, for the device-limit notice. */
  activeDevices: number;
  /** A new or changed device from the server, to show in the list at once. */
  onDevice: (device: DeviceSummary) => void;
  onClose: () => void;
}

type View =
  | { kind: 'form' }
  | { kind: 'working'; method: RegistrationMethod | 'RESEND' }
  | { kind: 'result'; result: RegistrationResponse; resent: boolean }
  | { kind: 'resend-error'; message: string };

const METHODS: {
  method: RegistrationMethod;
  key: 'invitation' | 'pin' | 'qr';
  label: string;
  icon: IconName;
  help: string;
}[] = [
  {
    method: 'INVITATION',
    key: 'invitation',
    label: 'Send invitation',
    icon: 'send',
    help: 'A link by email or SMS to open on the device.',
  },
  {
    method: 'PIN',
    key: 'pin',
    label: 'Request registration PIN',
    icon: 'key',
    help: 'A one-time PIN shown here, to enter on the device.',
  },
  {
    method: 'QR',
    key: 'qr',
    label: 'Generate QR code',
    icon: 'qr',
    help: 'Scan it with the camera of the device.',
  },
];

export function RegistrationDialog({
  me,
  resendFor,
  activeDevices,
  onDevice,
  onClose,
}: RegistrationDialogProps) {
  const [view, setView] = useState<View>(
    resendFor ? { kind: 'working', method: 'RESEND' } : { kind: 'form' },
  );
  const started = useRef(false);
  const resendCooldown = useCooldown();

  async function resend(device: DeviceSummary) {
    setView({ kind: 'working', method: 'RESEND' });
    try {
      const result = await api.resendRegistration(device.deviceId, {});
      onDevice(result.device);
      setView({ kind: 'result', result, resent: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 429) resendCooldown.start(error.retryAfter);
      setView({ kind: 'resend-error', message: errorMessage(error) });
    }
  }

  useEffect(() => {
    if (resendFor && !started.current) {
      started.current = true;
      void resend(resendFor);
    }
  });

  const busy = view.kind === 'working';
  const title =
    view.kind === 'result'
      ? view.resent
        ? 'New registration ready'
        : 'Registration started'
      : resendFor
        ? 'Resend registration'
        : 'Register device';

  return (
    <Dialog title={title} onClose={onClose} busy={busy && view.method === 'RESEND'}>
      {view.kind === 'result' ? (
        <RegistrationResult me={me} result={view.result} resent={view.resent} onClose={onClose} />
      ) : resendFor ? (
        view.kind === 'resend-error' ? (
          <>
            <p class="notice notice-error" role="alert">
              <Icon name="alert" size={18} />
              <span>{view.message}</span>
            </p>
            <div class="dialog-actions">
              <button type="button" class="button" onClick={onClose}>
                Close
              </button>
              <button
                type="button"
                class="button button-primary"
                disabled={resendCooldown.secondsLeft > 0}
                onClick={() => resend(resendFor)}
              >
                {resendCooldown.secondsLeft > 0
                  ? `Try again in ${countdown(resendCooldown.secondsLeft * 1000)}`
                  : 'Try again'}
              </button>
            </div>
          </>
        ) : (
          <p class="working" role="status">
            <span class="spinner" aria-hidden="true" />
            Creating a new registration for your {deviceTitle(resendFor)}…
          </p>
        )
      ) : (
        <RegistrationForm
          me={me}
          activeDevices={activeDevices}
          working={view.kind === 'working' ? view.method : null}
          onStart={(method) => setView({ kind: 'working', method })}
          onFailed={() => setView({ kind: 'form' })}
          onDone={(result) => {
            onDevice(result.device);
            setView({ kind: 'result', result, resent: false });
          }}
          onCancel={onClose}
        />
      )}
    </Dialog>
  );
}

/** The phone-number library is large (its full metadata): it loads only once SMS is ticked. */
const loadPhoneField = () => import('../ui/phone-field.tsx');

interface FormProps {
  me: MeResponse;
  activeDevices: number;
  working: RegistrationMethod | 'RESEND' | null;
  onStart: (method: RegistrationMethod) => void;
  onFailed: () => void;
  onDone: (result: RegistrationResponse) => void;
  onCancel: () => void;
}

function RegistrationForm({ me, activeDevices, working, onStart, onFailed, onDone, onCancel }: FormProps) {
  const { features } = me;
  const [platform, setPlatform] = useState<Platform | null>(null);
  const [ownership, setOwnership] = useState<Ownership>(features.defaultOwnership);
  const [name, setName] = useState('');
  // No channel is preselected: a PIN or QR code needs none, an invitation at least one.
  const [email, setEmail] = useState(false);
  const [sms, setSms] = useState(false);
  const phoneModule = useLazy(sms ? loadPhoneField : null);
  const phoneField = phoneModule instanceof Error ? null : phoneModule;
  const [typedPhone, setPhone] = useState<PhoneValue | null>(null);
  const phone = typedPhone ?? (phoneField ? phoneField.initialPhone(me.user.phoneNumber) : null);
  const [errors, setErrors] = useState<{ platform?: string; delivery?: string; phone?: string }>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const cooldown = useCooldown();
  const waiting = cooldown.secondsLeft > 0;
  const methods = METHODS.filter((m) => features.registrationMethods[m.key]);
  const atLimit = me.deviceLimit > 0 && activeDevices >= me.deviceLimit;

  async function start(method: RegistrationMethod) {
    if (working || waiting) return;
    const found: typeof errors = {};
    if (!platform) found.platform = 'Choose the kind of device you are registering.';
    if (method === 'INVITATION' && !email && !sms)
      found.delivery = 'Choose email, SMS or both for the invitation.';
    let phoneCheck: PhoneCheck | null = null;
    if (sms) {
      if (phoneField && phone) {
        phoneCheck = phoneField.checkPhone(phone);
        const problem = phoneField.phoneError(phoneCheck);
        if (problem) found.phone = problem;
      } else {
        found.delivery =
          phoneModule instanceof Error ? phoneModule.message : 'The phone number field is still loading.';
      }
    }
    setErrors(found);
    setServerError(null);
    if (!platform || Object.keys(found).length > 0) return;
    const delivery: DeliveryChannel[] = [
      ...(email ? ['EMAIL' as const] : []),
      ...(sms ? ['SMS' as const] : []),
    ];
    const body: CreateRegistrationRequest = { platform, method, delivery };
    if (phoneCheck?.ok) body.phoneNumber = phoneCheck.e164;
    if (features.ownershipChoice) body.ownership = ownership;
    if (name.trim()) body.name = name.trim();
    onStart(method);
    try {
      onDone(await api.createRegistration(body));
    } catch (error) {
      setServerError(errorMessage(error));
      if (error instanceof ApiError && error.status === 429) cooldown.start(error.retryAfter);
      onFailed();
    }
  }

  useEffect(() => {
    if (Object.keys(errors).length) {
      document.querySelector<HTMLElement>('.register-form [aria-invalid="true"]')?.focus();
    }
  }, [errors]);

  if (methods.length === 0) {
    return (
      <>
        <p class="notice notice-info">
          Registering devices from the portal is turned off. Ask your helpdesk to register your device.
        </p>
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onCancel}>
            Close
          </button>
        </div>
      </>
    );
  }

  return (
    <form
      class="register-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const first = methods[0];
        if (first) void start(first.method);
      }}
    >
      {atLimit ? (
        <p class="notice notice-warning">
          <Icon name="alert" size={18} />
          <span>
            You already have {activeDevices} of the {me.deviceLimit} devices you may register. The portal may
            refuse a new one: retire a device you no longer use, or ask your helpdesk.
          </span>
        </p>
      ) : null}

      <fieldset class="field-group" aria-describedby={errors.platform ? 'reg-platform-error' : undefined}>
        <legend>Device</legend>
        <div class="choice-tiles">
          <ChoiceTile
            name="platform"
            value="IOS"
            checked={platform === 'IOS'}
            invalid={!!errors.platform}
            onChange={() => {
              setPlatform('IOS');
              setErrors(({ platform: _, ...rest }) => rest);
            }}
            icon="ios"
            label="iPhone or iPad"
          />
          <ChoiceTile
            name="platform"
            value="ANDROID"
            checked={platform === 'ANDROID'}
            invalid={!!errors.platform}
            onChange={() => {
              setPlatform('ANDROID');
              setErrors(({ platform: _, ...rest }) => rest);
            }}
            icon="android"
            label="Android"
          />
        </div>
        {errors.platform ? (
          <p id="reg-platform-error" class="field-error">
            {errors.platform}
          </p>
        ) : null}
      </fieldset>

      <div class="field">
        <label for="reg-name">
          Name <span class="muted">(optional)</span>
        </label>
        <input
          id="reg-name"
          type="text"
          maxLength={DEVICE_NAME_MAX_LENGTH}
          autoComplete="off"
          placeholder="e.g. Work iPhone"
          aria-describedby="reg-name-hint"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <p id="reg-name-hint" class="field-hint">
          Shown on the device card, so you can tell your registrations apart.
        </p>
      </div>

      {features.ownershipChoice ? (
        <fieldset class="field-group">
          <legend>Who owns it?</legend>
          <div class="segmented">
            <label>
              <input
                type="radio"
                name="ownership"
                value="EMPLOYEE"
                checked={ownership === 'EMPLOYEE'}
                onChange={() => setOwnership('EMPLOYEE')}
              />
              <span>Employee (my own)</span>
            </label>
            <label>
              <input
                type="radio"
                name="ownership"
                value="COMPANY"
                checked={ownership === 'COMPANY'}
                onChange={() => setOwnership('COMPANY')}
              />
              <span>Company</span>
            </label>
          </div>
        </fieldset>
      ) : null}

      <fieldset class="field-group" aria-describedby="reg-delivery-hint">
        <legend>Send the invitation by</legend>
        <p id="reg-delivery-hint" class="field-hint">
          The invitation carries the link to open on the device: needed for Send invitation, optional for a
          PIN or QR code. A PIN is never sent: it is shown only here.
        </p>
        <label class="check">
          <input
            type="checkbox"
            checked={email}
            onChange={(e) => {
              setEmail(e.currentTarget.checked);
              setErrors(({ delivery: _, ...rest }) => rest);
            }}
          />
          <span>
            Email <span class="muted">to {me.user.email}</span>
          </span>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={sms}
            onChange={(e) => {
              setSms(e.currentTarget.checked);
              setErrors(({ delivery: _, phone: __, ...rest }) => rest);
            }}
          />
          <span>SMS</span>
        </label>
        {sms && phoneField && phone ? (
          <phoneField.PhoneField
            id="reg-phone"
            label="Mobile number"
            value={phone}
            error={errors.phone ?? null}
            onChange={(value) => {
              setPhone(value);
              setErrors(({ phone: _, ...rest }) => rest);
            }}
          />
        ) : sms && phoneModule instanceof Error ? (
          <p class="field-error field-indent">{phoneModule.message}</p>
        ) : sms ? (
          <p class="field-hint field-indent" role="status">
            <span class="spinner" aria-hidden="true" /> Loading the phone number field…
          </p>
        ) : null}
        {errors.delivery ? <p class="field-error">{errors.delivery}</p> : null}
      </fieldset>

      <ErrorNotice message={serverError} />
      {waiting ? (
        <p class="field-hint cooldown" role="timer" aria-live="off" data-testid="retry-countdown">
          You can try again in {countdown(cooldown.secondsLeft * 1000)}.
        </p>
      ) : null}

      <div class="method-actions">
        {methods.map((m) => (
          <button
            key={m.method}
            type="button"
            class="method-button"
            disabled={!!working || waiting}
            aria-busy={working === m.method}
            aria-describedby={`reg-method-${m.key}`}
            onClick={() => start(m.method)}
          >
            <span class="method-icon">
              {working === m.method ? (
                <span class="spinner" aria-hidden="true" />
              ) : (
                <Icon name={m.icon} size={20} />
              )}
            </span>
            <span class="method-text">
              <span class="method-label">{m.label}</span>
              {/* The button's name is its visible label; the help is its description. */}
              <span class="method-help" id={`reg-method-${m.key}`} aria-hidden="true">
                {m.help}
              </span>
            </span>
          </button>
        ))}
      </div>
    </form>
  );
}

interface ChoiceTileProps {
  name: string;
  value: string;
  checked: boolean;
  invalid: boolean;
  onChange: () => void;
  icon: IconName;
  label: string;
}

function ChoiceTile({ name, value, checked, invalid, onChange, icon, label }: ChoiceTileProps) {
  return (
    <label class={checked ? 'choice-tile choice-tile-checked' : 'choice-tile'}>
      <input
        type="radio"
        name={name}
        value={value}
        checked={checked}
        onChange={onChange}
        aria-invalid={invalid ? 'true' : undefined}
      />
      <Icon name={icon} size={28} />
      <span>{label}</span>
    </label>
  );
}

function RegistrationResult({
  me,
  result,
  resent,
  onClose,
}: {
  me: MeResponse;
  result: RegistrationResponse;
  resent: boolean;
  onClose: () => void;
}) {
  const now = useNow(1000);
  const headingRef = useRef<HTMLParagraphElement>(null);
  const [copied, setCopied] = useState(false);
  const left = new Date(result.expiresAt).getTime() - now;
  const expired = left <= 0;
  const device = result.device;
  const deliveries = device.registration?.deliveries ?? [];
  const failed = deliveries.some((d) => d.status === 'FAILED');
  const platformName = device.platform === 'IOS' ? 'iPhone or iPad' : 'Android device';
  const passwordToo = me.features.registrationMethods.passwordAtGo;
  const { allowLeave } = useKeepSecretOnScreen(!!(result.pin || result.qr), onClose);

  useEffect(() => {
    // The form may have been scrolled down to its buttons: show the result from its top.
    headingRef.current?.closest('dialog')?.scrollTo({ top: 0 });
    headingRef.current?.focus({ preventScroll: true });
  }, []);

  async function copyLink() {
    try {
      await navigator.clipboard.writeText(result.goUrl);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  }

  return (
    <div class="result">
      <p class="result-lead" ref={headingRef} tabIndex={-1}>
        Your {platformName} is listed as <strong>Pending</strong> until you finish on the device.
      </p>
      {resent ? (
        <p class="notice notice-info">
          <Icon name="refresh" size={18} />
          <span>The previous PIN, QR code and invitation no longer work. Use the new ones below.</span>
        </p>
      ) : null}

      <div class="result-secrets">
        {result.pin ? (
          <section class="secret-box" aria-labelledby="pin-label">
            <p id="pin-label" class="secret-label">
              Registration PIN
            </p>
            <p class="pin" data-testid="registration-pin" aria-describedby="pin-note">
              {pinGroups(result.pin).map((group) => (
                <span key={group.at} class="pin-group">
                  {group.digits}
                </span>
              ))}
            </p>
            <p id="pin-note" class="secret-note">
              <Icon name="alert" size={16} />
              Shown once — write it down. It is not sent by email or SMS.
            </p>
          </section>
        ) : null}
        {result.qr ? (
          <section class="secret-box qr-box" aria-labelledby="qr-label">
            <p id="qr-label" class="secret-label">
              Scan with the {platformName}
            </p>
            <img
              class="qr"
              data-testid="registration-qr"
              src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(result.qr.svg)}`}
              alt={`QR code that opens ${result.qr.url}`}
              width={200}
              height={200}
            />
            <p class="qr-url mono">{result.qr.url}</p>
          </section>
        ) : null}
      </div>

      {device.derivedCredential?.canRequest ? (
        <div class="result-section derived-credential-section">
          <p class="field-hint">
            Your company uses an Entrust derived credential on this device: request it before you register.
            {result.pin || result.qr
              ? ' Write the PIN down first: you leave this page for Entrust, and the PIN and QR code are not shown again.'
              : ''}
          </p>
          <DerivedCredential device={device} beforeLeave={allowLeave} />
        </div>
      ) : null}

      <p class={expired ? 'expiry expiry-expired' : 'expiry'} role="timer" aria-live="off">
        <Icon name="clock" size={18} />
        {expired ? (
          <span>
            <strong>Expired.</strong> Close this and use Resend on the device card.
          </span>
        ) : (
          <span>
            Expires at <time dateTime={result.expiresAt}>{formatTimeOrDateTime(result.expiresAt, now)}</time>{' '}
            <span class="countdown" data-testid="registration-countdown">
              ({countdown(left)} left)
            </span>
          </span>
        )}
      </p>

      {deliveries.length > 0 ? (
        <div class="result-section">
          <h3 class="result-heading">Invitation</h3>
          <ul class="deliveries">
            {deliveries.map((d) => (
              <DeliveryLine key={`${d.channel}-${d.at}`} delivery={d} now={now} />
            ))}
          </ul>
          {failed ? (
            <p class="field-hint">
              The registration is kept. Fix the problem above, then use Resend on the device card — or just
              open the link below on the device.
            </p>
          ) : null}
        </div>
      ) : null}

      <div class="result-section">
        <h3 class="result-heading">On the {platformName}</h3>
        <ol class="steps steps-compact">
          <li>
            {result.qr
              ? 'Scan the QR code, or open '
              : deliveries.some((d) => d.status === 'SENT')
                ? 'Open the link in the invitation, or go to '
                : 'Open '}
            <a href={result.goUrl} class="mono go-link" target="_blank" rel="noopener noreferrer">
              {result.goUrl.replace(/^https?:\/\//, '')}
            </a>{' '}
            <button type="button" class="link-button" onClick={copyLink}>
              <Icon name="copy" size={14} />
              {copied ? 'Copied' : 'Copy link'}
            </button>
          </li>
          <li>
            Sign in with <strong>{me.user.email}</strong> and{' '}
            {result.pin
              ? `the PIN above${passwordToo ? ' (or your password)' : ''}`
              : passwordToo
                ? 'your password'
                : 'a registration PIN from this portal'}
            .
          </li>
          <li>
            {device.platform === 'IOS'
              ? 'Install the enrollment profile: Settings → Profile Downloaded → Install.'
              : 'Install the agent app from Google Play, open it and follow the steps.'}
          </li>
        </ol>
      </div>

      <div class="dialog-actions">
        <button type="button" class="button button-primary" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}
