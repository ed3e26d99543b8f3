/**
 * In-memory ports for testing the use-cases in functions/core directly: a store with the same
 * conditional-write semantics as PortalTable (version check, single-use secrets, the device-limit
 * lock, PIN tries taken by one conditional step, the certificate set's version), a directory, a
 * recording mailer and SMS sender, a settable clock, a scripted random source, a real HMAC hasher
 * with a fixed test key, a sleep that records what it was asked to wait for, metrics that record
 * their counts, and a key vault that really encrypts and records what it sealed and opened.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { parseCertificateFile } from '../../functions/core/certificate-file.ts';
import type {
  CertificateChange,
  CertificatePorts,
  CertificateRecord,
  CertificateState,
  CertificateStore,
  KeyVault,
  SealedKey,
} from '../../functions/core/certificates.ts';
import type {
  CommandPorts,
  CommandRecord,
  CommandStore,
  CommandsChange,
} from '../../functions/core/commands.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import type { DevicePorts, EnrollmentPorts } from '../../functions/core/enrollment.ts';
import { MAX_PIN_TRIES } from '../../functions/core/one-time-pin.ts';
import {
  type AuditEvent,
  type Clock,
  ConcurrentUpdateError,
  type CounterKey,
  type Counters,
  type DeviceChange,
  type DeviceStore,
  type DirectoryUser,
  type MetricName,
  type Metrics,
  type OutgoingEmail,
  type PinSlot,
  type ProfileChange,
  type SecretHasher,
  type SecretRecord,
  type SettingsStore,
  type Sleep,
  type UserDirectory,
} from '../../functions/core/ports.ts';
import type { RegistrationPorts } from '../../functions/core/registration.ts';
import { defaultSettings, type PortalSettings } from '../../functions/core/settings.ts';
import { ALICE_EMAIL, ALICE_SUB, NOW, ONE_TIME_SECRET_KEY } from './fixtures.ts';
import { fakeRandom } from './portal-mocks.ts';

export class MemoryStore implements DeviceStore, SettingsStore, Counters, CommandStore, CertificateStore {
  /** Commands by id; each names its device. */
  readonly commands = new Map<string, CommandRecord>();
  /** Certificates by `${userSub}|${certificateId}`. */
  readonly certificates = new Map<string, CertificateRecord>();
  /** userSub → version of the user's set of certificates. */
  readonly certificateSets = new Map<string, { version: number; count: number }>();

  settings: PortalSettings = defaultSettings();
  readonly devices = new Map<string, DeviceRecord>();
  readonly secrets = new Map<string, SecretRecord>();
  readonly counters = new Map<string, number>();
  readonly audit: AuditEvent[] = [];
  /** userSub → version of the user's device-limit lock (absent until a write carries limitLock). */
  readonly limitLocks = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async getSettings(): Promise<PortalSettings> {
    return structuredClone(this.settings);
  }

  async listDevices(userSub: string): Promise<DeviceRecord[]> {
    return [...this.devices.values()].filter((d) => d.userSub === userSub).map((d) => structuredClone(d));
  }

  async listDevicesForLimit(
    userSub: string,
  ): Promise<{ devices: DeviceRecord[]; lockVersion: number | null }> {
    return { devices: await this.listDevices(userSub), lockVersion: this.limitLocks.get(userSub) ?? null };
  }

  // Synchronous between check and write, as the conditional UpdateItem is atomic.
  async takePinTry(
    userSub: string,
    deviceId: string,
    slot: PinSlot,
    hmac: string,
    now: Date,
  ): Promise<number | null> {
    const device = this.devices.get(`${userSub}|${deviceId}`);
    const pin = slot === 'registration' ? device?.registration?.pin : device?.secureAppsPin;
    if (!device || !pin) return null;
    if (pin.hmac !== hmac || pin.tries >= MAX_PIN_TRIES || pin.usedAt) return null;
    if (Date.parse(pin.expiresAt) <= now.getTime()) return null;
    pin.tries += 1;
    device.version += 1;
    return device.version;
  }

  async getDeviceWithCommands(
    userSub: string,
    deviceId: string,
  ): Promise<{ device: DeviceRecord; commands: CommandRecord[] } | null> {
    const device = await this.getDevice(userSub, deviceId);
    if (!device) return null;
    const commands = [...this.commands.values()]
      .filter((c) => c.userSub === userSub && c.deviceId === deviceId)
      .map((c) => structuredClone(c));
    return { device, commands };
  }

  // Checks every condition before writing anything, as a transaction does.
  async putCommand(device: DeviceRecord, command: CommandRecord, audit: AuditEvent): Promise<void> {
    const key = `${device.userSub}|${device.deviceId}`;
    const current = this.devices.get(key);
    if (
      this.commands.has(command.commandId) ||
      current?.version !== device.version ||
      current.status !== 'ACTIVE'
    ) {
      throw new ConcurrentUpdateError('device or command changed');
    }
    this.devices.set(key, { ...current, version: current.version + 1 });
    this.commands.set(command.commandId, structuredClone(command));
    this.audit.push(audit);
  }

  async updateCommands(change: CommandsChange): Promise<void> {
    const delivery = change.certificateDelivery;
    const certificate = delivery
      ? this.certificates.get(`${delivery.userSub}|${delivery.certificateId}`)
      : undefined;
    if (delivery && certificate?.fingerprintSha256 !== delivery.fingerprintSha256) {
      throw new ConcurrentUpdateError('certificate');
    }
    if (change.device) {
      const current = this.devices.get(`${change.device.record.userSub}|${change.device.record.deviceId}`);
      if (current?.version !== change.device.expectedVersion) throw new ConcurrentUpdateError('version');
    }
    for (const { command, from } of change.commands) {
      if (this.commands.get(command.commandId)?.status !== from) throw new ConcurrentUpdateError('command');
    }
    if (change.device) {
      const { record, expectedVersion } = change.device;
      this.devices.set(
        `${record.userSub}|${record.deviceId}`,
        structuredClone({ ...record, version: expectedVersion + 1 }),
      );
    }
    for (const { command } of change.commands) this.commands.set(command.commandId, structuredClone(command));
    if (delivery && certificate)
      certificate.deliveries[delivery.deviceId] = structuredClone(delivery.delivery);
    this.audit.push(...change.audit);
  }

  private certificatesOf(userSub: string): CertificateRecord[] {
    return [...this.certificates.values()]
      .filter((c) => c.userSub === userSub)
      .map((c) => structuredClone(c));
  }

  private commandsOf(userSub: string): CommandRecord[] {
    return [...this.commands.values()].filter((c) => c.userSub === userSub).map((c) => structuredClone(c));
  }

  async readCertificateState(userSub: string): Promise<CertificateState> {
    return {
      certificates: this.certificatesOf(userSub),
      setVersion: this.certificateSets.get(userSub)?.version ?? null,
      devices: await this.listDevices(userSub),
      commands: this.commandsOf(userSub),
      lockVersion: this.limitLocks.get(userSub) ?? null,
    };
  }

  async listCertificatesWithDevices(userSub: string) {
    return {
      certificates: this.certificatesOf(userSub),
      devices: await this.listDevices(userSub),
      commands: this.commandsOf(userSub),
    };
  }

  async readCertificateSet(userSub: string) {
    return {
      certificates: this.certificatesOf(userSub),
      setVersion: this.certificateSets.get(userSub)?.version ?? null,
    };
  }

  async getCertificate(userSub: string, certificateId: string): Promise<CertificateRecord | null> {
    const certificate = this.certificates.get(`${userSub}|${certificateId}`);
    return certificate ? structuredClone(certificate) : null;
  }

  // Checks every condition before writing anything, as a transaction does.
  async saveCertificates(change: CertificateChange): Promise<void> {
    const { userSub } = change;
    if ((this.certificateSets.get(userSub)?.version ?? null) !== change.set.readVersion)
      throw new ConcurrentUpdateError('certificate set');
    if ((this.limitLocks.get(userSub) ?? null) !== change.lockVersion)
      throw new ConcurrentUpdateError('device-limit lock');
    if (change.put) {
      const current = this.certificates.get(`${userSub}|${change.put.record.certificateId}`);
      if ((current?.version ?? null) !== change.put.expectedVersion)
        throw new ConcurrentUpdateError('certificate');
    }
    if (change.remove) {
      const current = this.certificates.get(`${userSub}|${change.remove.certificateId}`);
      if (current?.version !== change.remove.expectedVersion) throw new ConcurrentUpdateError('certificate');
    }
    for (const command of change.queue) {
      if (this.commands.has(command.commandId)) throw new ConcurrentUpdateError('command exists');
    }
    for (const command of change.cancel) {
      if (this.commands.get(command.commandId)?.status !== 'QUEUED')
        throw new ConcurrentUpdateError('command');
    }
    if (change.put) {
      this.certificates.set(
        `${userSub}|${change.put.record.certificateId}`,
        structuredClone(change.put.record),
      );
    }
    if (change.remove) this.certificates.delete(`${userSub}|${change.remove.certificateId}`);
    this.certificateSets.set(userSub, {
      version: (change.set.readVersion ?? 0) + 1,
      count: change.set.count,
    });
    for (const command of [...change.queue, ...change.cancel]) {
      this.commands.set(command.commandId, structuredClone(command));
    }
    this.audit.push(structuredClone(change.audit));
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.audit.push(structuredClone(event));
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
    if (
      change.limitLock &&
      change.limitLock.version !== (this.limitLocks.get(change.device.userSub) ?? null)
    ) {
      throw new ConcurrentUpdateError('device-limit lock');
    }
    const installs = change.certificateInstalls;
    if (
      installs &&
      installs.setVersion !== (this.certificateSets.get(change.device.userSub)?.version ?? null)
    ) {
      throw new ConcurrentUpdateError('certificate set');
    }
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
    for (const command of installs?.commands ?? [])
      this.commands.set(command.commandId, structuredClone(command));
    if (change.audit) this.audit.push(change.audit);
    if (change.limitLock) this.limitLocks.set(change.device.userSub, (change.limitLock.version ?? 0) + 1);
  }

  async deleteDevice(device: DeviceRecord, expectedVersion: number, audit: AuditEvent): Promise<void> {
    const key = `${device.userSub}|${device.deviceId}`;
    if (this.devices.get(key)?.version !== expectedVersion) throw new ConcurrentUpdateError('version');
    this.devices.delete(key);
    this.audit.push(structuredClone(audit));
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

  async reset(key: CounterKey): Promise<void> {
    const id = this.counterKey(key);
    if (this.counters.has(id)) this.counters.set(id, 0);
  }

  /** The count of a counter now (0 when it was never taken), by scope and name in NOW's window. */
  counter(scope: string, name: string): number {
    const prefix = `${scope}|${name}|`;
    return [...this.counters].filter(([id]) => id.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0);
  }
}

/** The HMAC hasher of the adapter (HMAC-SHA-256, parts joined by U+001F), under the test key. */
export const testHasher: SecretHasher = {
  hash: async (...parts: string[]) =>
    createHmac('sha256', ONE_TIME_SECRET_KEY).update(parts.join('\u001f'), 'utf8').digest('hex'),
};

/** A sleep that returns at once and records each moment it was asked to wait until. */
export function recordingSleep(): Sleep & { deadlines: Date[] } {
  const deadlines: Date[] = [];
  const sleep = async (until: Date) => {
    deadlines.push(until);
  };
  return Object.assign(sleep, { deadlines });
}

/** Metrics that record every count by name. */
export function recordingMetrics(): Metrics & { counts: Partial<Record<MetricName, number>> } {
  const counts: Partial<Record<MetricName, number>> = {};
  return {
    counts,
    count(name, value = 1) {
      counts[name] = (counts[name] ?? 0) + value;
    },
  };
}

export const ALICE: DirectoryUser = {
  sub: ALICE_SUB,
  username: ALICE_SUB,
  email: ALICE_EMAIL,
  displayName: 'Alice Martin',
  phoneNumber: '+15555550101',
  language: 'en',
  timeZone: null,
  emailVerified: true,
  enabled: true,
  mfaEnabled: false,
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

  readonly updates: { username: string; change: ProfileChange }[] = [];

  async updateAttributes(username: string, change: ProfileChange): Promise<void> {
    this.updates.push({ username, change });
    const user = this.users.find((u) => u.username === username);
    if (!user) return;
    if (change.name !== undefined) user.displayName = change.name;
    if (change.phone_number !== undefined) user.phoneNumber = change.phone_number;
    if (change.locale !== undefined) user.language = change.locale;
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
  set(at: Date): void {
    this.at = at.getTime();
  }
}

/** The context a key was sealed or opened under, the way the vault's callers pass it. */
type VaultContext = Record<string, string>;

const contextAad = (context: VaultContext) =>
  Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))), 'utf8');

/**
 * A KeyVault that encrypts for real (AES-256-GCM under a key of its own, bound to the context, as
 * KMS binds the data key) and records each plaintext it sealed and each context it opened under.
 */
export class MemoryKeyVault implements KeyVault {
  private readonly key = randomBytes(32);
  readonly sealed: { plaintext: Buffer; context: VaultContext; result: SealedKey }[] = [];
  readonly opened: VaultContext[] = [];

  async seal(plaintext: Buffer, context: VaultContext): Promise<SealedKey> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(contextAad(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const result: SealedKey = {
      keyId: 'memory-vault-key',
      encryptedDataKey: Buffer.from('no data key in the memory vault').toString('base64'),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
    // A copy: the caller wipes its buffer once sealed.
    this.sealed.push({ plaintext: Buffer.from(plaintext), context: { ...context }, result });
    return result;
  }

  /** Fails (as KMS's Decrypt does) under any other context than the one sealed under. */
  async open(sealed: SealedKey, context: VaultContext): Promise<Buffer> {
    this.opened.push({ ...context });
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(contextAad(context));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
  }
}

export function memoryPorts(pins: string[] = []) {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const directory = new MemoryDirectory();
  const emails: OutgoingEmail[] = [];
  const texts: { to: string; message: string }[] = [];
  const random = fakeRandom(pins);
  const hasher = testHasher;
  const sleep = recordingSleep();
  const metrics = recordingMetrics();
  const registration: RegistrationPorts = {
    store,
    directory,
    clock,
    random,
    hasher,
    metrics,
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
  const enrollment: EnrollmentPorts = { store, directory, clock, random, hasher, sleep, metrics };
  const agent: DevicePorts = { store, clock, random, metrics };
  const wakeUps: DeviceRecord[] = [];
  const wakeUp = async (device: DeviceRecord) => {
    wakeUps.push(device);
  };
  const commands: CommandPorts = { store, clock, random, metrics, wakeUp };
  const vault = new MemoryKeyVault();
  const certificateSleep = recordingSleep();
  /** With the real parser: the fixtures are valid only from late 2026, so set the clock first. */
  const certificates: CertificatePorts = {
    store,
    clock,
    random,
    metrics,
    vault,
    parseFile: parseCertificateFile,
    wakeUp,
    // Its own: the /go tests read what the enrollment sleep was asked to wait for.
    sleep: certificateSleep,
  };
  return {
    clock,
    store,
    directory,
    emails,
    texts,
    random,
    hasher,
    sleep,
    metrics,
    registration,
    enrollment,
    agent,
    commands,
    wakeUps,
    vault,
    certificates,
    certificateSleep,
  };
}
