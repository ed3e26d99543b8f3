/**
 * Registering a device from the portal (DESIGN §4, §5): a pending device with a PIN and/or QR
 * token and an invitation; resend replaces the secrets; cancel ends the registration.
 */
import type {
  CreateRegistrationRequest,
  DeliveryChannel,
  Ownership,
  RegistrationResponse,
  ResendRegistrationRequest,
} from './api-types.ts';
import { auditEvent, type RequestOrigin } from './audit.ts';
import { countsAgainstLimit, type DeviceRecord, effectiveStatus, toDeviceSummary } from './device.ts';
import { dailyFailures, linkOrigin } from './enrollment.ts';
import { PortalError } from './errors.ts';
import { sendInvitations } from './invitations.ts';
import { issuePin } from './one-time-pin.ts';
import { normalizeMobile } from './phone.ts';
import type {
  Caller,
  Clock,
  Counters,
  DeviceChange,
  DeviceStore,
  DirectoryUser,
  Mailer,
  Metrics,
  RandomSource,
  SecretHasher,
  SecretRecord,
  SettingsStore,
  SmsSender,
  UserDirectory,
} from './ports.ts';
import { ConcurrentUpdateError } from './ports.ts';
import { newToken } from './secrets.ts';
import type { PortalSettings } from './settings.ts';

export interface RegistrationPorts {
  store: DeviceStore & SettingsStore & Counters;
  directory: UserDirectory;
  mailer: Mailer;
  sms: SmsSender;
  clock: Clock;
  random: RandomSource;
  hasher: SecretHasher;
  metrics: Metrics;
  /** What the helpdesk may need later (a provider's refusal), never shown to the user. */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

const MAX_RACE_RETRIES = 5;

/** The number to text: the one typed (normalised to E.164), else the device's, else the profile's. */
async function smsNumber(
  settings: PortalSettings,
  typed: { phoneNumber?: string; phoneCountry?: string },
  ...fallbacks: (string | null | undefined)[]
): Promise<string | null> {
  if (typed.phoneNumber !== undefined && typed.phoneNumber.trim() !== '') {
    return normalizeMobile(typed.phoneNumber, typed.phoneCountry ?? settings.defaultCountry);
  }
  return fallbacks.find((n): n is string => typeof n === 'string' && n !== '') ?? null;
}

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

function windowEnd(now: Date, sizeMs: number): Date {
  return new Date(Math.floor(now.getTime() / sizeMs) * sizeMs + sizeMs);
}

export function goBaseUrl(settings: PortalSettings, origin: RequestOrigin): string {
  return `${linkOrigin(settings, origin)}/go`;
}

async function requireUser(directory: UserDirectory, caller: Caller): Promise<DirectoryUser> {
  const user = await directory.findUser(caller.username);
  if (!user?.enabled) {
    throw new PortalError('FORBIDDEN', 'USER_DISABLED', 'Your account is not active. Contact your helpdesk.');
  }
  return user;
}

/** Invitations per user per hour (rule 10): 429 with the seconds until the window closes. */
async function takeInvitationAllowance(ports: RegistrationPorts, settings: PortalSettings, caller: Caller) {
  const now = ports.clock.now();
  const windowEndsAt = windowEnd(now, HOUR_MS);
  const allowed = await ports.store.increment(
    { scope: `USER#${caller.sub}`, name: 'INVITATIONS', windowEndsAt },
    settings.invitationsPerUserPerHour,
  );
  if (!allowed) {
    const retryAfter = Math.ceil((windowEndsAt.getTime() - now.getTime()) / 1000);
    throw new PortalError(
      'RATE_LIMITED',
      'TOO_MANY_INVITATIONS',
      `You have asked for ${settings.invitationsPerUserPerHour} registrations or resends in the last hour. Try again in ${Math.ceil(retryAfter / 60)} minutes.`,
      retryAfter,
    );
  }
}

function checkDelivery(channels: readonly DeliveryChannel[], phoneNumber: string | null): void {
  if (channels.includes('SMS') && !phoneNumber) {
    throw new PortalError(
      'INVALID',
      'PHONE_NUMBER_REQUIRED',
      'To send the invitation by SMS, enter the mobile number to text.',
    );
  }
}

interface IssuedSecrets {
  registration: DeviceRecord['registration'];
  pin?: string;
  qrToken?: string;
  putSecrets: SecretRecord[];
}

/** New secrets for a registration: a PIN for PIN and QR (where PINs are on), a token for QR. */
async function issueSecrets(
  ports: RegistrationPorts,
  settings: PortalSettings,
  device: Pick<DeviceRecord, 'userSub' | 'deviceId'>,
  method: NonNullable<DeviceRecord['registration']>['method'],
): Promise<IssuedSecrets> {
  const now = ports.clock.now();
  const expiresAt = new Date(now.getTime() + settings.pinLifetimeMinutes * 60_000).toISOString();
  const withPin = method === 'PIN' || (method === 'QR' && settings.registrationMethods.pin);
  const pin = withPin
    ? await issuePin(ports, 'REGISTRATION', device, settings.pinLength, expiresAt)
    : undefined;
  const qr = method === 'QR' ? newToken(ports.random) : undefined;
  return {
    registration: {
      method,
      expiresAt,
      deliveries: [],
      ...(pin ? { pin: pin.stored } : {}),
      ...(qr ? { qrTokenHash: qr.hash } : {}),
    },
    pin: pin?.pin,
    qrToken: qr?.token,
    putSecrets: qr
      ? [{ hash: qr.hash, kind: 'QR', userSub: device.userSub, deviceId: device.deviceId, expiresAt }]
      : [],
  };
}

async function registrationResponse(
  device: DeviceRecord,
  secrets: IssuedSecrets,
  goUrl: string,
  now: Date,
): Promise<RegistrationResponse> {
  const response: RegistrationResponse = {
    device: toDeviceSummary(device, now),
    goUrl,
    expiresAt: device.registration?.expiresAt ?? now.toISOString(),
  };
  if (secrets.pin) response.pin = secrets.pin;
  if (secrets.qrToken) {
    // In the fragment: browsers never send it, so no CloudFront or API log can keep it (rule 14).
    const url = `${goUrl}#t=${secrets.qrToken}`;
    response.qr = {
      url,
      // Loaded on first use: the module (and its PNG encoder) costs cold-start time where no QR is drawn.
      svg: await (await import('qrcode')).default.toString(url, {
        type: 'svg',
        errorCorrectionLevel: 'M',
        margin: 2,
      }),
    };
  }
  return response;
}

/** Sends the invitation and records each channel's outcome on the device (rule 11: never lost). */
async function deliverAndRecord(
  ports: RegistrationPorts,
  settings: PortalSettings,
  device: DeviceRecord,
  channels: readonly DeliveryChannel[],
  user: DirectoryUser,
  phoneNumber: string | null,
  goUrl: string,
): Promise<DeviceRecord> {
  if (channels.length === 0 || !device.registration) return device;
  const smsWindow = windowEnd(ports.clock.now(), DAY_MS);
  const deliveries = await sendInvitations(
    {
      mailer: ports.mailer,
      sms: ports.sms,
      clock: ports.clock,
      takeSmsAllowance: () =>
        ports.store.increment(
          { scope: 'CONFIG', name: 'SMS', windowEndsAt: smsWindow },
          settings.smsPerDayCap,
        ),
      reportFailure: (channel, error) =>
        ports.log?.('Invitation delivery failed', {
          channel,
          deviceId: device.deviceId,
          providerError: error instanceof Error ? error.name : String(error),
        }),
    },
    settings,
    channels,
    {
      displayName: user.displayName,
      username: user.email,
      email: user.email,
      emailVerified: user.emailVerified,
      phoneNumber,
      platform: device.platform,
      goUrl,
      expiresAt: device.registration.expiresAt,
      withPin: device.registration.pin !== undefined,
      language: user.language || settings.defaultLanguage,
      timeZone: user.timeZone ?? settings.defaultTimeZone,
    },
  );
  const failed = deliveries.filter((d) => d.status === 'FAILED').length;
  if (failed > 0) ports.metrics.count('DeliveryFailed', failed);
  // What the caller is shown even if recording fails below: the one-time PIN is in this very
  // response, so a failed bookkeeping write must not turn it into an error and lose the PIN.
  const outcome: DeviceRecord = { ...device, registration: { ...device.registration, deliveries } };
  // The device may have moved on (a fast /go) since; record the outcome on what is there now.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const current = attempt === 0 ? device : await ports.store.getDevice(device.userSub, device.deviceId);
      if (!current?.registration) return outcome;
      const updated: DeviceRecord = { ...current, registration: { ...current.registration, deliveries } };
      await ports.store.saveDevice({ device: updated, expectedVersion: current.version });
      return { ...updated, version: current.version + 1 };
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) return outcome;
    }
  }
  return outcome;
}

function resolveOwnership(settings: PortalSettings, requested: Ownership | undefined): Ownership {
  if (requested === undefined || requested === settings.defaultOwnership) return settings.defaultOwnership;
  if (!settings.usersMayChooseOwnership) {
    throw new PortalError(
      'FORBIDDEN',
      'OWNERSHIP_NOT_ALLOWED',
      `Devices you register are ${settings.defaultOwnership === 'EMPLOYEE' ? 'Employee' : 'Company'}-owned; your administrator does not let you choose.`,
    );
  }
  return requested;
}

function checkMethodEnabled(settings: PortalSettings, method: CreateRegistrationRequest['method']): void {
  const methods = settings.registrationMethods;
  const enabled =
    method === 'PIN'
      ? methods.pin
      : method === 'QR'
        ? methods.qr && (methods.pin || methods.passwordAtGo)
        : methods.invitation && methods.passwordAtGo;
  if (!enabled) {
    const names = { PIN: 'Registration PINs', QR: 'QR codes', INVITATION: 'Invitations without a PIN' };
    throw new PortalError(
      'FORBIDDEN',
      'METHOD_DISABLED',
      `${names[method]} are turned off in this portal. Use another way offered under Register device.`,
    );
  }
}

const deviceLimitReached = (inUse: number) =>
  new PortalError(
    'CONFLICT',
    'DEVICE_LIMIT_REACHED',
    `You already have ${inUse} devices registered or pending, the most this portal allows. Retire or cancel one first.`,
  );

/** The user proved who they are in the portal: strangers' failed tries at /go no longer hold them back. */
async function forgiveGoFailures(ports: RegistrationPorts, user: DirectoryUser): Promise<void> {
  await ports.store.reset(dailyFailures(ports.clock, user, user.email));
}

export async function createRegistration(
  ports: RegistrationPorts,
  caller: Caller,
  request: CreateRegistrationRequest,
  origin: RequestOrigin,
): Promise<RegistrationResponse> {
  const [settings, user] = await Promise.all([
    ports.store.getSettings(),
    requireUser(ports.directory, caller),
  ]);
  checkMethodEnabled(settings, request.method);
  const ownership = resolveOwnership(settings, request.ownership);
  const phoneNumber = await smsNumber(settings, request, user.phoneNumber);
  checkDelivery(request.delivery, phoneNumber);
  const name = request.name?.trim() || null;
  let allowanceTaken = false;
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    // The count and the write are tied by the user's limit lock: of parallel creates that counted
    // the same devices, one writes and the others count again.
    const { devices, lockVersion } = await ports.store.listDevicesForLimit(caller.sub);
    const now = ports.clock.now();
    const inUse = devices.filter((d) => countsAgainstLimit(d, now)).length;
    if (inUse >= settings.deviceLimitPerUser) throw deviceLimitReached(inUse);
    if (!allowanceTaken) {
      await takeInvitationAllowance(ports, settings, caller);
      allowanceTaken = true;
    }
    const deviceId = ports.random.uuid();
    const secrets = await issueSecrets(ports, settings, { userSub: caller.sub, deviceId }, request.method);
    const device: DeviceRecord = {
      userSub: caller.sub,
      deviceId,
      ...(name ? { name } : {}),
      // Notices about this device go to the owner's address only once it is verified.
      ...(user.emailVerified ? { noticeEmail: user.email } : {}),
      status: 'PENDING',
      platform: request.platform,
      ownership,
      facts: { platform: request.platform, ...(phoneNumber ? { phoneNumber } : {}) },
      createdAt: now.toISOString(),
      registeredAt: null,
      lastCheckInAt: null,
      registration: secrets.registration,
      version: 1,
    };
    try {
      await ports.store.saveDevice({
        device,
        expectedVersion: null,
        limitLock: { version: lockVersion },
        putSecrets: secrets.putSecrets,
        audit: auditEvent(ports, origin, {
          userSub: caller.sub,
          deviceId,
          action: 'REGISTRATION_CREATED',
          detail: `${request.method} for ${request.platform}`,
        }),
      });
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      ports.metrics.count('LostRace');
      continue;
    }
    await forgiveGoFailures(ports, user);
    const goUrl = goBaseUrl(settings, origin);
    const delivered = await deliverAndRecord(
      ports,
      settings,
      device,
      request.delivery,
      user,
      phoneNumber,
      goUrl,
    );
    return registrationResponse(delivered, secrets, goUrl, now);
  }
  throw new PortalError('CONFLICT', 'BUSY', 'Several registrations were started at once. Try again.');
}

/** A change the user asked for; losing a race to another change is theirs to retry, knowingly. */
async function saveUserChange(ports: Pick<RegistrationPorts, 'store'>, change: DeviceChange): Promise<void> {
  try {
    await ports.store.saveDevice(change);
  } catch (error) {
    if (error instanceof ConcurrentUpdateError) {
      throw new PortalError(
        'CONFLICT',
        'REGISTRATION_CHANGED',
        'This registration changed meanwhile. Reload and try again.',
      );
    }
    throw error;
  }
}

/** The one-time tokens a registration handed out (QR, and the enrollment token of /go). */
function issuedSecretHashes(device: DeviceRecord): string[] {
  const registration = device.registration;
  return [
    registration?.qrTokenHash,
    registration?.profileTokenHash,
    registration?.enrollmentTokenHash,
  ].filter((h): h is string => Boolean(h));
}

async function requirePendingDevice(
  ports: Pick<RegistrationPorts, 'store' | 'clock'>,
  caller: Caller,
  deviceId: string,
): Promise<DeviceRecord> {
  const device = await ports.store.getDevice(caller.sub, deviceId);
  if (!device)
    throw new PortalError('NOT_FOUND', 'DEVICE_NOT_FOUND', 'There is no such device in your list.');
  const status = effectiveStatus(device, ports.clock.now());
  if (status !== 'PENDING' && status !== 'EXPIRED') {
    throw new PortalError(
      'CONFLICT',
      'NOT_PENDING',
      `This device is ${status.toLowerCase()}, so there is no registration to change.`,
    );
  }
  return device;
}

export async function resendRegistration(
  ports: RegistrationPorts,
  caller: Caller,
  deviceId: string,
  request: ResendRegistrationRequest,
  origin: RequestOrigin,
): Promise<RegistrationResponse> {
  const [settings, user, first] = await Promise.all([
    ports.store.getSettings(),
    requireUser(ports.directory, caller),
    requirePendingDevice(ports, caller, deviceId),
  ]);
  const method = first.registration?.method ?? 'PIN';
  checkMethodEnabled(settings, method);
  const channels = request.delivery ?? [
    ...new Set((first.registration?.deliveries ?? []).map((d) => d.channel)),
  ];
  const phoneNumber = await smsNumber(settings, request, first.facts.phoneNumber, user.phoneNumber);
  checkDelivery(channels, phoneNumber);
  await takeInvitationAllowance(ports, settings, caller);

  const { devices, lockVersion } = await ports.store.listDevicesForLimit(caller.sub);
  const device = devices.find((d) => d.deviceId === deviceId);
  const now = ports.clock.now();
  if (!device || !['PENDING', 'EXPIRED'].includes(effectiveStatus(device, now))) {
    throw new PortalError(
      'CONFLICT',
      'REGISTRATION_CHANGED',
      'This registration changed meanwhile. Reload and try again.',
    );
  }
  // An expired registration comes back to life: it takes a place again, so the limit applies.
  const others = devices.filter((d) => d.deviceId !== deviceId && countsAgainstLimit(d, now)).length;
  if (effectiveStatus(device, now) === 'EXPIRED' && others >= settings.deviceLimitPerUser) {
    throw deviceLimitReached(others);
  }
  const secrets = await issueSecrets(ports, settings, device, method);
  const renewed: DeviceRecord = {
    ...device,
    status: 'PENDING',
    facts: { ...device.facts, ...(phoneNumber ? { phoneNumber } : {}) },
    registration: secrets.registration,
  };
  await saveUserChange(ports, {
    device: renewed,
    expectedVersion: device.version,
    limitLock: { version: lockVersion },
    putSecrets: secrets.putSecrets,
    deleteSecrets: issuedSecretHashes(device),
    audit: auditEvent(ports, origin, { userSub: caller.sub, deviceId, action: 'REGISTRATION_RESENT' }),
  });
  await forgiveGoFailures(ports, user);
  const goUrl = goBaseUrl(settings, origin);
  const saved = { ...renewed, version: device.version + 1 };
  const delivered = await deliverAndRecord(ports, settings, saved, channels, user, phoneNumber, goUrl);
  return registrationResponse(delivered, secrets, goUrl, now);
}

/** What cancelling needs: the table, no mail, SMS or directory. */
export type CancelPorts = Pick<RegistrationPorts, 'store' | 'clock' | 'random'>;

export async function cancelRegistration(
  ports: CancelPorts,
  caller: Caller,
  deviceId: string,
  origin: RequestOrigin,
): Promise<DeviceRecord> {
  const device = await requirePendingDevice(ports, caller, deviceId);
  const cancelled: DeviceRecord = { ...device, status: 'CANCELLED', registration: null };
  await saveUserChange(ports, {
    device: cancelled,
    expectedVersion: device.version,
    deleteSecrets: issuedSecretHashes(device),
    audit: auditEvent(ports, origin, { userSub: caller.sub, deviceId, action: 'REGISTRATION_CANCELLED' }),
  });
  return { ...cancelled, version: device.version + 1 };
}

/**
 * DELETE /api/devices/{deviceId}: a cancelled registration leaves the list (its audit trail stays).
 * Devices that were in use are kept as the record of what happened to them.
 */
export async function removeDevice(
  ports: CancelPorts,
  caller: Caller,
  deviceId: string,
  origin: RequestOrigin,
): Promise<void> {
  const device = await ports.store.getDevice(caller.sub, deviceId);
  if (!device)
    throw new PortalError('NOT_FOUND', 'DEVICE_NOT_FOUND', 'There is no such device in your list.');
  if (device.status !== 'CANCELLED') {
    throw new PortalError(
      'CONFLICT',
      'NOT_REMOVABLE',
      'Only cancelled registrations can be removed. Cancel the registration first.',
    );
  }
  try {
    await ports.store.deleteDevice(
      device,
      device.version,
      auditEvent(ports, origin, { userSub: caller.sub, deviceId, action: 'DEVICE_REMOVED' }),
    );
  } catch (error) {
    if (error instanceof ConcurrentUpdateError) {
      throw new PortalError(
        'CONFLICT',
        'REGISTRATION_CHANGED',
        'This device changed meanwhile. Reload and try again.',
      );
    }
    throw error;
  }
}
