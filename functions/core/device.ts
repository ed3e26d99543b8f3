import type {
  DeviceFacts,
  DeviceStatus,
  DeviceSummary,
  InvitationDelivery,
  LockScreen,
  ManagementMode,
  Ownership,
  Platform,
  Position,
  RegistrationMethod,
  RegistrationStage,
} from './api-types.ts';
import { MAX_PIN_TRIES, type OneTimePin } from './one-time-pin.ts';

/** The registration part of a device item while it is pending. */
export interface RegistrationRecord {
  method: RegistrationMethod;
  /** ISO time. */
  expiresAt: string;
  /** The registration PIN (methods PIN, and QR where PINs are on); its tries are taken before comparing. */
  pin?: OneTimePin;
  /** sha256 of the QR token; a token whose hash is not this one no longer works. */
  qrTokenHash?: string;
  /** Set once the PIN or password has been used at /go; single use. */
  usedAt?: string;
  /** sha256 of the iOS profile link's token /go handed out (single use, minutes). */
  profileTokenHash?: string;
  /** sha256 of the enrollment token (from /go for Android, inside the profile for iOS); resend and cancel make it stop working. */
  enrollmentTokenHash?: string;
  /** Until when that token works: the registration stays pending (and counts) until then. */
  enrollmentExpiresAt?: string;
  deliveries: InvitationDelivery[];
}

/** The device item (pk USER#{sub}, sk DEVICE#{deviceId}). */
export interface DeviceRecord {
  userSub: string;
  deviceId: string;
  /** The user's own name for it; the agent's facts never overwrite it. */
  name?: string | null;
  status: DeviceStatus;
  platform: Platform;
  ownership: Ownership;
  facts: Partial<DeviceFacts>;
  createdAt: string;
  registeredAt: string | null;
  lastCheckInAt: string | null;
  registration: RegistrationRecord | null;
  /** Hash of the device credential (rule 5); absent until the agent enrolls, and after retire or wipe. */
  credentialHash?: string;
  /** How the device is managed, as the agent reported at enrollment. */
  managementMode?: ManagementMode;
  /** The APNs or FCM token the agent reported: wake-ups go there. */
  pushToken?: string;
  /** Lost mode is on (confirmed by the device): what its lock screen shows. */
  lostMode?: (LockScreen & { since: string }) | null;
  /** The last position a locate reported. */
  lastPosition?: Position;
  /** Where notices about this device go: the owner's verified email at registration. */
  noticeEmail?: string;
  /** The agent reported the secure-apps container (its passcode can be reset with a one-time PIN). */
  secureAppsContainer?: boolean;
  /** The one-time PIN for resetting the secure-apps passcode (rule 3); a new one replaces it. */
  secureAppsPin?: OneTimePin;
  /** The Entrust derived credential requested before registering (issue 12). */
  derivedCredential?: { status: 'REQUESTED' | 'FAILED'; at: string; name: string | null };
  /** Optimistic lock: every write checks and bumps it. */
  version: number;
}

/**
 * A pending registration past its expiry is EXPIRED, whatever TTL has done yet; one verified at
 * /go stays pending while the enrollment token it handed out still works.
 */
export function effectiveStatus(device: DeviceRecord, now: Date): DeviceStatus {
  const registration = device.registration;
  if (device.status !== 'PENDING' || !registration) return device.status;
  const enrollmentUntil = Date.parse(registration.enrollmentExpiresAt ?? '') || 0;
  // Once /go used the PIN, only the token it handed out keeps the registration alive.
  const until = registration.usedAt
    ? enrollmentUntil
    : Math.max(Date.parse(registration.expiresAt), enrollmentUntil);
  return until <= now.getTime() ? 'EXPIRED' : 'PENDING';
}

/** Where a pending or expired registration stands (api-types RegistrationStage). */
export function registrationStage(device: DeviceRecord, now: Date): RegistrationStage {
  const registration = device.registration;
  if (effectiveStatus(device, now) === 'EXPIRED' || !registration) return 'EXPIRED';
  const enrollmentUntil = Date.parse(registration.enrollmentExpiresAt ?? '') || 0;
  if (registration.usedAt && enrollmentUntil > now.getTime()) return 'VERIFIED';
  if (registration.pin && registration.pin.tries >= MAX_PIN_TRIES && !registration.pin.usedAt) {
    return 'PIN_LOCKED';
  }
  return 'WAITING_FOR_DEVICE';
}

/** `derivedCredentialOffered`: the administrator turned the Entrust derived credential on. */
export function toDeviceSummary(
  device: DeviceRecord,
  now: Date,
  derivedCredentialOffered = false,
): DeviceSummary {
  const status = effectiveStatus(device, now);
  const pending = status === 'PENDING' || status === 'EXPIRED';
  const stage = pending && device.registration ? registrationStage(device, now) : null;
  return {
    deviceId: device.deviceId,
    version: device.version,
    name: device.name ?? null,
    status,
    platform: device.platform,
    ownership: device.ownership,
    deviceType: device.facts.deviceType ?? null,
    manufacturer: device.facts.manufacturer ?? null,
    osVersion: device.facts.osVersion ?? null,
    phoneNumber: device.facts.phoneNumber ?? null,
    carrier: device.facts.carrier ?? null,
    imei: device.facts.imei ?? null,
    lastCheckInAt: device.lastCheckInAt,
    registeredAt: device.registeredAt,
    createdAt: device.createdAt,
    registration:
      pending && device.registration && stage
        ? {
            method: device.registration.method,
            stage,
            expiresAt: device.registration.expiresAt,
            enrollmentExpiresAt:
              stage === 'VERIFIED' ? (device.registration.enrollmentExpiresAt ?? null) : null,
            canResend: stage !== 'VERIFIED',
            deliveries: device.registration.deliveries,
          }
        : null,
    canRemove: status === 'CANCELLED',
    derivedCredential: {
      status: device.derivedCredential?.status ?? 'NONE',
      at: device.derivedCredential?.at ?? null,
      name: device.derivedCredential?.name ?? null,
      canRequest:
        derivedCredentialOffered && status === 'PENDING' && device.derivedCredential?.status !== 'REQUESTED',
    },
  };
}

/** Devices the user still has or is registering: they count against the device limit. */
export function countsAgainstLimit(device: DeviceRecord, now: Date): boolean {
  const status = effectiveStatus(device, now);
  return status === 'ACTIVE' || status === 'PENDING';
}

/** "Work Pixel", "Pixel 9" or "Android device": how a device is named to its owner. */
export function deviceTitleOf(device: Pick<DeviceRecord, 'name' | 'facts' | 'platform'>): string {
  return (
    device.name ||
    device.facts.deviceType ||
    (device.platform === 'IOS' ? 'iPhone or iPad' : 'Android device')
  );
}
