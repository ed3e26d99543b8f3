/**
 * The one DynamoDB table (DESIGN §6). Every request path uses GetItem or Query on a key; none scans.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DeviceRecord } from '../core/device.ts';
import type { Clock, SettingsStore } from '../core/ports.ts';
import { defaultSettings, type PortalSettings } from '../core/settings.ts';

export const keys = {
  user: (sub: string) => `USER#${sub}`,
  device: (deviceId: string) => `DEVICE#${deviceId}`,
  settings: { pk: 'CONFIG', sk: 'SETTINGS' },
} as const;

export const GSI1 = 'gsi1';

/** How long a container reuses the settings it read: admin changes apply within this time. */
const SETTINGS_CACHE_MS = 10_000;

export class PortalTable implements SettingsStore {
  private cachedSettings: { value: PortalSettings; readAt: number } | undefined;

  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async getSettings(): Promise<PortalSettings> {
    const now = this.clock.now().getTime();
    if (this.cachedSettings && now - this.cachedSettings.readAt < SETTINGS_CACHE_MS) {
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
      }),
    );
    return (Item?.device as DeviceRecord | undefined) ?? null;
  }
}
