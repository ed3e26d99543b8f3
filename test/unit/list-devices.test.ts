import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeviceListResponse, DeviceSummary } from '../../functions/core/api-types.ts';
import { handler } from '../../functions/handlers/list-devices.ts';
import {
  ALICE_SUB,
  accessClaims,
  apiEvent,
  deviceItem,
  deviceRecord,
  freshClock,
  jsonBody,
  lambdaContext,
  pendingDevice,
} from './fixtures.ts';

const dynamo = mockClient(DynamoDBDocumentClient);

let now: Date;
const minutesFromNow = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();

async function listDevices(): Promise<DeviceListResponse> {
  const result = await handler(
    apiEvent({ method: 'GET', path: '/api/devices', claims: accessClaims() }),
    lambdaContext('ListDevices'),
  );
  expect(result.statusCode).toBe(200);
  return jsonBody<DeviceListResponse>(result);
}

beforeEach(() => {
  dynamo.reset();
  now = freshClock();
  dynamo.on(GetCommand).resolves({});
  dynamo.on(QueryCommand).resolves({ Items: [] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('GET /api/devices', () => {
  it("queries only the caller's device items, by partition key, sort-key prefix and item type", async () => {
    await listDevices();

    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 1);
    const [call] = dynamo.commandCalls(QueryCommand);
    expect(call?.args[0].input).toEqual({
      TableName: 'portal-test',
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: '#type = :device',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':pk': `USER#${ALICE_SUB}`, ':prefix': 'DEVICE#', ':device': 'DEVICE' },
      ConsistentRead: false,
    });
  });

  it('skips an item under a device prefix that is not a device (a command sits next to its device)', async () => {
    const { type: _type, ...untyped } = deviceItem(deviceRecord({ deviceId: 'dev-untyped' }));
    dynamo.on(QueryCommand).resolves({
      Items: [
        deviceItem(deviceRecord()),
        { ...deviceItem(deviceRecord({ deviceId: 'dev-cmd' })), type: 'COMMAND' },
        untyped,
      ],
    });

    const { devices } = await listDevices();

    expect(devices.map((d) => d.deviceId)).toEqual(['dev-active-1']);
  });

  it('never scans the table', async () => {
    await listDevices();

    expect(dynamo).not.toHaveReceivedCommand(ScanCommand);
  });

  it('answers an empty list for a user without devices', async () => {
    expect(await listDevices()).toEqual({ devices: [] });
  });

  it('maps a device item to a DeviceSummary with its reported facts and no registration', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [deviceItem(deviceRecord())] });

    const { devices } = await listDevices();

    expect(devices).toEqual<DeviceSummary[]>([
      {
        deviceId: 'dev-active-1',
        status: 'ACTIVE',
        platform: 'IOS',
        ownership: 'EMPLOYEE',
        deviceType: 'iPhone 15',
        manufacturer: 'Apple',
        osVersion: '17.5',
        phoneNumber: '+15555550101',
        carrier: 'Example Mobile',
        imei: '356938035643809',
        lastCheckInAt: '2025-06-02T09:30:00.000Z',
        registeredAt: '2025-05-01T09:05:00.000Z',
        createdAt: '2025-05-01T09:00:00.000Z',
        registration: null,
      },
    ]);
  });

  it('never returns stored secrets: no credential hash, PIN HMAC or try count', async () => {
    const pending = pendingDevice('dev-pending', minutesFromNow(-5), minutesFromNow(55));
    dynamo.on(QueryCommand).resolves({ Items: [deviceItem(deviceRecord()), deviceItem(pending)] });

    const body = JSON.stringify(await listDevices());

    expect(body).not.toMatch(/credentialHash|c0ffee|"pin"|"hmac"|ab12|"tries"|userSub|version/);
  });

  it('shows a pending registration with its method, expiry and deliveries', async () => {
    const expiresAt = minutesFromNow(30);
    dynamo.on(QueryCommand).resolves({
      Items: [deviceItem(pendingDevice('dev-pending', minutesFromNow(-30), expiresAt))],
    });

    const [device] = (await listDevices()).devices;

    expect(device?.status).toBe('PENDING');
    expect(device?.registration).toEqual({ method: 'PIN', expiresAt, deliveries: [] });
  });

  it('shows a PENDING device past its expiresAt as EXPIRED, keeping its registration for a resend', async () => {
    const expiresAt = minutesFromNow(-1);
    dynamo.on(QueryCommand).resolves({
      Items: [deviceItem(pendingDevice('dev-old', minutesFromNow(-61), expiresAt))],
    });

    const [device] = (await listDevices()).devices;

    expect(device?.status).toBe('EXPIRED');
    expect(device?.registration?.expiresAt).toBe(expiresAt);
  });

  it('treats a registration expiring exactly now as EXPIRED', async () => {
    dynamo.on(QueryCommand).resolves({
      Items: [deviceItem(pendingDevice('dev-edge', minutesFromNow(-60), minutesFromNow(0)))],
    });

    const [device] = (await listDevices()).devices;

    expect(device?.status).toBe('EXPIRED');
  });

  it('follows LastEvaluatedKey until the last page and returns the devices of every page', async () => {
    const lastKey = { pk: `USER#${ALICE_SUB}`, sk: 'DEVICE#dev-page-1' };
    dynamo
      .on(QueryCommand)
      .resolvesOnce({
        Items: [deviceItem(deviceRecord({ deviceId: 'dev-page-1' }))],
        LastEvaluatedKey: lastKey,
      })
      .resolvesOnce({ Items: [deviceItem(deviceRecord({ deviceId: 'dev-page-2' }))] });

    const { devices } = await listDevices();

    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(dynamo).toHaveReceivedNthCommandWith(QueryCommand, 2, { ExclusiveStartKey: lastKey });
    expect(devices.map((d) => d.deviceId).sort()).toEqual(['dev-page-1', 'dev-page-2']);
  });

  it('lists active devices first, then pending, expired and retired, newest first within each', async () => {
    dynamo.on(QueryCommand).resolves({
      Items: [
        deviceItem(deviceRecord({ deviceId: 'retired', status: 'RETIRED' })),
        deviceItem(pendingDevice('expired', minutesFromNow(-120), minutesFromNow(-60))),
        deviceItem(deviceRecord({ deviceId: 'active-old', createdAt: '2025-01-01T00:00:00.000Z' })),
        deviceItem(pendingDevice('pending', minutesFromNow(-10), minutesFromNow(50))),
        deviceItem(deviceRecord({ deviceId: 'active-new', createdAt: '2025-05-20T00:00:00.000Z' })),
      ],
    });

    const { devices } = await listDevices();

    expect(devices.map((d) => d.deviceId)).toEqual([
      'active-new',
      'active-old',
      'pending',
      'expired',
      'retired',
    ]);
  });
});
