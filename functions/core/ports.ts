/** The ports use-cases receive, so they are tested without module mocking. */
import type { CommandRecord } from './commands.ts';
import type { DeviceRecord } from './device.ts';
import type { PortalSettings } from './settings.ts';

export interface Clock {
  now(): Date;
}

/** Waits until a moment (e.g. so every failed sign-in at /go answers after the same time). */
export type Sleep = (until: Date) => Promise<void>;

/** What the operator's dashboards and alarms count (CloudWatch, namespace DevicePortal). */
export type MetricName = 'WrongPin' | 'RateLimited' | 'LostRace' | 'DeliveryFailed' | 'ServiceUnavailable';

export interface Metrics {
  count(name: MetricName, value?: number): void;
}

/**
 * A keyed hash for one-time secrets (HMAC-SHA-256 with a key the table does not hold, rule 14):
 * a copy of the table alone cannot be used to try all 10^8 PINs offline.
 */
export interface SecretHasher {
  /** Hex HMAC of the parts joined; the parts name what the secret is for, so it cannot be replayed elsewhere. */
  hash(...parts: string[]): Promise<string>;
}

export interface RandomSource {
  /** Cryptographically random bytes. */
  bytes(count: number): Uint8Array;
  /** A string of `length` decimal digits, uniformly drawn from a CSPRNG. */
  digits(length: number): string;
  uuid(): string;
}

export interface DirectoryUser {
  sub: string;
  username: string;
  email: string;
  displayName: string;
  phoneNumber: string | null;
  language: string;
  /** IANA time zone from the profile (zoneinfo), if set. */
  timeZone: string | null;
  /** Invitations go only to a verified address: an unverified one may not be the user's. */
  emailVerified: boolean;
  enabled: boolean;
  /** An authenticator app (TOTP) is the user's second sign-in factor (AdminGetUser's UserMFASettingList). */
  mfaEnabled: boolean;
}

/** The profile attributes a user may change through the portal (PATCH /api/me). */
export interface ProfileChange {
  name?: string;
  /** E.164. */
  phone_number?: string;
  locale?: string;
}

export interface UserDirectory {
  /** By user name or email; null when there is no such user. */
  findUser(usernameOrEmail: string): Promise<DirectoryUser | null>;
  /** True when the password is the user's current one (the /go page's password option). */
  checkPassword(username: string, password: string): Promise<boolean>;
  /** AdminUpdateUserAttributes with the attributes that are set. */
  updateAttributes(username: string, change: ProfileChange): Promise<void>;
}

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
}

export interface SmsSender {
  send(phoneNumber: string, message: string): Promise<void>;
}

export interface SettingsStore {
  getSettings(): Promise<PortalSettings>;
}

/** The signed-in user making a request, from the verified token. */
export interface Caller {
  sub: string;
  username: string;
  groups: string[];
  /** Seconds since the epoch of the last sign-in (auth_time). */
  authTime: number;
}

/** One line of the user's audit trail; written in the same transaction as the change it records. */
export interface AuditEvent {
  id: string;
  userSub: string;
  deviceId: string;
  action: string;
  result: 'SUCCESS' | 'FAILURE';
  detail?: string;
  sourceIp: string;
  userAgent: string;
  at: string;
}

export type SecretKind = 'QR' | 'ENROLLMENT' | 'PROFILE' | 'DERIVED_CREDENTIAL';

/** A one-time token as stored under SECRET#{sha256(token)}. */
export interface SecretRecord {
  hash: string;
  kind: SecretKind;
  userSub: string;
  deviceId: string;
  expiresAt: string;
  usedAt?: string;
}

/** The write lost a race: another request changed the item first. Re-read and decide again. */
export class ConcurrentUpdateError extends Error {
  override readonly name = 'ConcurrentUpdateError';
}

export interface DeviceChange {
  device: DeviceRecord;
  /** The version read; the write fails with ConcurrentUpdateError if it changed since. */
  expectedVersion: number | null;
  putSecrets?: SecretRecord[];
  deleteSecrets?: string[];
  /** Marks these secrets used; fails if one was used already or has expired. */
  useSecrets?: string[];
  audit?: AuditEvent;
  /**
   * The version of the user's device-limit lock read with the devices that were counted: the write
   * fails with ConcurrentUpdateError if another write that adds or activates a device came first.
   */
  limitLock?: { version: number | null };
  /**
   * An activation's installs of the user's certificates: the write fails with ConcurrentUpdateError
   * if the set of certificates changed since `setVersion` was read.
   */
  certificateInstalls?: { setVersion: number | null; commands: CommandRecord[] };
}

/** Which one-time PIN of a device a try is taken on. */
export type PinSlot = 'registration' | 'secureApps';

export interface DeviceStore {
  listDevices(userSub: string): Promise<DeviceRecord[]>;
  /** The devices, read consistently, with the version of the user's device-limit lock. */
  listDevicesForLimit(userSub: string): Promise<{ devices: DeviceRecord[]; lockVersion: number | null }>;
  /**
   * Takes one try of the PIN in `slot` by a single conditional write, before any comparison: only
   * while that PIN (same HMAC) is unused, unexpired and has tries left. Bumps the device's version.
   * The device's new version, or null when no try was left to take.
   */
  takePinTry(
    userSub: string,
    deviceId: string,
    slot: PinSlot,
    hmac: string,
    now: Date,
  ): Promise<number | null>;
  getDevice(userSub: string, deviceId: string): Promise<DeviceRecord | null>;
  /** Writes the device (bumping its version), its secrets and its audit event in one transaction. */
  saveDevice(change: DeviceChange): Promise<void>;
  getSecret(hash: string): Promise<SecretRecord | null>;
  /** An audit event that records no state change of its own (e.g. a refused PIN). */
  appendAudit(event: AuditEvent): Promise<void>;
  /** Deletes the device item if it still has `expectedVersion`, with its audit event, in one transaction. */
  deleteDevice(device: DeviceRecord, expectedVersion: number, audit: AuditEvent): Promise<void>;
}

/** Fixed-window counters for rate limits and spend caps. */
export interface Counters {
  /** Adds one unless the count has reached `limit`; false when it had. */
  increment(key: CounterKey, limit: number): Promise<boolean>;
  /** Gives back one taken with increment (never below zero). */
  release(key: CounterKey): Promise<void>;
  /** Sets the counter back to zero (e.g. after the user proved who they are). */
  reset(key: CounterKey): Promise<void>;
}

export interface CounterKey {
  scope: string;
  name: string;
  /** When the window closes; the counter item expires then. */
  windowEndsAt: Date;
}
