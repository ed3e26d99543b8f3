/**
 * How each entity sits in the one table (DESIGN §6): its keys and its item, in one place. The
 * adapters, the tests, the bench and the local bootstrap all build items with these mappers.
 *
 * | pk            | sk                                     | item                               |
 * | USER#{sub}    | DEVICE#{deviceId}                      | device (gsi1: DEVICE#{id} / DEVICE) |
 * | USER#{sub}    | DEVICE#{deviceId}#CMD#{commandId}      | command, next to its device: one   |
 * |               |                                        | Query on DEVICE#{id} reads both    |
 * | USER#{sub}    | AUDIT#{at}#{id}                        | audit event (gsi1 per device)      |
 * | USER#{sub}    | LIMIT#DEVICES                          | the device-limit lock (a version)  |
 * | USER#{sub}    | CERT#{certificateId}                   | certificate, file and sealed key   |
 * | USER#{sub}    | LIMIT#CERTIFICATES                     | the certificate set (version, count)|
 * | SECRET#{hash} | SECRET                                 | one-time token                     |
 * | {scope}       | COUNTER#{name}#{windowEnd}             | rate-limit counter                 |
 * | CONFIG        | SETTINGS                               | settings, with a version           |
 */
import type { CertificateRecord } from '../core/certificates.ts';
import { type CommandRecord, commandRetentionTtl } from '../core/commands.ts';
import type { DeviceRecord } from '../core/device.ts';
import type { AuditEvent, CounterKey, SecretRecord } from '../core/ports.ts';
import type { PortalSettings } from '../core/settings.ts';

type Item = Record<string, unknown>;

/** Audit events are kept for a year. */
const AUDIT_RETENTION_S = 365 * 24 * 3600;
const epochSeconds = (iso: string | Date) => Math.floor(new Date(iso).getTime() / 1000);

export const keys = {
  user: (sub: string) => `USER#${sub}`,
  device: (deviceId: string) => `DEVICE#${deviceId}`,
  deviceItem: (userSub: string, deviceId: string) => ({ pk: `USER#${userSub}`, sk: `DEVICE#${deviceId}` }),
  /** Right after its device: one Query on DEVICE#{deviceId} reads the device and its commands. */
  command: (userSub: string, deviceId: string, commandId: string) => ({
    pk: `USER#${userSub}`,
    sk: `DEVICE#${deviceId}#CMD#${commandId}`,
  }),
  limitLock: (userSub: string) => ({ pk: `USER#${userSub}`, sk: 'LIMIT#DEVICES' }),
  certificatePrefix: 'CERT#',
  certificate: (userSub: string, certificateId: string) => ({
    pk: `USER#${userSub}`,
    sk: `CERT#${certificateId}`,
  }),
  /** Every change to the user's certificates bumps its version: enrollment checks it (certificates.ts). */
  certificateSet: (userSub: string) => ({ pk: `USER#${userSub}`, sk: 'LIMIT#CERTIFICATES' }),
  secret: (hash: string) => ({ pk: `SECRET#${hash}`, sk: 'SECRET' }),
  audit: (event: Pick<AuditEvent, 'userSub' | 'at' | 'id'>) => ({
    pk: `USER#${event.userSub}`,
    sk: `AUDIT#${event.at}#${event.id}`,
  }),
  counter: (key: CounterKey) => ({
    pk: key.scope,
    sk: `COUNTER#${key.name}#${key.windowEndsAt.toISOString()}`,
  }),
  settings: { pk: 'CONFIG', sk: 'SETTINGS' },
} as const;

export const GSI1 = 'gsi1';

export function deviceToItem(device: DeviceRecord): Item {
  return {
    ...keys.deviceItem(device.userSub, device.deviceId),
    gsi1pk: keys.device(device.deviceId),
    gsi1sk: 'DEVICE',
    type: 'DEVICE',
    device,
  };
}

export function deviceFromItem(item: Item | undefined): DeviceRecord | null {
  return item?.type === 'DEVICE' ? ((item.device as DeviceRecord | undefined) ?? null) : null;
}

export function commandToItem(command: CommandRecord): Item {
  return {
    ...keys.command(command.userSub, command.deviceId, command.commandId),
    type: 'COMMAND',
    command,
    // Finished commands go after a while; the audit trail keeps what happened.
    ttl: commandRetentionTtl(command),
  };
}

export function commandFromItem(item: Item | undefined): CommandRecord | null {
  return item?.type === 'COMMAND' ? ((item.command as CommandRecord | undefined) ?? null) : null;
}

export function secretToItem(secret: SecretRecord): Item {
  return { ...keys.secret(secret.hash), type: 'SECRET', secret, ttl: epochSeconds(secret.expiresAt) };
}

export function secretFromItem(item: Item | undefined): SecretRecord | null {
  return (item?.secret as SecretRecord | undefined) ?? null;
}

export function auditToItem(event: AuditEvent): Item {
  return {
    ...keys.audit(event),
    gsi1pk: keys.device(event.deviceId),
    gsi1sk: `AUDIT#${event.at}#${event.id}`,
    type: 'AUDIT',
    event,
    ttl: epochSeconds(event.at) + AUDIT_RETENTION_S,
  };
}

export function counterToItem(key: CounterKey, count: number): Item {
  return { ...keys.counter(key), type: 'COUNTER', count, ttl: epochSeconds(key.windowEndsAt) };
}

export function settingsToItem(settings: PortalSettings): Item {
  const { version, ...rest } = settings;
  return { ...keys.settings, type: 'SETTINGS', settings: rest, version };
}

export function certificateToItem(certificate: CertificateRecord): Item {
  return {
    ...keys.certificate(certificate.userSub, certificate.certificateId),
    type: 'CERTIFICATE',
    certificate,
  };
}

export function certificateFromItem(item: Item | undefined): CertificateRecord | null {
  return item?.type === 'CERTIFICATE' ? ((item.certificate as CertificateRecord | undefined) ?? null) : null;
}
