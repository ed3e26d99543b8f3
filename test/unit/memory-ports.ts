/**
 * In-memory ports for testing the use-cases in functions/core directly: a store with the same
 * conditional-write semantics as PortalTable (version check, single-use secrets), a directory,
 * a recording mailer and SMS sender, a settable clock and a scripted random source.
 */
import type { DeviceRecord } from '../../functions/core/device.ts';
import type { EnrollmentPorts } from '../../functions/core/enrollment.ts';
import {
  type AuditEvent,
  type Clock,
  ConcurrentUpdateError,
  type CounterKey,
  type Counters,
  type DeviceChange,
  type DeviceStore,
  type DirectoryUser,
  type OutgoingEmail,
  type SecretRecord,
  type SettingsStore,
  type UserDirectory,
} from '../../functions/core/ports.ts';
import type { RegistrationPorts } from '../../functions/core/registration.ts';
import { defaultSettings, type PortalSettings } from '../../functions/core/settings.ts';
import { ALICE_EMAIL, ALICE_SUB, NOW } from './fixtures.ts';
import { fakeRandom } from './portal-mocks.ts';

export class MemoryStore implements DeviceStore, SettingsStore, Counters {
  settings: PortalSettings = defaultSettings();
  readonly devices = new Map<string, DeviceRecord>();
  readonly secrets = new Map<string, SecretRecord>();
  readonly counters = new Map<string, number>();
  readonly audit: AuditEvent[] = [];

  constructor(private readonly clock: Clock) {}

  async getSettings(): Promise<PortalSettings> {
    return structuredClone(this.settings);
  }

  async listDevices(userSub: string): Promise<DeviceRecord[]> {
    return [...this.devices.values()].filter((d) => d.userSub === userSub).map((d) => structuredClone(d));
  }

  async getDevice(userSub: string, deviceId: string): Promise<DeviceRecord | null> {
    const device = this.devices.get(`${userSub}|${deviceId}`);
    return device ? structuredClone(device) : null;
  }

  device(deviceId: string): DeviceRecord | undefined {
    return [...this.devices.values()].find((d) => d.deviceId === deviceId);
  }

  async saveDevice(change: DeviceChange): Promise<void> {
    const key = `${change.device.userSub}|${change.device.deviceId}`;
    const current = this.devices.get(key);
    const now = this.clock.now().toISOString();
    const lost =
      change.expectedVersion === null ? current !== undefined : current?.version !== change.expectedVersion;
    if (lost) throw new ConcurrentUpdateError('version');
    for (const hash of change.useSecrets ?? []) {
      const secret = this.secrets.get(hash);
      if (!secret || secret.usedAt || secret.expiresAt <= now) throw new ConcurrentUpdateError('secret');
    }
    for (const secret of change.putSecrets ?? []) {
      if (this.secrets.has(secret.hash)) throw new ConcurrentUpdateError('secret exists');
    }
    this.devices.set(key, structuredClone({ ...change.device, version: (change.expectedVersion ?? 0) + 1 }));
    for (const secret of change.putSecrets ?? []) this.secrets.set(secret.hash, structuredClone(secret));
    for (const hash of change.deleteSecrets ?? []) this.secrets.delete(hash);
    for (const hash of change.useSecrets ?? []) {
      const secret = this.secrets.get(hash);
      if (secret) secret.usedAt = now;
    }
    if (change.audit) this.audit.push(change.audit);
  }

  async getSecret(hash: string): Promise<SecretRecord | null> {
    const secret = this.secrets.get(hash);
    return secret ? structuredClone(secret) : null;
  }

  private counterKey(key: CounterKey): string {
    return `${key.scope}|${key.name}|${key.windowEndsAt.toISOString()}`;
  }

  // Synchronous between read and write, as DynamoDB's conditional ADD is atomic.
  async increment(key: CounterKey, limit: number): Promise<boolean> {
    const id = this.counterKey(key);
    const count = this.counters.get(id) ?? 0;
    if (count >= limit) return false;
    this.counters.set(id, count + 1);
    return true;
  }

  async release(key: CounterKey): Promise<void> {
    const id = this.counterKey(key);
    this.counters.set(id, Math.max(0, (this.counters.get(id) ?? 0) - 1));
  }
}

export const ALICE: DirectoryUser = {
  sub: ALICE_SUB,
  username: ALICE_SUB,
  email: ALICE_EMAIL,
  displayName: 'Alice Martin',
  phoneNumber: '+15555550101',
  language: 'en',
  emailVerified: true,
  enabled: true,
};

export class MemoryDirectory implements UserDirectory {
  readonly users: DirectoryUser[] = [ALICE];
  readonly passwords = new Map<string, string>([[ALICE_SUB, 'correct horse']]);

  async findUser(usernameOrEmail: string): Promise<DirectoryUser | null> {
    return this.users.find((u) => u.username === usernameOrEmail || u.email === usernameOrEmail) ?? null;
  }

  async checkPassword(username: string, password: string): Promise<boolean> {
    return this.passwords.get(username) === password;
  }
}

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  private at = NOW.getTime();
  now(): Date {
    return new Date(this.at);
  }
  advanceMinutes(minutes: number): void {
    this.at += minutes * 60_000;
  }
}

export function memoryPorts(pins: string[] = []) {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const directory = new MemoryDirectory();
  const emails: OutgoingEmail[] = [];
  const texts: { to: string; message: string }[] = [];
  const random = fakeRandom(pins);
  const registration: RegistrationPorts = {
    store,
    directory,
    clock,
    random,
    mailer: {
      send: async (email) => {
        emails.push(email);
      },
    },
    sms: {
      send: async (to, message) => {
        texts.push({ to, message });
      },
    },
  };
  const enrollment: EnrollmentPorts = { store, directory, clock, random };
  return { clock, store, directory, emails, texts, random, registration, enrollment };
}
