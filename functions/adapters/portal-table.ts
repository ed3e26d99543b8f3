/**
 * The one DynamoDB table (DESIGN §6). Every request path uses GetItem, Query on a key, or a
 * conditional write; none scans. A write of one item is one conditional Put or Update; several
 * items that must change together go in one transaction. Items are shaped by ./items.ts.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AuditPosition, AuditReader } from '../core/activity.ts';
import type {
  CertificateChange,
  CertificateRecord,
  CertificateState,
  CertificateStore,
} from '../core/certificates.ts';
import type { CommandRecord, CommandStore, CommandsChange } from '../core/commands.ts';
import type { DeviceRecord } from '../core/device.ts';
import { DependencyError } from '../core/errors.ts';
import { MAX_PIN_TRIES } from '../core/one-time-pin.ts';
import {
  type AuditEvent,
  type Clock,
  ConcurrentUpdateError,
  type CounterKey,
  type Counters,
  type DeviceChange,
  type DeviceStore,
  type PinSlot,
  type SecretRecord,
  type SettingsStore,
} from '../core/ports.ts';
import { type PortalSettings, readSettings } from '../core/settings.ts';
import {
  auditToItem,
  certificateFromItem,
  certificateToItem,
  commandFromItem,
  commandToItem,
  deviceFromItem,
  deviceToItem,
  GSI1,
  keys,
  secretFromItem,
  secretToItem,
  settingsToItem,
} from './items.ts';
import { once, requiredEnv, systemClock } from './system.ts';

export { GSI1, keys };

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Where the settings a container read are kept, and for how long (admin changes apply within it). */
export interface SettingsCache {
  get(now: number): PortalSettings | undefined;
  set(value: PortalSettings, now: number): void;
}

/** Keeps the settings `ttlMs` per container; 0 reads the table every time. */
export function settingsCache(ttlMs: number): SettingsCache {
  let cached: { value: PortalSettings; readAt: number } | undefined;
  return {
    get: (now) => (cached && now - cached.readAt < ttlMs ? cached.value : undefined),
    set: (value, now) => {
      cached = { value, readAt: now };
    },
  };
}

/** The settings cache of a container: PORTAL_SETTINGS_CACHE_MS (the local twin sets 0), else 10 s. */
export const SETTINGS_CACHE_MS = 10_000;

/** A conditional check failed: another request changed the item first. */
function isLostRace(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

/**
 * Tells a cancelled transaction's reasons apart: a failed condition or a conflicting transaction is
 * a lost race (the caller re-reads and decides again); anything else is the service's failure.
 */
function transactionError(error: TransactionCanceledException, what: string): Error {
  const reasons = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  if (reasons.some((code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict')) {
    return new ConcurrentUpdateError(`${what} changed while this request ran (${reasons.join(', ')})`);
  }
  return new DependencyError(`The transaction for ${what} was cancelled`, error.name, reasons);
}

export class PortalTable
  implements SettingsStore, DeviceStore, Counters, CommandStore, AuditReader, CertificateStore
{
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly clock: Clock,
    private readonly cache: SettingsCache = settingsCache(
      Number(process.env.PORTAL_SETTINGS_CACHE_MS ?? SETTINGS_CACHE_MS),
    ),
  ) {}

  /** The settings, from this container's cache unless `fresh` (the admin page reads the current version). */
  async getSettings(options: { fresh?: boolean } = {}): Promise<PortalSettings> {
    const now = this.clock.now().getTime();
    const cached = options.fresh ? undefined : this.cache.get(now);
    if (cached) return cached;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.settings, ConsistentRead: true }),
    );
    const { settings, invalid } = readSettings(
      Item?.settings,
      typeof Item?.version === 'number' ? Item.version : 0,
    );
    if (invalid.length > 0) {
      const { logger } = await import('../http/logger.ts');
      logger.warn('Stored settings have fields that do not validate; their defaults apply', { invalid });
    }
    this.cache.set(settings, now);
    return settings;
  }

  /**
   * Saves settings if the stored version is still `expectedVersion` (optimistic locking): the new
   * version is one more. ConcurrentUpdateError when someone saved first. With `audit`, the settings
   * and the audit event are written in one transaction: both or neither.
   */
  async saveSettings(
    settings: PortalSettings,
    expectedVersion: number,
    audit?: AuditEvent,
  ): Promise<PortalSettings> {
    const saved = { ...settings, version: expectedVersion + 1 };
    const put = {
      TableName: this.tableName,
      Item: settingsToItem(saved),
      ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk) OR #v = :v' : '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':v': expectedVersion },
    };
    try {
      if (audit) {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [{ Put: put }, { Put: { TableName: this.tableName, Item: auditToItem(audit) } }],
          }),
        );
      } else {
        await this.client.send(new PutCommand(put));
      }
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw transactionError(error, 'The settings');
      if (isLostRace(error)) throw new ConcurrentUpdateError('The settings changed while this request ran');
      throw error;
    }
    this.cache.set(saved, this.clock.now().getTime());
    return saved;
  }

  async listDevices(userSub: string, consistent = false): Promise<DeviceRecord[]> {
    const devices: DeviceRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          // Commands sit next to their device (same prefix): only the devices are wanted here.
          FilterExpression: '#type = :device',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':pk': keys.user(userSub), ':prefix': 'DEVICE#', ':device': 'DEVICE' },
          ExclusiveStartKey: startKey,
          ConsistentRead: consistent,
        }),
      );
      for (const item of page.Items ?? []) {
        const device = deviceFromItem(item);
        if (device) devices.push(device);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return devices;
  }

  async listDevicesForLimit(
    userSub: string,
  ): Promise<{ devices: DeviceRecord[]; lockVersion: number | null }> {
    // The lock first, the devices after: a write that lands between the two reads has bumped the
    // version read, so the caller's write fails and it counts again. Read in parallel, a write could
    // land after the device Query but before the lock read, and a count that missed it would pass.
    const lock = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.limitLock(userSub), ConsistentRead: true }),
    );
    const devices = await this.listDevices(userSub, true);
    return { devices, lockVersion: typeof lock.Item?.version === 'number' ? lock.Item.version : null };
  }

  async getDevice(userSub: string, deviceId: string): Promise<DeviceRecord | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.deviceItem(userSub, deviceId),
        // Read right after a write of the same device (enrollment, /go): must see it.
        ConsistentRead: true,
      }),
    );
    return deviceFromItem(Item);
  }

  private devicePut(change: DeviceChange): NonNullable<TransactItem['Put']> & PutCommandInput {
    const { device, expectedVersion } = change;
    return {
      TableName: this.tableName,
      Item: deviceToItem({ ...device, version: (expectedVersion ?? 0) + 1 }),
      ...(expectedVersion === null
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: '#device.#version = :expected',
            ExpressionAttributeNames: { '#device': 'device', '#version': 'version' },
            ExpressionAttributeValues: { ':expected': expectedVersion },
          }),
    };
  }

  async saveDevice(change: DeviceChange): Promise<void> {
    const { device } = change;
    const now = this.clock.now().toISOString();
    const others: TransactItem[] = [];
    for (const secret of change.putSecrets ?? []) {
      others.push({
        Put: {
          TableName: this.tableName,
          Item: secretToItem(secret),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    for (const hash of change.deleteSecrets ?? []) {
      others.push({ Delete: { TableName: this.tableName, Key: keys.secret(hash) } });
    }
    for (const hash of change.useSecrets ?? []) {
      others.push({
        Update: {
          TableName: this.tableName,
          Key: keys.secret(hash),
          UpdateExpression: 'SET #secret.#usedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(#secret.#usedAt) AND #secret.#expiresAt > :now',
          ExpressionAttributeNames: { '#secret': 'secret', '#usedAt': 'usedAt', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':now': now },
        },
      });
    }
    if (change.limitLock) {
      others.push(
        this.versionBump(keys.limitLock(device.userSub), change.limitLock.version, { type: 'LIMIT' }),
      );
    }
    if (change.certificateInstalls) {
      others.push(
        this.versionCheck(keys.certificateSet(device.userSub), change.certificateInstalls.setVersion),
      );
      for (const command of change.certificateInstalls.commands) others.push(this.newCommandPut(command));
    }
    if (change.audit) others.push({ Put: { TableName: this.tableName, Item: auditToItem(change.audit) } });

    try {
      if (others.length === 0) {
        // One item: a plain conditional Put, no transaction.
        await this.client.send(new PutCommand(this.devicePut(change)));
      } else {
        await this.client.send(
          new TransactWriteCommand({ TransactItems: [{ Put: this.devicePut(change) }, ...others] }),
        );
      }
    } catch (error) {
      if (error instanceof TransactionCanceledException)
        throw transactionError(error, `Device ${device.deviceId}`);
      if (isLostRace(error)) throw new ConcurrentUpdateError(`Device ${device.deviceId} changed meanwhile`);
      throw error;
    }
  }

  async getDeviceWithCommands(
    userSub: string,
    deviceId: string,
  ): Promise<{ device: DeviceRecord; commands: CommandRecord[] } | null> {
    // Check-in and the device page read what an action just wrote (queryPrefix reads consistently).
    let device: DeviceRecord | null = null;
    const commands: CommandRecord[] = [];
    for (const item of await this.queryPrefix(userSub, keys.device(deviceId))) {
      device ??= deviceFromItem(item);
      const command = commandFromItem(item);
      if (command) commands.push(command);
    }
    return device ? { device, commands } : null;
  }

  async putCommand(device: DeviceRecord, command: CommandRecord, audit: AuditEvent): Promise<void> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: commandToItem(command),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: keys.deviceItem(device.userSub, device.deviceId),
                UpdateExpression: 'SET #device.#version = :next',
                ConditionExpression: '#device.#version = :expected AND #device.#status = :active',
                ExpressionAttributeNames: { '#device': 'device', '#version': 'version', '#status': 'status' },
                ExpressionAttributeValues: {
                  ':next': device.version + 1,
                  ':expected': device.version,
                  ':active': 'ACTIVE',
                },
              },
            },
            { Put: { TableName: this.tableName, Item: auditToItem(audit) } },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException)
        throw transactionError(error, `Device ${device.deviceId}`);
      throw error;
    }
  }

  async updateCommands(change: CommandsChange): Promise<void> {
    const items: TransactItem[] = [];
    const delivery = change.certificateDelivery;
    if (delivery) {
      items.push({
        Update: {
          TableName: this.tableName,
          Key: keys.certificate(delivery.userSub, delivery.certificateId),
          UpdateExpression: 'SET #certificate.#deliveries.#device = :delivery',
          // Still that file: a result for a deleted or replaced one is not kept (the caller re-reads).
          ConditionExpression: '#certificate.#fingerprint = :fingerprint',
          ExpressionAttributeNames: {
            '#certificate': 'certificate',
            '#deliveries': 'deliveries',
            '#device': delivery.deviceId,
            '#fingerprint': 'fingerprintSha256',
          },
          ExpressionAttributeValues: {
            ':delivery': delivery.delivery,
            ':fingerprint': delivery.fingerprintSha256,
          },
        },
      });
    }
    if (change.device) {
      items.push({
        Put: this.devicePut({ device: change.device.record, expectedVersion: change.device.expectedVersion }),
      });
    }
    for (const { command, from } of change.commands) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: commandToItem(command),
          // The state it was read in: of a cancel and a pickup racing, only one finds it QUEUED.
          ConditionExpression: '#command.#status = :from',
          ExpressionAttributeNames: { '#command': 'command', '#status': 'status' },
          ExpressionAttributeValues: { ':from': from },
        },
      });
    }
    for (const event of change.audit)
      items.push({ Put: { TableName: this.tableName, Item: auditToItem(event) } });
    if (items.length === 0) return;
    try {
      const [only] = items;
      if (items.length === 1 && only?.Put) {
        await this.client.send(new PutCommand(only.Put));
      } else {
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      }
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw transactionError(error, 'A command');
      if (isLostRace(error)) throw new ConcurrentUpdateError('A command changed meanwhile');
      throw error;
    }
  }

  private newCommandPut(command: CommandRecord): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: commandToItem(command),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /**
   * A lock item (a version) moves from the version read to the next, or the write fails: of two
   * writes that read the same version, one wins (the device-limit lock, the set of certificates).
   */
  private versionBump(
    key: { pk: string; sk: string },
    read: number | null,
    fields: Record<string, string | number>,
  ): TransactItem {
    const names = Object.fromEntries(Object.keys(fields).map((name) => [`#${name}`, name]));
    const values = Object.fromEntries(Object.entries(fields).map(([name, value]) => [`:${name}`, value]));
    return {
      Update: {
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `SET ${['#version = :next', ...Object.keys(fields).map((name) => `#${name} = :${name}`)].join(', ')}`,
        ConditionExpression: read === null ? 'attribute_not_exists(pk)' : '#version = :read',
        ExpressionAttributeNames: { '#version': 'version', ...names },
        ExpressionAttributeValues: {
          ':next': (read ?? 0) + 1,
          ...values,
          ...(read === null ? {} : { ':read': read }),
        },
      },
    };
  }

  /** A lock item is still at the version read (nothing it guards changed meanwhile). */
  private versionCheck(key: { pk: string; sk: string }, read: number | null): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: key,
        ConditionExpression: read === null ? 'attribute_not_exists(pk)' : '#version = :read',
        ExpressionAttributeNames: read === null ? undefined : { '#version': 'version' },
        ExpressionAttributeValues: read === null ? undefined : { ':read': read },
      },
    };
  }

  /** Every item of the user's partition under `prefix`, read consistently, a page at a time. */
  private async queryPrefix(userSub: string, prefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.user(userSub), ':prefix': prefix },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async versionOf(key: { pk: string; sk: string }): Promise<number | null> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return typeof Item?.version === 'number' ? Item.version : null;
  }

  private async certificatesOf(userSub: string): Promise<CertificateRecord[]> {
    const items = await this.queryPrefix(userSub, keys.certificatePrefix);
    return items.map(certificateFromItem).filter((c): c is CertificateRecord => c !== null);
  }

  /** The devices and all their commands, in one Query on DEVICE#. */
  private async devicesAndCommands(
    userSub: string,
  ): Promise<{ devices: DeviceRecord[]; commands: CommandRecord[] }> {
    const items = await this.queryPrefix(userSub, 'DEVICE#');
    const devices: DeviceRecord[] = [];
    const commands: CommandRecord[] = [];
    for (const item of items) {
      const device = deviceFromItem(item);
      if (device) devices.push(device);
      const command = commandFromItem(item);
      if (command) commands.push(command);
    }
    return { devices, commands };
  }

  async readCertificateState(userSub: string): Promise<CertificateState> {
    // The versions first, what they guard after (see listDevicesForLimit).
    const [setVersion, lockVersion] = await Promise.all([
      this.versionOf(keys.certificateSet(userSub)),
      this.versionOf(keys.limitLock(userSub)),
    ]);
    const [certificates, { devices, commands }] = await Promise.all([
      this.certificatesOf(userSub),
      this.devicesAndCommands(userSub),
    ]);
    return { certificates, setVersion, devices, commands, lockVersion };
  }

  async listCertificatesWithDevices(
    userSub: string,
  ): Promise<{ certificates: CertificateRecord[]; devices: DeviceRecord[]; commands: CommandRecord[] }> {
    const [certificates, rest] = await Promise.all([
      this.certificatesOf(userSub),
      this.devicesAndCommands(userSub),
    ]);
    return { certificates, ...rest };
  }

  async readCertificateSet(
    userSub: string,
  ): Promise<{ certificates: CertificateRecord[]; setVersion: number | null }> {
    const setVersion = await this.versionOf(keys.certificateSet(userSub));
    return { certificates: await this.certificatesOf(userSub), setVersion };
  }

  async getCertificate(userSub: string, certificateId: string): Promise<CertificateRecord | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.certificate(userSub, certificateId),
        ConsistentRead: true,
      }),
    );
    return certificateFromItem(Item);
  }

  async saveCertificates(change: CertificateChange): Promise<void> {
    const { userSub } = change;
    const items: TransactItem[] = [];
    if (change.put) {
      const expected = change.put.expectedVersion;
      items.push({
        Put: {
          TableName: this.tableName,
          Item: certificateToItem(change.put.record),
          ...(expected === null
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#certificate.#version = :expected',
                ExpressionAttributeNames: { '#certificate': 'certificate', '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expected },
              }),
        },
      });
    }
    if (change.remove) {
      items.push({
        Delete: {
          TableName: this.tableName,
          Key: keys.certificate(userSub, change.remove.certificateId),
          ConditionExpression: '#certificate.#version = :expected',
          ExpressionAttributeNames: { '#certificate': 'certificate', '#version': 'version' },
          ExpressionAttributeValues: { ':expected': change.remove.expectedVersion },
        },
      });
    }
    items.push(
      this.versionBump(keys.certificateSet(userSub), change.set.readVersion, {
        count: change.set.count,
        type: 'CERTIFICATE_SET',
      }),
    );
    // No device became Active meanwhile (it would miss this change otherwise).
    items.push(this.versionCheck(keys.limitLock(userSub), change.lockVersion));
    for (const command of change.queue) items.push(this.newCommandPut(command));
    for (const command of change.cancel) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: commandToItem(command),
          ConditionExpression: '#command.#status = :queued',
          ExpressionAttributeNames: { '#command': 'command', '#status': 'status' },
          ExpressionAttributeValues: { ':queued': 'QUEUED' },
        },
      });
    }
    items.push({ Put: { TableName: this.tableName, Item: auditToItem(change.audit) } });
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw transactionError(error, 'The certificates');
      throw error;
    }
  }

  async listAudit(
    userSub: string,
    options: { deviceId?: string; limit: number; after?: AuditPosition },
  ): Promise<AuditEvent[]> {
    const sk = options.after ? `AUDIT#${options.after.at}#${options.after.id}` : undefined;
    const byDevice = options.deviceId !== undefined;
    // The start key is built here from the caller's own partition: a cursor cannot reach another's.
    const startKey = sk
      ? byDevice
        ? { pk: keys.user(userSub), sk, gsi1pk: keys.device(options.deviceId ?? ''), gsi1sk: sk }
        : { pk: keys.user(userSub), sk }
      : undefined;
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ...(byDevice
          ? {
              IndexName: GSI1,
              KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
              FilterExpression: 'pk = :owner',
              ExpressionAttributeValues: {
                ':pk': keys.device(options.deviceId ?? ''),
                ':prefix': 'AUDIT#',
                ':owner': keys.user(userSub),
              },
            }
          : {
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
              ExpressionAttributeValues: { ':pk': keys.user(userSub), ':prefix': 'AUDIT#' },
            }),
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: startKey,
      }),
    );
    return (Items ?? []).map((item) => item.event as AuditEvent).filter(Boolean);
  }

  async takePinTry(
    userSub: string,
    deviceId: string,
    slot: PinSlot,
    hmac: string,
    now: Date,
  ): Promise<number | null> {
    const path = slot === 'registration' ? '#device.#registration.#pin' : '#device.#secureAppsPin';
    const slotNames: Record<string, string> =
      slot === 'registration'
        ? { '#registration': 'registration', '#pin': 'pin' }
        : { '#secureAppsPin': 'secureAppsPin' };
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.deviceItem(userSub, deviceId),
          UpdateExpression: `SET ${path}.#tries = ${path}.#tries + :one, #device.#version = #device.#version + :one`,
          ConditionExpression: `${path}.#hmac = :hmac AND ${path}.#tries < :max AND attribute_not_exists(${path}.#usedAt) AND ${path}.#expiresAt > :now`,
          ExpressionAttributeNames: {
            '#device': 'device',
            ...slotNames,
            '#tries': 'tries',
            '#hmac': 'hmac',
            '#usedAt': 'usedAt',
            '#expiresAt': 'expiresAt',
            '#version': 'version',
          },
          ExpressionAttributeValues: {
            ':one': 1,
            ':hmac': hmac,
            ':max': MAX_PIN_TRIES,
            ':now': now.toISOString(),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const version = (Attributes?.device as { version?: unknown } | undefined)?.version;
      return typeof version === 'number' ? version : null;
    } catch (error) {
      if (isLostRace(error)) return null;
      throw error;
    }
  }

  async getSecret(hash: string): Promise<SecretRecord | null> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.secret(hash), ConsistentRead: true }),
    );
    return secretFromItem(Item);
  }

  async deleteDevice(device: DeviceRecord, expectedVersion: number, audit: AuditEvent): Promise<void> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: keys.deviceItem(device.userSub, device.deviceId),
                ConditionExpression: '#device.#version = :expected',
                ExpressionAttributeNames: { '#device': 'device', '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              },
            },
            { Put: { TableName: this.tableName, Item: auditToItem(audit) } },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException)
        throw transactionError(error, `Device ${device.deviceId}`);
      throw error;
    }
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: auditToItem(event) }));
  }

  async release(key: CounterKey): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.counter(key),
          UpdateExpression: 'ADD #count :minusOne',
          ConditionExpression: '#count > :zero',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isLostRace(error)) throw error;
    }
  }

  async reset(key: CounterKey): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.counter(key),
          UpdateExpression: 'SET #count = :zero',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isLostRace(error)) throw error;
    }
  }

  async increment(key: CounterKey, limit: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.counter(key),
          UpdateExpression: 'ADD #count :one SET #ttl = :ttl, #type = :type',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl', '#type': 'type' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':limit': limit,
            ':ttl': Math.floor(key.windowEndsAt.getTime() / 1000),
            ':type': 'COUNTER',
          },
        }),
      );
      return true;
    } catch (error) {
      if (isLostRace(error)) return false;
      throw error;
    }
  }
}

// Pure: a bundle whose handler never calls it leaves the client out.
export const portalTable = /* @__PURE__ */ once(
  () =>
    new PortalTable(
      DynamoDBDocumentClient.from(new DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      requiredEnv('TABLE_NAME'),
      systemClock,
    ),
);
