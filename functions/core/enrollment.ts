/**
 * Completing a registration on the device: the /go page (PIN or password, optional QR token),
 * the iOS enrollment profile, the agent's enrollment and its check-ins (DESIGN §4, §8 rules 1, 2, 5, 10).
 */
import type {
  AgentCheckinResponse,
  AgentEnrollResponse,
  DeviceFacts,
  EnrollVerifyRequest,
  EnrollVerifyResponse,
} from './api-types.ts';
import { auditEvent, type RequestOrigin } from './audit.ts';
import { type DeviceRecord, effectiveStatus } from './device.ts';
import { PortalError } from './errors.ts';
import type {
  Clock,
  Counters,
  DeviceStore,
  DirectoryUser,
  RandomSource,
  SettingsStore,
  UserDirectory,
} from './ports.ts';
import { ConcurrentUpdateError } from './ports.ts';
import {
  hashesEqual,
  newDeviceCredential,
  newToken,
  parseDeviceCredential,
  pinMatches,
  sha256Hex,
} from './secrets.ts';
import type { PortalSettings } from './settings.ts';

export interface EnrollmentPorts {
  store: DeviceStore & SettingsStore & Counters;
  directory: UserDirectory;
  clock: Clock;
  random: RandomSource;
}

/** What the agent's own routes need: no user directory. */
export type DevicePorts = Omit<EnrollmentPorts, 'directory'>;

/** Wrong PINs that invalidate a registration (rule 1). */
export const MAX_PIN_ATTEMPTS = 5;
/** Failed /go sign-ins per account per day (NIST SP 800-63B §5.2.2). */
export const MAX_DAILY_FAILURES = 100;
/** How long the agent has to use its enrollment token. */
export const ENROLLMENT_TOKEN_MINUTES = 60;

const DAY_MS = 24 * 3600_000;
const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_RACE_RETRIES = 5;

const windowEnd = (now: Date, size: number) => new Date(Math.floor(now.getTime() / size) * size + size);

const BAD_CREDENTIALS = () =>
  new PortalError(
    'UNAUTHORIZED',
    'BAD_CREDENTIALS',
    'The email, PIN or password is not right. Check them and try again.',
  );

/** What proved the user: a PIN against one registration, or the directory password. */
export interface RegistrationProof {
  username: string;
  pin?: string;
  password?: string;
  qrToken?: string;
}

interface Authenticated {
  user: DirectoryUser;
  device: DeviceRecord;
  /** Secrets the completing write must use up (the QR token). */
  useSecrets: string[];
}

async function takeAttempt(
  ports: EnrollmentPorts,
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

function dailyFailures(ports: EnrollmentPorts, user: DirectoryUser) {
  return {
    scope: `USER#${user.sub}`,
    name: 'GO_FAILURES',
    windowEndsAt: windowEnd(ports.clock.now(), DAY_MS),
  };
}

const PIN_USED = () =>
  new PortalError(
    'GONE',
    'PIN_USED',
    'This PIN was already used. Use Resend in the portal to get a new one.',
  );
const PIN_LOCKED = () =>
  new PortalError(
    'GONE',
    'PIN_LOCKED',
    `The PIN was entered wrongly ${MAX_PIN_ATTEMPTS} times and no longer works. Use Resend in the portal to get a new one.`,
  );
const REGISTRATION_ENDED = () =>
  new PortalError('GONE', 'NO_PENDING_REGISTRATION', 'This registration is finished or was cancelled.');

/** Why none of these registrations can take a PIN or password, for the first of them, or none pending. */
function noLiveRegistration(candidates: readonly DeviceRecord[], now: Date): PortalError {
  const first = candidates[0];
  return (
    (first ? pinBlocker(first, now) : null) ??
    new PortalError(
      'NOT_FOUND',
      'NO_PENDING_REGISTRATION',
      'You have no registration waiting. Start one with Register device in the portal.',
    )
  );
}

/** Why a registration cannot take a PIN now, or null when it can. */
function pinBlocker(device: DeviceRecord, now: Date): PortalError | null {
  const registration = device.registration;
  if (!registration) return REGISTRATION_ENDED();
  if (registration.usedAt) return PIN_USED();
  if (registration.failedAttempts >= MAX_PIN_ATTEMPTS) return PIN_LOCKED();
  if (effectiveStatus(device, now) === 'EXPIRED') {
    return new PortalError(
      'GONE',
      'PIN_EXPIRED',
      'This registration has expired. Use Resend in the portal to get a new PIN.',
    );
  }
  if (device.status !== 'PENDING') return REGISTRATION_ENDED();
  return null;
}

async function recordWrongPin(
  ports: EnrollmentPorts,
  devices: DeviceRecord[],
  origin: RequestOrigin,
): Promise<number> {
  let fewestLeft = MAX_PIN_ATTEMPTS;
  for (const device of devices) {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const current = attempt === 0 ? device : await ports.store.getDevice(device.userSub, device.deviceId);
      if (!current?.registration || pinBlocker(current, ports.clock.now())) break;
      const failedAttempts = current.registration.failedAttempts + 1;
      try {
        await ports.store.saveDevice({
          device: {
            ...current,
            registration: { ...current.registration, failedAttempts },
            version: current.version + 1,
          },
          expectedVersion: current.version,
          audit: auditEvent(ports, origin, {
            userSub: current.userSub,
            deviceId: current.deviceId,
            action: 'REGISTRATION_PIN_REJECTED',
            result: 'FAILURE',
            detail: `wrong PIN ${failedAttempts} of ${MAX_PIN_ATTEMPTS}`,
          }),
        });
        fewestLeft = Math.min(fewestLeft, MAX_PIN_ATTEMPTS - failedAttempts);
        break;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError)) throw error;
      }
    }
  }
  return fewestLeft;
}

async function deviceForQrToken(ports: EnrollmentPorts, user: DirectoryUser, qrToken: string) {
  const hash = sha256Hex(qrToken);
  const secret = await ports.store.getSecret(hash);
  const invalid = new PortalError(
    'GONE',
    'QR_CODE_INVALID',
    'This QR code has expired or was already used. Generate a new one in the portal.',
  );
  if (secret?.kind !== 'QR' || secret.userSub !== user.sub) throw invalid;
  if (secret.usedAt || Date.parse(secret.expiresAt) <= ports.clock.now().getTime()) throw invalid;
  const device = await ports.store.getDevice(user.sub, secret.deviceId);
  if (!device?.registration?.qrTokenHash || !hashesEqual(device.registration.qrTokenHash, hash))
    throw invalid;
  return { device, hash };
}

/**
 * Proves the user and picks the registration, without completing it: the caller's conditional
 * write completes it, so of two racing requests only one can.
 */
async function authenticate(
  ports: EnrollmentPorts,
  settings: PortalSettings,
  proof: RegistrationProof,
  origin: RequestOrigin,
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
  const user = await ports.directory.findUser(proof.username.trim());
  if (!user?.enabled) throw BAD_CREDENTIALS();
  // Every attempt takes a failure slot first and gives it back only on success, so concurrent
  // attempts cannot all slip past the cap before any of them is counted.
  const slot = dailyFailures(ports, user);
  if (!(await ports.store.increment(slot, MAX_DAILY_FAILURES))) {
    throw new PortalError(
      'RATE_LIMITED',
      'TOO_MANY_FAILURES',
      'There were too many failed attempts on this account today. Try again tomorrow or call your helpdesk.',
      Math.ceil((slot.windowEndsAt.getTime() - ports.clock.now().getTime()) / 1000),
    );
  }
  const succeeded = async (authenticated: Authenticated): Promise<Authenticated> => {
    await ports.store.release(slot);
    return authenticated;
  };
  const now = ports.clock.now();
  const byQr = proof.qrToken ? await deviceForQrToken(ports, user, proof.qrToken) : null;
  const candidates = byQr
    ? [byQr.device]
    : (await ports.store.listDevices(user.sub)).filter((d) => d.status === 'PENDING' && d.registration);
  const useSecrets = byQr ? [byQr.hash] : [];

  if (proof.password !== undefined) {
    if (!(await ports.directory.checkPassword(user.username, proof.password))) throw BAD_CREDENTIALS();
    const live = candidates
      .filter((d) => pinBlocker(d, now) === null)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const device = live[0];
    if (!device) throw noLiveRegistration(candidates, now);
    return succeeded({ user, device, useSecrets });
  }

  const pin = proof.pin ?? '';
  const withPin = candidates.filter((d) => d.registration?.pin);
  const matching = withPin.find((d) => d.registration?.pin && pinMatches(d.registration.pin, pin));
  if (matching) {
    const blocked = pinBlocker(matching, now);
    if (blocked) throw blocked;
    return succeeded({ user, device: matching, useSecrets });
  }
  const live = withPin.filter((d) => pinBlocker(d, now) === null);
  if (live.length === 0) throw noLiveRegistration(withPin, now);
  const left = await recordWrongPin(ports, live, origin);
  if (left <= 0) throw PIN_LOCKED();
  throw new PortalError(
    'UNAUTHORIZED',
    'WRONG_PIN',
    `That PIN is not right. ${left} ${left === 1 ? 'try' : 'tries'} left before it stops working.`,
  );
}

async function checkDeviceLimit(
  ports: Pick<EnrollmentPorts, 'store'>,
  settings: PortalSettings,
  userSub: string,
): Promise<void> {
  const active = (await ports.store.listDevices(userSub)).filter((d) => d.status === 'ACTIVE').length;
  if (active >= settings.deviceLimitPerUser) {
    throw new PortalError(
      'CONFLICT',
      'DEVICE_LIMIT_REACHED',
      `You already have ${active} active devices, the most this portal allows. Retire one in the portal first.`,
    );
  }
}

/** POST /api/enroll/verify: the /go page. Uses up the PIN and QR token; hands out an enrollment token. */
export async function verifyAtGo(
  ports: EnrollmentPorts,
  request: EnrollVerifyRequest,
  origin: RequestOrigin,
): Promise<EnrollVerifyResponse> {
  const settings = await ports.store.getSettings();
  await takeAttempt(ports, settings, origin);
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const { user, device, useSecrets } = await authenticate(ports, settings, request, origin);
    await checkDeviceLimit(ports, settings, user.sub);
    const now = ports.clock.now();
    const enrollment = newToken(ports.random);
    const expiresAt = new Date(now.getTime() + ENROLLMENT_TOKEN_MINUTES * 60_000).toISOString();
    if (!device.registration) throw PIN_USED();
    try {
      await ports.store.saveDevice({
        device: {
          ...device,
          registration: {
            ...device.registration,
            usedAt: now.toISOString(),
            enrollmentTokenHash: enrollment.hash,
            enrollmentExpiresAt: expiresAt,
          },
          version: device.version + 1,
        },
        expectedVersion: device.version,
        putSecrets: [
          {
            hash: enrollment.hash,
            kind: 'ENROLLMENT',
            userSub: user.sub,
            deviceId: device.deviceId,
            expiresAt,
          },
        ],
        useSecrets,
        audit: auditEvent(ports, origin, {
          userSub: user.sub,
          deviceId: device.deviceId,
          action: 'REGISTRATION_VERIFIED',
          detail: request.pin !== undefined ? 'PIN at /go' : 'password at /go',
        }),
      });
    } catch (error) {
      if (error instanceof ConcurrentUpdateError) continue; // someone else moved first: decide again
      throw error;
    }
    const next =
      device.platform === 'IOS'
        ? ({
            kind: 'IOS_PROFILE',
            profileUrl: `${origin.origin}/api/enroll/profile?token=${enrollment.token}`,
          } as const)
        : ({
            kind: 'ANDROID_STORE',
            storeUrl: `${settings.agentApp.androidStoreUrl}${settings.agentApp.androidStoreUrl.includes('?') ? '&' : '?'}referrer=${encodeURIComponent(`enrollmentToken=${enrollment.token}&portal=${origin.origin}`)}`,
          } as const);
    return {
      deviceId: device.deviceId,
      platform: device.platform,
      enrollmentToken: enrollment.token,
      expiresAt,
      next,
    };
  }
  throw PIN_USED();
}

async function deviceForEnrollmentToken(ports: DevicePorts, token: string) {
  const hash = sha256Hex(token);
  const secret = await ports.store.getSecret(hash);
  const invalid = new PortalError(
    'UNAUTHORIZED',
    'ENROLLMENT_TOKEN_INVALID',
    'This enrollment link has expired or was already used. Open the /go page again.',
  );
  if (secret?.kind !== 'ENROLLMENT' || secret.usedAt) throw invalid;
  if (Date.parse(secret.expiresAt) <= ports.clock.now().getTime()) throw invalid;
  const device = await ports.store.getDevice(secret.userSub, secret.deviceId);
  if (device?.status !== 'PENDING') throw invalid;
  // A resend or cancel since /go replaced the registration: this token belongs to the old one.
  const current = device.registration?.enrollmentTokenHash;
  if (!current || !hashesEqual(current, hash)) throw invalid;
  return { device, hash };
}

/** GET /api/enroll/profile: the iOS enrollment profile for an unused enrollment token. */
export async function enrollmentProfile(
  ports: DevicePorts,
  token: string,
  origin: RequestOrigin,
): Promise<{ fileName: string; body: string }> {
  const { device } = await deviceForEnrollmentToken(ports, token);
  if (device.platform !== 'IOS') {
    throw new PortalError(
      'INVALID',
      'NOT_IOS',
      'Enrollment profiles are for iPhone and iPad; Android uses the agent app.',
    );
  }
  const settings = await ports.store.getSettings();
  const xml = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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
      <key>ServerURL</key><string>${xml(origin.origin)}/api/agent/enroll</string>
      <key>CheckInURL</key><string>${xml(origin.origin)}/api/agent/checkin</string>
      <key>EnrollmentToken</key><string>${xml(token)}</string>
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

function cleanFacts(facts: Partial<DeviceFacts>): Partial<DeviceFacts> {
  return Object.fromEntries(
    Object.entries(facts).filter(([, v]) => v !== undefined && v !== ''),
  ) as Partial<DeviceFacts>;
}

/** POST /api/agent/enroll: the device becomes Active and gets its credential (rule 5). */
export async function enrollAgent(
  ports: EnrollmentPorts,
  request: { enrollmentToken?: string; username?: string; pin?: string; device: DeviceFacts },
  origin: RequestOrigin,
): Promise<AgentEnrollResponse> {
  const settings = await ports.store.getSettings();
  if (!request.enrollmentToken && !(request.username && request.pin)) {
    throw new PortalError(
      'INVALID',
      'TOKEN_OR_PIN',
      'Send the enrollment token, or the user name and registration PIN.',
    );
  }
  if (!request.enrollmentToken) await takeAttempt(ports, settings, origin);
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    let device: DeviceRecord;
    let useSecrets: string[];
    if (request.enrollmentToken) {
      const found = await deviceForEnrollmentToken(ports, request.enrollmentToken);
      // Checked again here: other devices may have become active since /go handed out the token.
      await checkDeviceLimit(ports, settings, found.device.userSub);
      device = found.device;
      useSecrets = [found.hash];
    } else {
      const proof = { username: request.username ?? '', pin: request.pin ?? '' };
      const found = await authenticate(ports, settings, proof, origin);
      await checkDeviceLimit(ports, settings, found.user.sub);
      device = found.device;
      useSecrets = found.useSecrets;
    }
    if (device.platform !== request.device.platform) {
      throw new PortalError(
        'INVALID',
        'PLATFORM_MISMATCH',
        `This registration is for ${device.platform === 'IOS' ? 'an iPhone or iPad' : 'an Android device'}. Register this device separately in the portal.`,
      );
    }
    const now = ports.clock.now().toISOString();
    const credential = newDeviceCredential(ports.random, device.userSub, device.deviceId);
    try {
      await ports.store.saveDevice({
        device: {
          ...device,
          status: 'ACTIVE',
          facts: { ...device.facts, ...cleanFacts(request.device) },
          registeredAt: now,
          lastCheckInAt: now,
          registration: null,
          credentialHash: credential.hash,
          version: device.version + 1,
        },
        expectedVersion: device.version,
        useSecrets,
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
        if (request.enrollmentToken) {
          throw new PortalError(
            'UNAUTHORIZED',
            'ENROLLMENT_TOKEN_INVALID',
            'This enrollment link was already used. Open the /go page again.',
          );
        }
        continue;
      }
      throw error;
    }
    return { deviceId: device.deviceId, deviceCredential: credential.credential };
  }
  throw PIN_USED();
}

/** The device behind an `Authorization: Device <credential>` header, or 401. */
export async function authenticateDevice(
  ports: DevicePorts,
  authorization: string | undefined,
): Promise<DeviceRecord> {
  const unauthorized = new PortalError(
    'UNAUTHORIZED',
    'DEVICE_CREDENTIAL_INVALID',
    'The device credential is missing or not valid. Enroll the device again.',
  );
  const match = /^Device\s+(\S+)$/i.exec(authorization ?? '');
  const parsed = match?.[1] ? parseDeviceCredential(match[1]) : null;
  if (!parsed) throw unauthorized;
  const device = await ports.store.getDevice(parsed.userSub, parsed.deviceId);
  if (!device?.credentialHash || !hashesEqual(device.credentialHash, parsed.secretHash)) throw unauthorized;
  if (device.status !== 'ACTIVE') {
    throw new PortalError(
      'FORBIDDEN',
      'DEVICE_NOT_ACTIVE',
      `This device is ${device.status.toLowerCase()}; its credential no longer works.`,
    );
  }
  return device;
}

/** POST /api/agent/checkin: fresh facts and the last check-in time. */
export async function checkIn(
  ports: DevicePorts,
  authorization: string | undefined,
  facts: Partial<DeviceFacts>,
): Promise<AgentCheckinResponse> {
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const device = await authenticateDevice(ports, authorization);
    if (facts.platform && facts.platform !== device.platform) {
      throw new PortalError(
        'INVALID',
        'PLATFORM_MISMATCH',
        'The platform of an enrolled device cannot change.',
      );
    }
    const now = ports.clock.now().toISOString();
    try {
      await ports.store.saveDevice({
        device: {
          ...device,
          facts: { ...device.facts, ...cleanFacts(facts) },
          lastCheckInAt: now,
          version: device.version + 1,
        },
        expectedVersion: device.version,
      });
      return { deviceId: device.deviceId, status: device.status, lastCheckInAt: now, commands: [] };
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
    }
  }
  throw new PortalError('CONFLICT', 'BUSY', 'The device record is busy. Check in again in a moment.');
}
