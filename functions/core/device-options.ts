/**
 * Issue 12: change a device's ownership, reset the secure-apps passcode with a one-time PIN, and
 * request an Entrust derived credential before registering. Each sits on the device page and the
 * one availability rule of device-actions.ts; the secure-apps PIN uses the registration PIN's module.
 */
import type { Role } from '../routes.ts';
import type {
  DerivedCredentialComplete,
  DerivedCredentialCompleted,
  DerivedCredentialStart,
  DeviceDetailResponse,
  OwnershipRequest,
  RenameRequest,
  SecureAppsPasscodeResponse,
} from './api-types.ts';
import { auditEvent, type RequestOrigin } from './audit.ts';
import { type CommandStore, getDeviceDetail, ownershipChangeFor } from './commands.ts';
import { type DeviceRecord, deviceTitleOf, effectiveStatus } from './device.ts';
import { actionBlocker } from './device-actions.ts';
import { linkOrigin } from './enrollment.ts';
import { PortalError } from './errors.ts';
import { issuePin, pinMatches, pinState } from './one-time-pin.ts';
import type {
  Caller,
  Clock,
  Counters,
  DeviceStore,
  Metrics,
  RandomSource,
  SecretHasher,
  SettingsStore,
  UserDirectory,
} from './ports.ts';
import { ConcurrentUpdateError } from './ports.ts';
import { hashesEqual, newToken, sha256Hex } from './secrets.ts';
import { derivedCredentialOffered, type PortalSettings } from './settings.ts';

export interface DeviceOptionPorts {
  store: DeviceStore & CommandStore & SettingsStore & Counters;
  clock: Clock;
  random: RandomSource;
  hasher: SecretHasher;
  metrics: Metrics;
}

/** Rule 4: the derived-credential state is single use and lives 15 minutes. */
export const DERIVED_CREDENTIAL_STATE_MINUTES = 15;
const PIN_DIGITS = 8;
const MAX_RACE_RETRIES = 5;

const NOT_FOUND = () =>
  new PortalError('NOT_FOUND', 'DEVICE_NOT_FOUND', 'There is no such device in your list.');

async function requireDevice(ports: Pick<DeviceOptionPorts, 'store'>, caller: Caller, deviceId: string) {
  const device = await ports.store.getDevice(caller.sub, deviceId);
  if (!device) throw NOT_FOUND();
  return device;
}

/**
 * PUT /api/devices/{deviceId}/ownership: on the version the user saw. Two changes at once: one
 * wins, the other is told someone changed it first. The agent hears the new ownership at its next
 * check-in, and what the actions allow follows from it (the answer is the re-evaluated device page).
 */
export async function changeOwnership(
  ports: DeviceOptionPorts,
  caller: Caller & { roles: Role[] },
  deviceId: string,
  request: OwnershipRequest,
  origin: RequestOrigin,
): Promise<DeviceDetailResponse> {
  const [settings, device] = await Promise.all([
    ports.store.getSettings(),
    requireDevice(ports, caller, deviceId),
  ]);
  const change = ownershipChangeFor(caller.roles, settings, device);
  if (!change.allowed) {
    throw new PortalError(
      'FORBIDDEN',
      'OWNERSHIP_LOCKED',
      change.reason ?? 'The ownership of this device cannot change.',
    );
  }
  const changedMeanwhile = () =>
    new PortalError(
      'CONFLICT',
      'OWNERSHIP_CHANGED',
      'This device was changed meanwhile (perhaps in another tab). The page now shows it as it is: choose again.',
    );
  if (device.version !== request.version) throw changedMeanwhile();
  if (device.ownership !== request.ownership) {
    try {
      await ports.store.saveDevice({
        device: { ...device, ownership: request.ownership },
        expectedVersion: request.version,
        audit: auditEvent(ports, origin, {
          userSub: caller.sub,
          deviceId,
          action: 'OWNERSHIP_CHANGED',
          detail: `${device.ownership} → ${request.ownership}`,
        }),
      });
    } catch (error) {
      if (error instanceof ConcurrentUpdateError) throw changedMeanwhile();
      throw error;
    }
  }
  return getDeviceDetail(ports, caller, deviceId, settings);
}

/**
 * PUT /api/devices/{deviceId}/name: the user's own label, so the last rename wins; a write that
 * loses to a check-in or another change of the device reads it again and goes again. The settings
 * are the ones the shared stack read for this request.
 */
export async function renameDevice(
  ports: DeviceOptionPorts,
  caller: Caller & { roles: Role[] },
  deviceId: string,
  request: RenameRequest,
  origin: RequestOrigin,
  settings: PortalSettings,
): Promise<DeviceDetailResponse> {
  const name = request.name.trim() || null;
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const device = await requireDevice(ports, caller, deviceId);
    if ((device.name ?? null) === name) return getDeviceDetail(ports, caller, deviceId, settings);
    const titled = (label: string | null) => `“${deviceTitleOf({ ...device, name: label })}”`;
    try {
      await ports.store.saveDevice({
        device: { ...device, name },
        expectedVersion: device.version,
        audit: auditEvent(ports, origin, {
          userSub: caller.sub,
          deviceId,
          action: 'DEVICE_RENAMED',
          detail: `${titled(device.name ?? null)} → ${titled(name)}`,
        }),
      });
      return getDeviceDetail(ports, caller, deviceId, settings);
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
    }
  }
  throw new PortalError('CONFLICT', 'BUSY', 'The device changed several times meanwhile. Try again.');
}

/**
 * POST /api/devices/{deviceId}/secure-apps-passcode: a one-time PIN (rule 3), shown once; a new one
 * replaces the old, which then stops working.
 */
export async function resetSecureAppsPasscode(
  ports: DeviceOptionPorts,
  caller: Caller & { roles: Role[] },
  deviceId: string,
  origin: RequestOrigin,
): Promise<SecureAppsPasscodeResponse> {
  const settings = await ports.store.getSettings();
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const device = await requireDevice(ports, caller, deviceId);
    const reason = actionBlocker('SECURE_APPS_PASSCODE', {
      device,
      roles: caller.roles,
      settings,
      waiting: [],
    });
    if (reason)
      throw new PortalError(
        reason.code === 'ROLE_REQUIRED' ? 'FORBIDDEN' : 'CONFLICT',
        reason.code,
        reason.message,
      );
    const now = ports.clock.now();
    const expiresAt = new Date(now.getTime() + settings.secureAppsPinLifetimeMinutes * 60_000).toISOString();
    const { pin, stored } = await issuePin(ports, 'SECURE_APPS', device, PIN_DIGITS, expiresAt);
    try {
      await ports.store.saveDevice({
        device: { ...device, secureAppsPin: stored },
        expectedVersion: device.version,
        audit: auditEvent(ports, origin, { userSub: caller.sub, deviceId, action: 'SECURE_APPS_PIN_ISSUED' }),
      });
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      ports.metrics.count('LostRace');
      continue;
    }
    return { pin, expiresAt };
  }
  throw new PortalError('CONFLICT', 'BUSY', 'The device changed several times meanwhile. Try again.');
}

/** The one refusal of the agent's check, for a wrong, used, expired or locked PIN or a wrong user. */
const SECURE_APPS_REFUSED = () =>
  new PortalError(
    'UNAUTHORIZED',
    'BAD_CREDENTIALS',
    'The user name or one-time PIN is not right, or the PIN has expired or was used. Get a new one in the portal.',
  );

/**
 * POST /api/agent/secure-apps-passcode/verify (device credential): the user name and the one-time
 * PIN, for that user and that device only. A try is taken before the comparison (so parallel guesses
 * cannot exceed five); the right PIN works once.
 */
export async function verifySecureAppsPasscode(
  ports: DeviceOptionPorts & { directory: UserDirectory },
  device: DeviceRecord,
  request: { username: string; pin: string },
  origin: RequestOrigin,
): Promise<{ verified: true }> {
  const typed = request.username.trim();
  const user =
    (await ports.directory.findUser(typed)) ??
    (typed !== typed.toLowerCase() ? await ports.directory.findUser(typed.toLowerCase()) : null);
  const stored = device.secureAppsPin;
  const now = ports.clock.now();
  if (!user?.enabled || user.sub !== device.userSub || !stored || pinState(stored, now) !== 'LIVE') {
    throw SECURE_APPS_REFUSED();
  }
  const tried = await ports.store.takePinTry(device.userSub, device.deviceId, 'secureApps', stored.hmac, now);
  if (tried === null) throw SECURE_APPS_REFUSED();
  if (!(await pinMatches(ports.hasher, 'SECURE_APPS', device, stored, request.pin))) {
    ports.metrics.count('WrongPin');
    // The owner's trail shows the refused guess, as it does a wrong registration PIN at /go.
    await ports.store.appendAudit(
      auditEvent(ports, origin, {
        userSub: device.userSub,
        deviceId: device.deviceId,
        action: 'SECURE_APPS_PIN_REJECTED',
        result: 'FAILURE',
      }),
    );
    throw SECURE_APPS_REFUSED();
  }
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const current = await ports.store.getDevice(device.userSub, device.deviceId);
    const pin = current?.secureAppsPin;
    // Still this very PIN, unused: of two right guesses racing, only one finds it so.
    if (!current || !pin || pin.usedAt || !hashesEqual(pin.hmac, stored.hmac)) throw SECURE_APPS_REFUSED();
    try {
      await ports.store.saveDevice({
        device: { ...current, secureAppsPin: { ...pin, usedAt: ports.clock.now().toISOString() } },
        expectedVersion: current.version,
        audit: auditEvent(ports, origin, {
          userSub: device.userSub,
          deviceId: device.deviceId,
          action: 'SECURE_APPS_PIN_USED',
        }),
      });
      return { verified: true };
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      ports.metrics.count('LostRace');
    }
  }
  throw SECURE_APPS_REFUSED();
}

/**
 * POST /api/devices/{deviceId}/derived-credential: the address of the administrator's Entrust
 * self-service module with a state (rule 4: 128 bits, single use, 15 minutes, bound to the user and
 * the device) and the portal's own return address.
 */
export async function startDerivedCredential(
  ports: DeviceOptionPorts,
  caller: Caller,
  deviceId: string,
  origin: RequestOrigin,
): Promise<DerivedCredentialStart> {
  const [settings, device] = await Promise.all([
    ports.store.getSettings(),
    requireDevice(ports, caller, deviceId),
  ]);
  if (!derivedCredentialOffered(settings)) {
    throw new PortalError(
      'FORBIDDEN',
      'DERIVED_CREDENTIAL_OFF',
      'Derived credentials are not offered in this portal.',
    );
  }
  const now = ports.clock.now();
  if (effectiveStatus(device, now) !== 'PENDING') {
    throw new PortalError(
      'CONFLICT',
      'NOT_PENDING',
      'A derived credential is requested before the device registers: start a registration first.',
    );
  }
  if (device.derivedCredential?.status === 'REQUESTED') {
    throw new PortalError(
      'CONFLICT',
      'ALREADY_REQUESTED',
      'A derived credential was already requested for this device.',
    );
  }
  const state = newToken(ports.random);
  const expiresAt = new Date(now.getTime() + DERIVED_CREDENTIAL_STATE_MINUTES * 60_000).toISOString();
  await ports.store.saveDevice({
    device,
    expectedVersion: device.version,
    putSecrets: [{ hash: state.hash, kind: 'DERIVED_CREDENTIAL', userSub: caller.sub, deviceId, expiresAt }],
    audit: auditEvent(ports, origin, { userSub: caller.sub, deviceId, action: 'DERIVED_CREDENTIAL_STARTED' }),
  });
  // Built from the setting, never from the request: the browser can only ever be sent there.
  const target = new URL(settings.derivedCredential.entrustUrl);
  target.searchParams.set('state', state.token);
  target.searchParams.set('return', `${linkOrigin(settings, origin)}/derived-credential`);
  return { redirectUrl: target.toString(), expiresAt };
}

const STATE_INVALID = () =>
  new PortalError(
    'GONE',
    'STATE_INVALID',
    'This return from Entrust is old, was used already, or belongs to another sign-in. Request the derived credential again from the device card.',
  );

/** POST /api/derived-credential/complete: uses the state up and records the outcome on the device. */
export async function completeDerivedCredential(
  ports: DeviceOptionPorts,
  caller: Caller,
  request: DerivedCredentialComplete,
  origin: RequestOrigin,
): Promise<DerivedCredentialCompleted> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(request.state)) throw STATE_INVALID();
  const hash = sha256Hex(request.state);
  const secret = await ports.store.getSecret(hash);
  const now = ports.clock.now();
  if (
    secret?.kind !== 'DERIVED_CREDENTIAL' ||
    secret.usedAt ||
    Date.parse(secret.expiresAt) <= now.getTime() ||
    secret.userSub !== caller.sub
  ) {
    throw STATE_INVALID();
  }
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const device = await ports.store.getDevice(caller.sub, secret.deviceId);
    if (!device) throw STATE_INVALID();
    const status = request.result === 'SUCCESS' ? 'REQUESTED' : 'FAILED';
    try {
      await ports.store.saveDevice({
        device: {
          ...device,
          derivedCredential: { status, at: now.toISOString(), name: request.credentialName?.trim() || null },
        },
        expectedVersion: device.version,
        useSecrets: [hash],
        audit: auditEvent(ports, origin, {
          userSub: caller.sub,
          deviceId: device.deviceId,
          action: status === 'REQUESTED' ? 'DERIVED_CREDENTIAL_REQUESTED' : 'DERIVED_CREDENTIAL_FAILED',
          result: status === 'REQUESTED' ? 'SUCCESS' : 'FAILURE',
        }),
      });
      return { deviceId: device.deviceId, status };
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      // Either the state was used meanwhile (then it is refused next round) or the device moved on.
      const again = await ports.store.getSecret(hash);
      if (again?.usedAt) throw STATE_INVALID();
    }
  }
  throw STATE_INVALID();
}
