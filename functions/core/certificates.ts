/**
 * Certificates the user uploads (issue 13.3): kept with their metadata, the certificate and chain,
 * and the PKCS#12's private key only encrypted (envelope encryption, KeyVault); delivered to every
 * Active device of the user as INSTALL_CERTIFICATE commands at its next check-in, and removed with
 * REMOVE_CERTIFICATE when deleted. Every change to the user's set of certificates bumps one version
 * (the CERTIFICATES item) and checks the device-limit lock, which every activation bumps: an upload
 * racing an enrollment either sees the new device or is seen by it, never neither.
 */
import type { Role } from '../routes.ts';
import type {
  AgentCertificateResponse,
  CertificateDelivery,
  CertificateFacts,
  CertificateFormat,
  CertificateListResponse,
  CertificateSummary,
  CertificateUploadRequest,
} from './api-types.ts';
import { ACCOUNT_DEVICE_ID, auditEvent, type RequestOrigin } from './audit.ts';
import type { CertificateFile, ParsedCertificate } from './certificate-file.ts';
import { type CommandRecord, effectiveCommandStatus } from './commands.ts';
import { type DeviceRecord, deviceTitleOf } from './device.ts';
import { devicePublicKey, sealForDevice } from './device-seal.ts';
import { PortalError } from './errors.ts';
import type { AuditEvent, Caller, Clock, Metrics, RandomSource, Sleep } from './ports.ts';
import { ConcurrentUpdateError } from './ports.ts';

/** The most certificates a user keeps: enough for S/MIME, Wi-Fi, VPN and their CAs. */
export const MAX_CERTIFICATES = 20;
/** The largest file taken: a certificate with its chain, or a PKCS#12 with key and chain, is a few KB. */
export const MAX_FILE_BYTES = 64 * 1024;
/** A delivery waits this long for the device: a phone left in a drawer still gets it. */
const DELIVERY_LIFETIME_DAYS = 90;
/** Uploads of several files at once all touch the user's one set: more tries, spread out. */
export const MAX_RACE_RETRIES = 10;

/** A private key under envelope encryption: the data key is wrapped by the portal's key (KMS). */
export interface SealedKey {
  keyId: string;
  encryptedDataKey: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Seals and opens private keys under the portal's key; the context binds a key to its user and certificate. */
export interface KeyVault {
  seal(plaintext: Buffer, context: Record<string, string>): Promise<SealedKey>;
  open(sealed: SealedKey, context: Record<string, string>): Promise<Buffer>;
}

/** What a device reported for a certificate, kept after the command itself has gone (TTL). */
export interface StoredDelivery {
  status: 'INSTALLED' | 'FAILED';
  at: string;
  error?: string;
}

/** A certificate as stored (pk USER#{sub}, sk CERT#{certificateId}). */
export interface CertificateRecord extends CertificateFacts {
  certificateId: string;
  userSub: string;
  fileName: string;
  format: CertificateFormat;
  uploadedAt: string;
  replacedAt?: string;
  version: number;
  /** base64 DER. */
  certificateDer: string;
  chainDer: string[];
  privateKey?: SealedKey;
  /** By device id; only the device's result is kept here, the way there is in its commands. */
  deliveries: Record<string, StoredDelivery>;
}

/** The user's certificates, devices and commands, and the two versions a change is checked against. */
export interface CertificateState {
  certificates: CertificateRecord[];
  /** The version of the user's set of certificates (null before the first upload). */
  setVersion: number | null;
  devices: DeviceRecord[];
  commands: CommandRecord[];
  /** The device-limit lock, bumped by every activation. */
  lockVersion: number | null;
}

export interface CertificateChange {
  userSub: string;
  /** The set's version as read and its new count; written as read + 1. */
  set: { readVersion: number | null; count: number };
  lockVersion: number | null;
  put?: { record: CertificateRecord; expectedVersion: number | null };
  remove?: { certificateId: string; expectedVersion: number };
  queue: CommandRecord[];
  /** QUEUED commands moved to CANCELLED (only if still QUEUED). */
  cancel: CommandRecord[];
  audit: AuditEvent;
}

export interface CertificateStore {
  /** The versions first, then what they guard: a change read in between fails the write. */
  readCertificateState(userSub: string): Promise<CertificateState>;
  /** For the list: the certificates, the devices and their commands (no versions). */
  listCertificatesWithDevices(
    userSub: string,
  ): Promise<{ certificates: CertificateRecord[]; devices: DeviceRecord[]; commands: CommandRecord[] }>;
  /** The certificates and the set's version, for the installs an enrolling device gets. */
  readCertificateSet(
    userSub: string,
  ): Promise<{ certificates: CertificateRecord[]; setVersion: number | null }>;
  getCertificate(userSub: string, certificateId: string): Promise<CertificateRecord | null>;
  /** One transaction; ConcurrentUpdateError when a version or a command's state changed meanwhile. */
  saveCertificates(change: CertificateChange): Promise<void>;
}

export interface CertificatePorts {
  store: CertificateStore;
  clock: Clock;
  random: RandomSource;
  metrics: Metrics;
  vault: KeyVault;
  /** Reads and checks the file (certificate-file.ts, in the upload function only). */
  parseFile(file: CertificateFile, now: Date): ParsedCertificate;
  /** Wakes the device so it checks in now (SNS mobile push); never throws. */
  wakeUp(device: DeviceRecord): Promise<void>;
  /** Waits before a retry after a lost race. */
  sleep: Sleep;
}

/** 5–50 ms, more with each lost race, at random: writers that collided do not collide again in step. */
function backOff(
  ports: Pick<CertificatePorts, 'clock' | 'random' | 'sleep'>,
  attempt: number,
): Promise<void> {
  const jitter = (ports.random.bytes(1)[0] ?? 0) / 255;
  const ms = 5 + jitter * Math.min(50, 5 * (attempt + 1));
  return ports.sleep(new Date(ports.clock.now().getTime() + ms));
}

const NOT_FOUND = () =>
  new PortalError('NOT_FOUND', 'CERTIFICATE_NOT_FOUND', 'There is no such certificate in your list.');
const BUSY = () =>
  new PortalError('CONFLICT', 'BUSY', 'Your certificates changed several times meanwhile. Try again.');

const keyContext = (userSub: string, certificateId: string) => ({ userSub, certificateId });

/** An INSTALL_CERTIFICATE for the device, waiting for its next check-in. */
export function installCommand(
  ports: { random: RandomSource },
  device: DeviceRecord,
  certificate: CertificateRecord,
  now: Date,
): CommandRecord {
  return certificateCommand(ports, device, certificate, 'INSTALL_CERTIFICATE', now);
}

function certificateCommand(
  ports: { random: RandomSource },
  device: DeviceRecord,
  certificate: Pick<CertificateRecord, 'certificateId' | 'name' | 'fingerprintSha256'>,
  action: 'INSTALL_CERTIFICATE' | 'REMOVE_CERTIFICATE',
  now: Date,
): CommandRecord {
  return {
    commandId: ports.random.uuid(),
    userSub: device.userSub,
    deviceId: device.deviceId,
    action,
    status: 'QUEUED',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + DELIVERY_LIFETIME_DAYS * 24 * 3600_000).toISOString(),
    certificate: {
      certificateId: certificate.certificateId,
      name: certificate.name,
      fingerprintSha256: certificate.fingerprintSha256,
    },
  };
}

const commandsFor = (commands: readonly CommandRecord[], deviceId: string, certificateId: string) =>
  commands
    .filter((c) => c.deviceId === deviceId && c.certificate?.certificateId === certificateId)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));

/** Where the certificate is on one device: its latest install of this file, else the result kept. */
function deliveryOn(
  certificate: CertificateRecord,
  device: DeviceRecord,
  commands: readonly CommandRecord[],
  now: Date,
): CertificateDelivery | null {
  const installs = commandsFor(commands, device.deviceId, certificate.certificateId).filter(
    (c) =>
      c.action === 'INSTALL_CERTIFICATE' &&
      c.certificate?.fingerprintSha256 === certificate.fingerprintSha256 &&
      c.status !== 'CANCELLED',
  );
  const latest = installs[installs.length - 1];
  const base = { deviceId: device.deviceId, deviceName: deviceTitleOf(device) };
  if (latest) {
    switch (effectiveCommandStatus(latest, now)) {
      case 'QUEUED':
        return { ...base, status: 'WAITING', at: latest.createdAt, error: null };
      case 'SENT':
        return { ...base, status: 'SENT', at: latest.sentAt ?? latest.createdAt, error: null };
      case 'DONE':
        return { ...base, status: 'INSTALLED', at: latest.completedAt ?? latest.createdAt, error: null };
      case 'FAILED':
        return {
          ...base,
          status: 'FAILED',
          at: latest.completedAt ?? latest.createdAt,
          error: latest.error ?? 'The device could not install it.',
        };
      case 'EXPIRED':
        return {
          ...base,
          status: 'FAILED',
          at: latest.expiresAt,
          error: `The device did not check in for ${DELIVERY_LIFETIME_DAYS} days. Upload the certificate again once it is back.`,
        };
      default:
        break;
    }
  }
  const kept = certificate.deliveries[device.deviceId];
  return kept ? { ...base, status: kept.status, at: kept.at, error: kept.error ?? null } : null;
}

/** Expiring soon: the list says so this long before validTo. */
export const EXPIRES_SOON_DAYS = 30;

function expiryOf(certificate: Pick<CertificateFacts, 'validTo'>, now: Date): CertificateSummary['expiry'] {
  const msLeft = Date.parse(certificate.validTo) - now.getTime();
  const daysLeft = Math.max(0, Math.floor(msLeft / 86_400_000));
  const state = msLeft <= 0 ? 'EXPIRED' : daysLeft < EXPIRES_SOON_DAYS ? 'EXPIRES_SOON' : 'VALID';
  return { state, daysLeft };
}

/** Only the certificate's own facts: neither the parsed file's bytes nor the record's key come along. */
function factsOf(source: CertificateFacts): CertificateFacts {
  const { name, subject, issuer, serialNumber, validFrom, validTo, fingerprintSha256, keyUsage } = source;
  return { name, subject, issuer, serialNumber, validFrom, validTo, fingerprintSha256, keyUsage };
}

export function toCertificateSummary(
  certificate: CertificateRecord,
  devices: readonly DeviceRecord[],
  commands: readonly CommandRecord[],
  now: Date,
): CertificateSummary {
  return {
    certificateId: certificate.certificateId,
    ...factsOf(certificate),
    fileName: certificate.fileName,
    format: certificate.format,
    expiry: expiryOf(certificate, now),
    hasPrivateKey: certificate.privateKey !== undefined,
    chainLength: certificate.chainDer.length,
    uploadedAt: certificate.uploadedAt,
    replacedAt: certificate.replacedAt ?? null,
    deliveries: devices
      .filter((d) => d.status === 'ACTIVE')
      .map((d) => deliveryOn(certificate, d, commands, now))
      .filter((d): d is CertificateDelivery => d !== null),
  };
}

const newestFirst = (a: CertificateRecord, b: CertificateRecord) =>
  (b.replacedAt ?? b.uploadedAt).localeCompare(a.replacedAt ?? a.uploadedAt);

/** GET /api/certificates */
export async function listCertificates(
  ports: { store: Pick<CertificateStore, 'listCertificatesWithDevices'>; clock: Clock },
  caller: Caller,
): Promise<CertificateListResponse> {
  const { certificates, devices, commands } = await ports.store.listCertificatesWithDevices(caller.sub);
  const now = ports.clock.now();
  return {
    certificates: [...certificates]
      .sort(newestFirst)
      .map((c) => toCertificateSummary(c, devices, commands, now)),
    limits: { maxCertificates: MAX_CERTIFICATES, maxFileBytes: MAX_FILE_BYTES },
  };
}

/** 413 for a certificate file over MAX_FILE_BYTES, naming its size (the parser says the same). */
export function fileTooLarge(fileName: string, bytes: number): PortalError {
  return new PortalError(
    'PAYLOAD_TOO_LARGE',
    'FILE_TOO_LARGE',
    `"${fileName}" is ${Math.ceil(bytes / 1024)} KB; certificate files can be at most ${MAX_FILE_BYTES / 1024} KB. Export the certificate without extra data, or with a shorter chain.`,
  );
}

/** The file's bytes; one over the cap is refused before it is decoded. */
function fileBytes(request: CertificateUploadRequest): Buffer {
  // Exact for base64 (the schema admits no other characters): every 4 characters are 3 bytes,
  // less one byte for each '=' of padding.
  const padding = request.content.endsWith('==') ? 2 : request.content.endsWith('=') ? 1 : 0;
  const size = Math.floor((request.content.length * 3) / 4) - padding;
  if (size > MAX_FILE_BYTES) throw fileTooLarge(request.fileName, size);
  return Buffer.from(request.content, 'base64');
}

/**
 * POST /api/certificates: a new certificate (201), or with `replaces` a newer file under the same
 * id (200). Queued for every Active device in the same transaction; the devices are woken.
 */
export async function uploadCertificate(
  ports: CertificatePorts,
  caller: Caller & { roles: Role[] },
  request: CertificateUploadRequest,
  origin: RequestOrigin,
): Promise<{ certificate: CertificateSummary; replaced: boolean }> {
  const parsed = ports.parseFile(
    { fileName: request.fileName, bytes: fileBytes(request), password: request.password },
    ports.clock.now(),
  );
  const certificateId = request.replaces ?? ports.random.uuid();
  let privateKey: SealedKey | undefined;
  try {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const state = await ports.store.readCertificateState(caller.sub);
      const now = ports.clock.now();
      const existing = request.replaces
        ? state.certificates.find((c) => c.certificateId === request.replaces)
        : undefined;
      if (request.replaces && !existing) throw NOT_FOUND();
      const duplicate = state.certificates.find((c) => c.fingerprintSha256 === parsed.fingerprintSha256);
      if (duplicate) {
        throw new PortalError(
          'CONFLICT',
          'DUPLICATE_CERTIFICATE',
          duplicate.certificateId === request.replaces
            ? `This is the file "${duplicate.name}" already has: choose the newer file to replace it with.`
            : `This certificate is already in your list as "${duplicate.name}" (uploaded ${duplicate.uploadedAt.slice(0, 10)}). To upload a newer file for it, use Replace there.`,
        );
      }
      if (!existing && state.certificates.length >= MAX_CERTIFICATES) {
        throw new PortalError(
          'CONFLICT',
          'TOO_MANY_CERTIFICATES',
          `You have ${state.certificates.length} certificates, the most the portal keeps. Delete one you no longer use, or replace it with this file.`,
        );
      }
      // Sealed once the file is known to be taken, and once only: a retry reuses the sealed key.
      if (parsed.privateKeyPkcs8 && !privateKey) {
        privateKey = await ports.vault.seal(parsed.privateKeyPkcs8, keyContext(caller.sub, certificateId));
      }
      const at = now.toISOString();
      const record: CertificateRecord = {
        certificateId,
        userSub: caller.sub,
        ...factsOf(parsed),
        fileName: request.fileName,
        format: parsed.format,
        uploadedAt: existing?.uploadedAt ?? at,
        ...(existing ? { replacedAt: at } : {}),
        version: (existing?.version ?? 0) + 1,
        certificateDer: parsed.certificateDer.toString('base64'),
        chainDer: parsed.chainDer.map((der) => der.toString('base64')),
        ...(privateKey ? { privateKey } : {}),
        deliveries: {},
      };
      const active = state.devices.filter((d) => d.status === 'ACTIVE');
      // A replaced file's installs that no device has picked up yet are superseded by the new ones.
      const cancel = existing
        ? state.commands
            .filter(
              (c) =>
                c.action === 'INSTALL_CERTIFICATE' &&
                c.certificate?.certificateId === certificateId &&
                effectiveCommandStatus(c, now) === 'QUEUED',
            )
            .map((c) => ({ ...c, status: 'CANCELLED' as const, completedAt: at }))
        : [];
      const queue = active.map((device) => installCommand(ports, device, record, now));
      try {
        await ports.store.saveCertificates({
          userSub: caller.sub,
          set: { readVersion: state.setVersion, count: state.certificates.length + (existing ? 0 : 1) },
          lockVersion: state.lockVersion,
          put: { record, expectedVersion: existing?.version ?? null },
          queue,
          cancel,
          audit: auditEvent(ports, origin, {
            userSub: caller.sub,
            deviceId: ACCOUNT_DEVICE_ID,
            action: existing ? 'CERTIFICATE_REPLACED' : 'CERTIFICATE_UPLOADED',
            detail: `${record.name} (${record.fingerprintSha256.slice(0, 11)}…), to ${active.length} device(s)`,
          }),
        });
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError)) throw error;
        ports.metrics.count('LostRace');
        if (attempt < MAX_RACE_RETRIES - 1) await backOff(ports, attempt);
        continue;
      }
      await Promise.all(active.map((device) => ports.wakeUp(device)));
      return {
        certificate: toCertificateSummary(record, active, [...state.commands, ...queue], now),
        replaced: existing !== undefined,
      };
    }
  } finally {
    parsed.privateKeyPkcs8?.fill(0);
  }
  throw BUSY();
}

/**
 * DELETE /api/certificates/{certificateId}: gone from the list at once; each device that may hold it
 * gets a REMOVE_CERTIFICATE, and installs no device has picked up yet are cancelled instead.
 */
export async function deleteCertificate(
  ports: Omit<CertificatePorts, 'vault' | 'parseFile'>,
  caller: Caller,
  certificateId: string,
  origin: RequestOrigin,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const state = await ports.store.readCertificateState(caller.sub);
    const certificate = state.certificates.find((c) => c.certificateId === certificateId);
    if (!certificate) throw NOT_FOUND();
    const now = ports.clock.now();
    const at = now.toISOString();
    const cancel: CommandRecord[] = [];
    const queue: CommandRecord[] = [];
    const woken: DeviceRecord[] = [];
    for (const device of state.devices.filter((d) => d.status === 'ACTIVE')) {
      const mine = commandsFor(state.commands, device.deviceId, certificateId);
      const waiting = mine.filter(
        (c) => c.action === 'INSTALL_CERTIFICATE' && effectiveCommandStatus(c, now) === 'QUEUED',
      );
      cancel.push(...waiting.map((c) => ({ ...c, status: 'CANCELLED' as const, completedAt: at })));
      const mayHoldIt =
        certificate.deliveries[device.deviceId] !== undefined ||
        mine.some(
          (c) => c.action === 'INSTALL_CERTIFICATE' && c.status !== 'QUEUED' && c.status !== 'CANCELLED',
        );
      if (mayHoldIt) {
        queue.push(certificateCommand(ports, device, certificate, 'REMOVE_CERTIFICATE', now));
        woken.push(device);
      }
    }
    try {
      await ports.store.saveCertificates({
        userSub: caller.sub,
        set: { readVersion: state.setVersion, count: state.certificates.length - 1 },
        lockVersion: state.lockVersion,
        remove: { certificateId, expectedVersion: certificate.version },
        queue,
        cancel,
        audit: auditEvent(ports, origin, {
          userSub: caller.sub,
          deviceId: ACCOUNT_DEVICE_ID,
          action: 'CERTIFICATE_DELETED',
          detail: `${certificate.name} (${certificate.fingerprintSha256.slice(0, 11)}…), removed from ${queue.length} device(s)`,
        }),
      });
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      ports.metrics.count('LostRace');
      if (attempt < MAX_RACE_RETRIES - 1) await backOff(ports, attempt);
      continue;
    }
    await Promise.all(woken.map((device) => ports.wakeUp(device)));
    return;
  }
  throw BUSY();
}

/**
 * POST /api/agent/certificates/{certificateId}: the certificate for one of the user's own devices,
 * its private key opened from the vault and sealed at once to the key the device sent.
 */
export async function certificateForDevice(
  ports: { store: Pick<CertificateStore, 'getCertificate'>; vault: KeyVault },
  device: DeviceRecord,
  certificateId: string,
  devicePublicKeyBase64: string,
): Promise<AgentCertificateResponse> {
  const deviceKey = devicePublicKey(devicePublicKeyBase64);
  const certificate = await ports.store.getCertificate(device.userSub, certificateId);
  if (!certificate) {
    throw new PortalError(
      'NOT_FOUND',
      'CERTIFICATE_NOT_FOUND',
      'The user deleted this certificate; there is nothing to install.',
    );
  }
  let privateKey: AgentCertificateResponse['privateKey'] = null;
  if (certificate.privateKey) {
    const pkcs8 = await ports.vault.open(certificate.privateKey, keyContext(device.userSub, certificateId));
    try {
      privateKey = sealForDevice(pkcs8, deviceKey, sealBinding(certificateId, device.deviceId));
    } finally {
      pkcs8.fill(0);
    }
  }
  return {
    certificateId,
    fingerprintSha256: certificate.fingerprintSha256,
    certificate: certificate.certificateDer,
    chain: certificate.chainDer,
    privateKey,
  };
}

/** What a sealed key is bound to: one certificate for one device. */
export function sealBinding(certificateId: string, deviceId: string): string {
  return `${certificateId}|${deviceId}`;
}

/** What the device's result for an install changes on the certificate (kept after the command's TTL). */
export function deliveryResult(
  certificate: CertificateRecord | null,
  command: CommandRecord,
  result: { status: 'DONE' | 'FAILED'; error?: string | undefined },
  at: string,
): { certificateId: string; fingerprintSha256: string; deviceId: string; delivery: StoredDelivery } | null {
  if (
    command.action !== 'INSTALL_CERTIFICATE' ||
    !certificate ||
    certificate.fingerprintSha256 !== command.certificate?.fingerprintSha256
  ) {
    return null; // deleted or replaced meanwhile: that file's result no longer describes the list
  }
  return {
    certificateId: certificate.certificateId,
    fingerprintSha256: certificate.fingerprintSha256,
    deviceId: command.deviceId,
    delivery: {
      status: result.status === 'DONE' ? 'INSTALLED' : 'FAILED',
      at,
      ...(result.error ? { error: result.error.slice(0, 200) } : {}),
    },
  };
}
