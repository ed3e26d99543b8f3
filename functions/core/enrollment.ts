/**
 * Completing a registration on the device: the /go page (PIN or password, optional QR token),
 * the iOS enrollment profile, the agent's enrollment and its check-ins (DESIGN §4, §8 rules 1, 2, 5,
 * 10, 13–15).
 *
 * What a stranger at /go can learn is nothing: an unknown account, an account without a
 * registration and a wrong PIN get the same status, code and message, after the same time.
 */
import type {
  AgentCheckinResponse,
  AgentEnrollRequest,
  AgentEnrollResponse,
  DeviceFacts,
  EnrollVerifyRequest,
  EnrollVerifyResponse,
  Platform,
  RegistrationChoice,
} from './api-types.ts';
import { auditEvent, type RequestOrigin } from './audit.ts';
import { type CertificateStore, installCommand } from './certificates.ts';
import { CHECK_IN_INTERVAL_S, type CommandStore, commandDetail, handOver } from './commands.ts';
import { type DeviceRecord, effectiveStatus } from './device.ts';
import { PortalError } from './errors.ts';
import { pinMatches, pinState } from './one-time-pin.ts';
import type {
  Clock,
  CounterKey,
  Counters,
  DeviceStore,
  DirectoryUser,
  Metrics,
  RandomSource,
  SecretHasher,
  SecretRecord,
  SettingsStore,
  Sleep,
  UserDirectory,
} from './ports.ts';
import { ConcurrentUpdateError } from './ports.ts';
import { hashesEqual, newDeviceCredential, newToken, parseDeviceCredential, sha256Hex } from './secrets.ts';
import type { PortalSettings } from './settings.ts';

export interface EnrollmentPorts {
  /** readCertificateSet: an enrolling device gets the user's certificates (issue 13.3). */
  store: DeviceStore & SettingsStore & Counters & Pick<CertificateStore, 'readCertificateSet'>;
  directory: UserDirectory;
  clock: Clock;
  random: RandomSource;
  hasher: SecretHasher;
  sleep: Sleep;
  metrics: Metrics;
}

/** What the agent's and the profile's routes need: no user directory, no PIN key. */
export type DevicePorts = Pick<EnrollmentPorts, 'clock' | 'random' | 'metrics'> & {
  store: EnrollmentPorts['store'] & CommandStore;
};

/** Failed /go sign-ins per account per day (NIST SP 800-63B §5.2.2). */
export const MAX_DAILY_FAILURES = 100;
/** How long the agent has to use its enrollment token. */
export const ENROLLMENT_TOKEN_MINUTES = 60;
/** How long the iOS profile link works; it is single use and carries no enrollment token. */
export const PROFILE_TOKEN_MINUTES = 10;
/**
 * Every refusal at /go answers no sooner than this after the request started, so the time does not
 * tell an unknown account (no table reads) from a wrong PIN (tries taken, audit written).
 */
export const FAILURE_FLOOR_MS = 500;

const DAY_MS = 24 * 3600_000;
const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_RACE_RETRIES = 5;

const windowEnd = (now: Date, size: number) => new Date(Math.floor(now.getTime() / size) * size + size);

/** The one refusal at /go for a wrong PIN or password, whatever the account's state (rule 15). */
export function badCredentials(proof: { password?: string | undefined }): PortalError {
  return proof.password !== undefined
    ? new PortalError(
        'UNAUTHORIZED',
        'BAD_CREDENTIALS',
        'The email or password is not right, or there is no registration waiting. Check them, or start one with Register device in the portal.',
      )
    : new PortalError(
        'UNAUTHORIZED',
        'BAD_CREDENTIALS',
        'The email or registration PIN is not right, or the PIN has expired or was used. Check them, or use Resend in the portal to get a new PIN.',
      );
}

const QR_INVALID = () =>
  new PortalError(
    'GONE',
    'QR_CODE_INVALID',
    'This QR code is damaged or old: generate a new one in the portal.',
  );

/** What proved the user: a PIN against a registration, or the directory password. */
export interface RegistrationProof {
  username: string;
  pin?: string | undefined;
  password?: string | undefined;
  qrToken?: string | undefined;
  /** The phone's platform, as the /go page sees it. */
  platform?: Platform | undefined;
  /** The registration the user picked when the password fitted several. */
  deviceId?: string | undefined;
}

const PLATFORM_NAME: Record<Platform, string> = { IOS: 'an iPhone or iPad', ANDROID: 'an Android device' };

/** The proof was right, but for a registration of the other platform: nothing is used up. */
const platformMismatch = (registered: Platform) =>
  new PortalError(
    'CONFLICT',
    'PLATFORM_MISMATCH',
    `This registration is for ${PLATFORM_NAME[registered]}. Open this page on that device; your PIN still works there.`,
  );

/** Who was proven, the registration they proved, and what the completing write must still match. */
interface Authenticated {
  user: DirectoryUser;
  deviceId: string;
  /** The PIN's HMAC that matched (the registration must still hold this very PIN), if by PIN. */
  pinHmac?: string;
  /** The QR token's hash: the completing write uses it up. */
  qrHash?: string;
}

async function takeAttempt(
  ports: Pick<EnrollmentPorts, 'store' | 'clock'>,
  settings: PortalSettings,
  origin: RequestOrigin,
): Promise<void> {
  const now = ports.clock.now();
  const windowEndsAt = windowEnd(now, QUARTER_HOUR_MS);
  const allowed = await ports.store.increment(
    { scope: `GO#${origin.sourceIp}`, name: 'ATTEMPTS', windowEndsAt },
    settings.goAttemptsPerAddress,
  );
  if (!allowed) {
    throw new PortalError(
      'RATE_LIMITED',
      'TOO_MANY_ATTEMPTS',
      'Too many registration attempts from this network. Wait a few minutes, then try again.',
      Math.ceil((windowEndsAt.getTime() - now.getTime()) / 1000),
    );
  }
}

/**
 * The day's failure counter of an account: by its sub when it exists, else by the name typed, so
 * an unknown account counts and stops exactly as a real one does.
 */
export function dailyFailures(clock: Clock, user: DirectoryUser | null, typedName: string): CounterKey {
  return {
    scope: user ? `USER#${user.sub}` : `GO#NAME#${sha256Hex(typedName.trim().toLowerCase())}`,
    name: 'GO_FAILURES',
    windowEndsAt: windowEnd(clock.now(), DAY_MS),
  };
}

/** A registration /go may complete: pending, not used, not expired. */
function isLive(device: DeviceRecord, now: Date): boolean {
  return (
    device.status === 'PENDING' &&
    !!device.registration &&
    !device.registration.usedAt &&
    effectiveStatus(device, now) === 'PENDING' &&
    Date.parse(device.registration.expiresAt) > now.getTime()
  );
}

/** The QR token's record, checked before any account is looked at (so it tells nothing about one). */
async function qrSecret(
  ports: Pick<EnrollmentPorts, 'store' | 'clock'>,
  qrToken: string,
): Promise<SecretRecord> {
  const secret = await ports.store.getSecret(sha256Hex(qrToken));
  if (secret?.kind !== 'QR' || secret.usedAt || Date.parse(secret.expiresAt) <= ports.clock.now().getTime()) {
    throw QR_INVALID();
  }
  return secret;
}

/**
 * Proves the user and picks the registration, without completing it: the caller's conditional
 * write completes it, so of two racing requests only one can. Every refusal here is the same one,
 * answered no sooner than FAILURE_FLOOR_MS after `startedAt`.
 */
async function authenticate(
  ports: EnrollmentPorts,
  settings: PortalSettings,
  proof: RegistrationProof,
  origin: RequestOrigin,
  startedAt: Date,
): Promise<Authenticated> {
  if ((proof.pin === undefined) === (proof.password === undefined)) {
    throw new PortalError(
      'INVALID',
      'PIN_OR_PASSWORD',
      'Enter either your registration PIN or your password.',
    );
  }
  if (proof.password !== undefined && !settings.registrationMethods.passwordAtGo) {
    throw new PortalError(
      'FORBIDDEN',
      'PASSWORD_NOT_ALLOWED',
      'This portal registers devices with a PIN only. Enter your registration PIN.',
    );
  }
  if (proof.qrToken !== undefined && !/^[A-Za-z0-9_-]{16,64}$/.test(proof.qrToken)) throw QR_INVALID();
  const qr = proof.qrToken ? await qrSecret(ports, proof.qrToken) : null;
  const typedName = proof.username.trim();
  // Email addresses are matched without regard to case: as typed first, then in lower case.
  const user =
    (await ports.directory.findUser(typedName)) ??
    (typedName !== typedName.toLowerCase() ? await ports.directory.findUser(typedName.toLowerCase()) : null);
  const account = user?.enabled ? user : null;

  // Every attempt takes a failure slot first and gives it back only on success, so concurrent
  // attempts cannot all slip past the cap before any of them is counted.
  const slot = dailyFailures(ports.clock, account, typedName);
  if (!(await ports.store.increment(slot, MAX_DAILY_FAILURES))) {
    throw new PortalError(
      'RATE_LIMITED',
      'TOO_MANY_FAILURES',
      'There were too many failed attempts on this account today. Use Resend in the portal for a new PIN, or call your helpdesk.',
      Math.ceil((slot.windowEndsAt.getTime() - ports.clock.now().getTime()) / 1000),
    );
  }
  const refuse = async (): Promise<never> => {
    await ports.sleep(new Date(startedAt.getTime() + FAILURE_FLOOR_MS));
    throw badCredentials(proof);
  };
  if (!account || (qr && qr.userSub !== account.sub)) return refuse();

  const now = ports.clock.now();
  const candidates = qr
    ? [await ports.store.getDevice(account.sub, qr.deviceId)].filter(
        (d): d is DeviceRecord =>
          !!d?.registration?.qrTokenHash && hashesEqual(d.registration.qrTokenHash, qr.hash),
      )
    : await ports.store.listDevices(account.sub);
  const live = candidates
    .filter((d) => isLive(d, now))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const succeeded = async (found: Omit<Authenticated, 'user' | 'qrHash'>): Promise<Authenticated> => {
    await ports.store.release(slot);
    return { user: account, ...found, ...(qr ? { qrHash: qr.hash } : {}) };
  };

  if (proof.password !== undefined) {
    // With a second factor on, the password alone proves nothing here: only the registration PIN
    // does. The same refusal as a wrong password, so /go does not tell who has a second factor.
    if (
      account.mfaEnabled ||
      live.length === 0 ||
      !(await ports.directory.checkPassword(account.username, proof.password))
    ) {
      return refuse();
    }
    // The password proves the account, not one registration: pick the one for this phone.
    const forPhone = proof.platform ? live.filter((d) => d.platform === proof.platform) : live;
    const chosen = proof.deviceId ? forPhone.find((d) => d.deviceId === proof.deviceId) : undefined;
    // A registration chosen that is not one of this phone's is not silently swapped for another.
    if (proof.deviceId && !chosen) return refuse();
    if (chosen || forPhone.length === 1) {
      return succeeded({ deviceId: (chosen ?? forPhone[0])?.deviceId ?? '' });
    }
    await ports.store.release(slot);
    const other = live[0];
    if (forPhone.length === 0 && other) throw platformMismatch(other.platform);
    const choices: RegistrationChoice[] = forPhone.map((d) => ({
      deviceId: d.deviceId,
      name: d.name ?? null,
      platform: d.platform,
      createdAt: d.createdAt,
    }));
    throw new PortalError(
      'CONFLICT',
      'CHOOSE_REGISTRATION',
      'You have several registrations waiting for this kind of device. Choose the one for this device.',
      undefined,
      undefined,
      { choices },
    );
  }

  // A try is taken on each live PIN before it is compared; only those with a try left are compared.
  const pin = proof.pin ?? '';
  const withPin = live.filter((d) => d.registration?.pin && pinState(d.registration.pin, now) === 'LIVE');
  const tried = await Promise.all(
    withPin.map(async (device) => {
      const stored = device.registration?.pin;
      if (!stored) return null;
      const version = await ports.store.takePinTry(
        device.userSub,
        device.deviceId,
        'registration',
        stored.hmac,
        now,
      );
      return version === null ? null : { device, stored };
    }),
  );
  for (const attempt of tried) {
    if (!attempt) continue;
    const owner = { userSub: attempt.device.userSub, deviceId: attempt.device.deviceId };
    if (await pinMatches(ports.hasher, 'REGISTRATION', owner, attempt.stored, pin)) {
      if (proof.platform && attempt.device.platform !== proof.platform) {
        // Checked before the PIN is used: on the right device it still works.
        await ports.store.release(slot);
        throw platformMismatch(attempt.device.platform);
      }
      return succeeded({ deviceId: attempt.device.deviceId, pinHmac: attempt.stored.hmac });
    }
  }
  ports.metrics.count('WrongPin');
  for (const attempt of tried) {
    if (!attempt) continue;
    // The try itself is already counted; this is the user's trail (shown in the portal).
    await ports.store.appendAudit(
      auditEvent(ports, origin, {
        userSub: attempt.device.userSub,
        deviceId: attempt.device.deviceId,
        action: 'REGISTRATION_PIN_REJECTED',
        result: 'FAILURE',
      }),
    );
  }
  return refuse();
}

/**
 * The registration as it is now, if the proof still holds for it: still live, and still the very
 * PIN (or QR code) that was proven — a resend or another device's success since means no.
 */
function stillProven(
  device: DeviceRecord | undefined,
  proven: Authenticated,
  now: Date,
): device is DeviceRecord {
  if (!device || !isLive(device, now) || !device.registration) return false;
  if (proven.pinHmac !== undefined) {
    const pin = device.registration.pin;
    if (!pin || pin.usedAt || !hashesEqual(pin.hmac, proven.pinHmac)) return false;
  }
  if (proven.qrHash !== undefined) {
    const qr = device.registration.qrTokenHash;
    if (!qr || !hashesEqual(qr, proven.qrHash)) return false;
  }
  return true;
}

const DEVICE_LIMIT = (count: number) =>
  new PortalError(
    'CONFLICT',
    'DEVICE_LIMIT_REACHED',
    `You already have ${count} devices registered or being registered, the most this portal allows. Retire one in the portal first.`,
  );

/** Devices that hold a place: active ones, and pending ones whose /go step handed out a live token. */
function placesTaken(devices: readonly DeviceRecord[], except: string, now: Date): number {
  return devices.filter((d) => {
    if (d.deviceId === except) return false;
    if (d.status === 'ACTIVE') return true;
    const until = Date.parse(d.registration?.enrollmentExpiresAt ?? '') || 0;
    return d.status === 'PENDING' && !!d.registration?.usedAt && until > now.getTime();
  }).length;
}

function storeUrl(settings: PortalSettings, enrollmentToken: string, origin: string): string {
  const base = settings.agentApp.androidStoreUrl;
  const referrer = `enrollmentToken=${enrollmentToken}&portal=${origin}`;
  return `${base}${base.includes('?') ? '&' : '?'}referrer=${encodeURIComponent(referrer)}`;
}

/** The origin links point at: the administrator's, else the deployment's (never a request header). */
export function linkOrigin(settings: PortalSettings, origin: RequestOrigin): string {
  return settings.publicOrigin || origin.origin;
}

/**
 * POST /api/enroll/verify: the /go page. Uses up the PIN (or password proof) and QR token; hands out
 * the iOS profile link (its own short single-use token) or, for Android, the enrollment token.
 */
export async function verifyAtGo(
  ports: EnrollmentPorts,
  request: EnrollVerifyRequest,
  origin: RequestOrigin,
): Promise<EnrollVerifyResponse> {
  const startedAt = ports.clock.now();
  const settings = await ports.store.getSettings();
  await takeAttempt(ports, settings, origin);
  const proven = await authenticate(ports, settings, request, origin, startedAt);
  const links = linkOrigin(settings, origin);
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const now = ports.clock.now();
    const { devices, lockVersion } = await ports.store.listDevicesForLimit(proven.user.sub);
    const device = devices.find((d) => d.deviceId === proven.deviceId);
    if (!stillProven(device, proven, now) || !device.registration) {
      await ports.sleep(new Date(startedAt.getTime() + FAILURE_FLOOR_MS));
      throw badCredentials(request);
    }
    const taken = placesTaken(devices, device.deviceId, now);
    if (taken >= settings.deviceLimitPerUser) throw DEVICE_LIMIT(taken);

    const ios = device.platform === 'IOS';
    const token = newToken(ports.random);
    const minutes = ios ? PROFILE_TOKEN_MINUTES : ENROLLMENT_TOKEN_MINUTES;
    const expiresAt = new Date(now.getTime() + minutes * 60_000).toISOString();
    const registration = device.registration;
    try {
      await ports.store.saveDevice({
        device: {
          ...device,
          registration: {
            ...registration,
            usedAt: now.toISOString(),
            ...(registration.pin && proven.pinHmac
              ? { pin: { ...registration.pin, usedAt: now.toISOString() } }
              : {}),
            ...(ios ? { profileTokenHash: token.hash } : { enrollmentTokenHash: token.hash }),
            enrollmentExpiresAt: expiresAt,
          },
        },
        expectedVersion: device.version,
        limitLock: { version: lockVersion },
        putSecrets: [
          {
            hash: token.hash,
            kind: ios ? 'PROFILE' : 'ENROLLMENT',
            userSub: device.userSub,
            deviceId: device.deviceId,
            expiresAt,
          },
        ],
        useSecrets: proven.qrHash ? [proven.qrHash] : [],
        audit: auditEvent(ports, origin, {
          userSub: device.userSub,
          deviceId: device.deviceId,
          action: 'REGISTRATION_VERIFIED',
          detail: request.pin !== undefined ? 'PIN at /go' : 'password at /go',
        }),
      });
    } catch (error) {
      if (error instanceof ConcurrentUpdateError) {
        ports.metrics.count('LostRace');
        continue; // someone else moved first: read again and decide again
      }
      throw error;
    }
    return {
      deviceId: device.deviceId,
      platform: device.platform,
      expiresAt,
      ...(ios
        ? {
            next: {
              kind: 'IOS_PROFILE',
              profileUrl: `${links}/api/enroll/profile?token=${token.token}`,
            } as const,
          }
        : {
            enrollmentToken: token.token,
            next: { kind: 'ANDROID_STORE', storeUrl: storeUrl(settings, token.token, links) } as const,
          }),
    };
  }
  throw BUSY();
}

const BUSY = () =>
  new PortalError('CONFLICT', 'BUSY', 'Several requests changed this registration at once. Try again.');

const ENROLLMENT_INVALID = () =>
  new PortalError(
    'UNAUTHORIZED',
    'ENROLLMENT_TOKEN_INVALID',
    'This enrollment link has expired or was already used. Open the /go page again.',
  );

/** A single-use token's record and its device, when both still say it is the live one. */
async function deviceForToken(
  ports: Pick<EnrollmentPorts, 'store' | 'clock'>,
  token: string,
  kind: 'ENROLLMENT' | 'PROFILE',
): Promise<{ device: DeviceRecord; hash: string }> {
  const hash = sha256Hex(token);
  const secret = await ports.store.getSecret(hash);
  if (secret?.kind !== kind || secret.usedAt) throw ENROLLMENT_INVALID();
  if (Date.parse(secret.expiresAt) <= ports.clock.now().getTime()) throw ENROLLMENT_INVALID();
  const device = await ports.store.getDevice(secret.userSub, secret.deviceId);
  if (device?.status !== 'PENDING') throw ENROLLMENT_INVALID();
  // A resend or cancel since /go replaced the registration: this token belongs to the old one.
  const current =
    kind === 'ENROLLMENT' ? device.registration?.enrollmentTokenHash : device.registration?.profileTokenHash;
  if (!current || !hashesEqual(current, hash)) throw ENROLLMENT_INVALID();
  return { device, hash };
}

const xml = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * GET /api/enroll/profile?token=…: the iOS enrollment profile. The link's token works once and for
 * minutes only (a log that kept the URL holds nothing usable); the enrollment token inside the
 * profile is minted now and is not in any URL.
 */
export async function enrollmentProfile(
  ports: DevicePorts,
  profileToken: string,
  origin: RequestOrigin,
): Promise<{ fileName: string; body: string }> {
  const settings = await ports.store.getSettings();
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const { device, hash } = await deviceForToken(ports, profileToken, 'PROFILE');
    if (!device.registration) throw ENROLLMENT_INVALID();
    const now = ports.clock.now();
    const enrollment = newToken(ports.random);
    const expiresAt = new Date(now.getTime() + ENROLLMENT_TOKEN_MINUTES * 60_000).toISOString();
    try {
      await ports.store.saveDevice({
        device: {
          ...device,
          registration: {
            ...device.registration,
            enrollmentTokenHash: enrollment.hash,
            enrollmentExpiresAt: expiresAt,
          },
        },
        expectedVersion: device.version,
        useSecrets: [hash],
        putSecrets: [
          {
            hash: enrollment.hash,
            kind: 'ENROLLMENT',
            userSub: device.userSub,
            deviceId: device.deviceId,
            expiresAt,
          },
        ],
      });
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      ports.metrics.count('LostRace');
      continue;
    }
    const links = linkOrigin(settings, origin);
    const payloadUuid = ports.random.uuid().toUpperCase();
    const profileUuid = ports.random.uuid().toUpperCase();
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadType</key><string>com.example.device-portal.enrollment</string>
      <key>PayloadIdentifier</key><string>com.example.device-portal.enrollment.${payloadUuid}</string>
      <key>PayloadUUID</key><string>${payloadUuid}</string>
      <key>PayloadVersion</key><integer>1</integer>
      <key>PayloadDisplayName</key><string>Device registration</string>
      <key>ServerURL</key><string>${xml(links)}/api/agent/enroll</string>
      <key>CheckInURL</key><string>${xml(links)}/api/agent/checkin</string>
      <key>EnrollmentToken</key><string>${xml(enrollment.token)}</string>
      <key>DeviceId</key><string>${xml(device.deviceId)}</string>
    </dict>
  </array>
  <key>PayloadDisplayName</key><string>${xml(settings.helpdesk.name || 'Device Portal')} enrollment</string>
  <key>PayloadDescription</key><string>Registers this device with your organisation's device portal.</string>
  <key>PayloadIdentifier</key><string>com.example.device-portal.${profileUuid}</string>
  <key>PayloadUUID</key><string>${profileUuid}</string>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadVersion</key><integer>1</integer>
  <key>PayloadRemovalDisallowed</key><false/>
</dict>
</plist>
`;
    return { fileName: 'enroll.mobileconfig', body };
  }
  throw BUSY();
}

function cleanFacts(facts: Partial<DeviceFacts>): Partial<DeviceFacts> {
  return Object.fromEntries(
    Object.entries(facts).filter(([, v]) => v !== undefined && v !== ''),
  ) as Partial<DeviceFacts>;
}

/** POST /api/agent/enroll: the device becomes Active and gets its credential (rule 5). */
export async function enrollAgent(
  ports: EnrollmentPorts,
  request: AgentEnrollRequest,
  origin: RequestOrigin,
): Promise<AgentEnrollResponse> {
  const startedAt = ports.clock.now();
  const settings = await ports.store.getSettings();
  if (!request.enrollmentToken && !(request.username && request.pin)) {
    throw new PortalError(
      'INVALID',
      'TOKEN_OR_PIN',
      'Send the enrollment token, or the user name and registration PIN.',
    );
  }
  let proven: { userSub: string; deviceId: string; tokenHash?: string; pin?: Authenticated };
  if (request.enrollmentToken) {
    const found = await deviceForToken(ports, request.enrollmentToken, 'ENROLLMENT');
    proven = { userSub: found.device.userSub, deviceId: found.device.deviceId, tokenHash: found.hash };
  } else {
    await takeAttempt(ports, settings, origin);
    const auth = await authenticate(
      ports,
      settings,
      { username: request.username ?? '', pin: request.pin },
      origin,
      startedAt,
    );
    proven = { userSub: auth.user.sub, deviceId: auth.deviceId, pin: auth };
  }
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const now = ports.clock.now();
    const [{ devices, lockVersion }, certificateSet] = await Promise.all([
      ports.store.listDevicesForLimit(proven.userSub),
      ports.store.readCertificateSet(proven.userSub),
    ]);
    const device = devices.find((d) => d.deviceId === proven.deviceId);
    const stillValid = proven.pin
      ? stillProven(device, proven.pin, now)
      : device?.status === 'PENDING' &&
        !!device.registration?.enrollmentTokenHash &&
        hashesEqual(device.registration.enrollmentTokenHash, proven.tokenHash ?? '');
    if (!device || !stillValid) {
      if (proven.pin) throw badCredentials({});
      throw ENROLLMENT_INVALID();
    }
    if (device.platform !== request.device.platform) {
      throw new PortalError(
        'INVALID',
        'PLATFORM_MISMATCH',
        `This registration is for ${device.platform === 'IOS' ? 'an iPhone or iPad' : 'an Android device'}. Register this device separately in the portal.`,
      );
    }
    const active = devices.filter((d) => d.status === 'ACTIVE' && d.deviceId !== device.deviceId).length;
    if (active >= settings.deviceLimitPerUser) throw DEVICE_LIMIT(active);
    const at = now.toISOString();
    const credential = newDeviceCredential(ports.random, device.userSub, device.deviceId);
    try {
      await ports.store.saveDevice({
        device: {
          ...device,
          status: 'ACTIVE',
          facts: { ...device.facts, ...cleanFacts(request.device) },
          registeredAt: at,
          lastCheckInAt: at,
          registration: null,
          credentialHash: credential.hash,
          ...(request.managementMode ? { managementMode: request.managementMode } : {}),
          ...(request.pushToken ? { pushToken: request.pushToken } : {}),
          ...(request.secureAppsContainer !== undefined
            ? { secureAppsContainer: request.secureAppsContainer }
            : {}),
        },
        expectedVersion: device.version,
        limitLock: { version: lockVersion },
        // The user's certificates, waiting for the new device's first check-in.
        certificateInstalls: {
          setVersion: certificateSet.setVersion,
          commands: certificateSet.certificates.map((c) => installCommand(ports, device, c, now)),
        },
        useSecrets: proven.tokenHash ? [proven.tokenHash] : proven.pin?.qrHash ? [proven.pin.qrHash] : [],
        audit: auditEvent(ports, origin, {
          userSub: device.userSub,
          deviceId: device.deviceId,
          action: 'DEVICE_ENROLLED',
          detail: [request.device.manufacturer, request.device.deviceType, request.device.osVersion]
            .filter(Boolean)
            .join(' '),
        }),
      });
    } catch (error) {
      if (error instanceof ConcurrentUpdateError) {
        ports.metrics.count('LostRace');
        continue;
      }
      throw error;
    }
    return { deviceId: device.deviceId, deviceCredential: credential.credential };
  }
  throw BUSY();
}

const CREDENTIAL_INVALID = () =>
  new PortalError(
    'UNAUTHORIZED',
    'DEVICE_CREDENTIAL_INVALID',
    'The device credential is missing or not valid. Enroll the device again.',
  );

/** The credential in an `Authorization: Device <credential>` header, checked for shape only (no read). */
function credentialOf(authorization: string | undefined) {
  const match = /^Device\s+(\S{1,200})$/i.exec(authorization ?? '');
  const parsed = match?.[1] ? parseDeviceCredential(match[1]) : null;
  if (!parsed) throw CREDENTIAL_INVALID();
  return parsed;
}

/** The device, if the credential is its own and it is still Active (rule 5: revoked on retire and wipe). */
function checkCredential(device: DeviceRecord | null | undefined, secretHash: string): DeviceRecord {
  if (!device?.credentialHash || !hashesEqual(device.credentialHash, secretHash)) throw CREDENTIAL_INVALID();
  if (device.status !== 'ACTIVE') {
    throw new PortalError(
      'FORBIDDEN',
      'DEVICE_NOT_ACTIVE',
      `This device is ${device.status.toLowerCase()}; its credential no longer works.`,
    );
  }
  return device;
}

/** The device behind an `Authorization: Device <credential>` header, or 401. */
export async function authenticateDevice(
  ports: Pick<DevicePorts, 'store'>,
  authorization: string | undefined,
): Promise<DeviceRecord> {
  const parsed = credentialOf(authorization);
  return checkCredential(await ports.store.getDevice(parsed.userSub, parsed.deviceId), parsed.secretHash);
}

/**
 * POST /api/agent/checkin: fresh facts, the last check-in time, and the waiting commands handed over
 * (QUEUED → SENT) in the same write. Two round trips: one Query reads the device and its commands.
 */
export async function checkIn(
  ports: DevicePorts,
  authorization: string | undefined,
  facts: Partial<DeviceFacts>,
  origin: RequestOrigin,
  reported: { pushToken?: string | undefined; secureAppsContainer?: boolean | undefined } = {},
): Promise<AgentCheckinResponse> {
  const parsed = credentialOf(authorization);
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const found = await ports.store.getDeviceWithCommands(parsed.userSub, parsed.deviceId);
    const device = checkCredential(found?.device, parsed.secretHash);
    if (facts.platform && facts.platform !== device.platform) {
      throw new PortalError(
        'INVALID',
        'PLATFORM_MISMATCH',
        'The platform of an enrolled device cannot change.',
      );
    }
    const now = ports.clock.now();
    const { sent, forAgent } = handOver(found?.commands ?? [], now);
    try {
      await ports.store.updateCommands({
        device: {
          record: {
            ...device,
            facts: { ...device.facts, ...cleanFacts(facts) },
            lastCheckInAt: now.toISOString(),
            ...(reported.pushToken ? { pushToken: reported.pushToken } : {}),
            ...(reported.secureAppsContainer !== undefined
              ? { secureAppsContainer: reported.secureAppsContainer }
              : {}),
          },
          expectedVersion: device.version,
        },
        commands: sent.map((command) => ({ command, from: 'QUEUED' as const })),
        audit: sent.map((command) =>
          auditEvent(ports, origin, {
            userSub: device.userSub,
            deviceId: device.deviceId,
            action: 'COMMAND_SENT',
            detail: commandDetail(command),
          }),
        ),
      });
      return {
        deviceId: device.deviceId,
        status: device.status,
        lastCheckInAt: now.toISOString(),
        commands: forAgent,
        ownership: device.ownership,
        checkInIntervalSeconds: CHECK_IN_INTERVAL_S,
      };
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      ports.metrics.count('LostRace'); // a cancel or an action came first: read again
    }
  }
  throw new PortalError('CONFLICT', 'BUSY', 'The device record is busy. Check in again in a moment.');
}
