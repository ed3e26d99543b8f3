/**
 * The one DynamoDB table (DESIGN §6). Every request path uses GetItem, Query on a key, or a
 * conditional write; none scans.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DeviceRecord } from '../core/device.ts';
import {
  type AuditEvent,
  type Clock,
  ConcurrentUpdateError,
  type CounterKey,
  type Counters,
  type DeviceChange,
  type DeviceStore,
  type SecretRecord,
  type SettingsStore,
} from '../core/ports.ts';
import { defaultSettings, type PortalSettings } from '../core/settings.ts';
import { once, requiredEnv, systemClock } from './system.ts';

export const keys = {
  user: (sub: string) => `USER#${sub}`,
  device: (deviceId: string) => `DEVICE#${deviceId}`,
  secret: (hash: string) => ({ pk: `SECRET#${hash}`, sk: 'SECRET' }),
  audit: (event: AuditEvent) => ({ pk: `USER#${event.userSub}`, sk: `AUDIT#${event.at}#${event.id}` }),
  settings: { pk: 'CONFIG', sk: 'SETTINGS' },
} as const;

export const GSI1 = 'gsi1';

/**
 * How long a container reuses the settings it read: admin changes apply within this time.
 * The local twin sets 0, so tests that change settings see them at once.
 */
const settingsCacheMs = () => Number(process.env.PORTAL_SETTINGS_CACHE_MS ?? 10_000);
/** Audit events are kept for a year. */
const AUDIT_RETENTION_S = 365 * 24 * 3600;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const epochSeconds = (iso: string | Date) => Math.floor(new Date(iso).getTime() / 1000);

export class PortalTable implements SettingsStore, DeviceStore, Counters {
  private cachedSettings: { value: PortalSettings; readAt: number } | undefined;

  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async getSettings(): Promise<PortalSettings> {
    const now = this.clock.now().getTime();
    if (this.cachedSettings && now - this.cachedSettings.readAt < settingsCacheMs()) {
      return this.cachedSettings.value;
    }
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.settings }),
    );
    // Stored settings override the defaults field by field, so a newer release's settings have values.
    const value: PortalSettings = {
      ...defaultSettings(),
      ...((Item?.settings as Partial<PortalSettings>) ?? {}),
    };
    if (typeof Item?.version === 'number') value.version = Item.version;
    this.cachedSettings = { value, readAt: now };
    return value;
  }

  async listDevices(userSub: string): Promise<DeviceRecord[]> {
    const devices: DeviceRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.user(userSub), ':prefix': 'DEVICE#' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) devices.push(item.device as DeviceRecord);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return devices;
  }

  async getDevice(userSub: string, deviceId: string): Promise<DeviceRecord | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: keys.user(userSub), sk: keys.device(deviceId) },
        ConsistentRead: true,
      }),
    );
    return (Item?.device as DeviceRecord | undefined) ?? null;
  }

  async saveDevice(change: DeviceChange): Promise<void> {
    const { device, expectedVersion } = change;
    const now = this.clock.now().toISOString();
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            pk: keys.user(device.userSub),
            sk: keys.device(device.deviceId),
            gsi1pk: keys.device(device.deviceId),
            gsi1sk: 'DEVICE',
            type: 'DEVICE',
            device: { ...device, version: (expectedVersion ?? 0) + 1 },
          },
          ...(expectedVersion === null
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#device.#version = :expected',
                ExpressionAttributeNames: { '#device': 'device', '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        },
      },
    ];
    for (const secret of change.putSecrets ?? []) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.secret(secret.hash), type: 'SECRET', secret, ttl: epochSeconds(secret.expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    for (const hash of change.deleteSecrets ?? []) {
      items.push({ Delete: { TableName: this.tableName, Key: keys.secret(hash) } });
    }
    for (const hash of change.useSecrets ?? []) {
      items.push({
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
    if (change.audit) {
      const event = change.audit;
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.audit(event),
            gsi1pk: keys.device(event.deviceId),
            gsi1sk: `AUDIT#${event.at}#${event.id}`,
            type: 'AUDIT',
            event,
            ttl: epochSeconds(event.at) + AUDIT_RETENTION_S,
          },
        },
      });
    }
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException || error instanceof ConditionalCheckFailedException) {
        throw new ConcurrentUpdateError(`Device ${device.deviceId} changed while this request ran`);
      }
      throw error;
    }
  }

  async getSecret(hash: string): Promise<SecretRecord | null> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.secret(hash), ConsistentRead: true }),
    );
    return (Item?.secret as SecretRecord | undefined) ?? null;
  }

  private counterKey(key: CounterKey) {
    return { pk: key.scope, sk: `COUNTER#${key.name}#${key.windowEndsAt.toISOString()}` };
  }

  async release(key: CounterKey): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.counterKey(key),
          UpdateExpression: 'ADD #count :minusOne',
          ConditionExpression: '#count > :zero',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async increment(key: CounterKey, limit: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.counterKey(key),
          UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':ttl': epochSeconds(key.windowEndsAt) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

export const portalTable = once(
  () =>
    new PortalTable(
      DynamoDBDocumentClient.from(new DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      requiredEnv('TABLE_NAME'),
      systemClock,
    ),
);
