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

  it('answers an empty list, with nothing in use, for a user without devices', async () => {
    expect(await listDevices()).toEqual({ devices: [], inUse: 0 });
  });

  it('maps a device item to a DeviceSummary with its reported facts and no registration', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [deviceItem(deviceRecord())] });

    const { devices } = await listDevices();

    expect(devices).toEqual<DeviceSummary[]>([
      {
        deviceId: 'dev-active-1',
        version: 3,
        name: null,
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
        canRemove: false,
        derivedCredential: { status: 'NONE', at: null, name: null, canRequest: false },
      },
    ]);
  });

  it('never returns stored secrets: no credential hash, PIN HMAC or try count', async () => {
    const pending = pendingDevice('dev-pending', minutesFromNow(-5), minutesFromNow(55));
    dynamo.on(QueryCommand).resolves({ Items: [deviceItem(deviceRecord()), deviceItem(pending)] });

    const body = JSON.stringify(await listDevices());

    expect(body).not.toMatch(/credentialHash|c0ffee|"pin"|"hmac"|ab12|"tries"|userSub|secureAppsPin/);
  });

  it('shows a pending registration with its method, stage, expiry and deliveries', async () => {
    const expiresAt = minutesFromNow(30);
    dynamo.on(QueryCommand).resolves({
      Items: [deviceItem(pendingDevice('dev-pending', minutesFromNow(-30), expiresAt))],
    });

    const [device] = (await listDevices()).devices;

    expect(device?.status).toBe('PENDING');
    expect(device?.registration).toEqual({
      method: 'PIN',
      stage: 'WAITING_FOR_DEVICE',
      expiresAt,
      enrollmentExpiresAt: null,
      canResend: true,
      deliveries: [],
    });
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

  it('lists pending, expired, active, retired, wiped, then cancelled, newest first within each by registration, else request', async () => {
    const registered = (
      deviceId: string,
      status: DeviceSummary['status'],
      registeredAt: string,
      createdAt: string,
    ) => deviceItem(deviceRecord({ deviceId, status, registeredAt, createdAt }));
    dynamo.on(QueryCommand).resolves({
      Items: [
        deviceItem(deviceRecord({ deviceId: 'cancelled', status: 'CANCELLED', registeredAt: null })),
        registered('wiped', 'WIPED', '2025-03-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z'),
        registered('retired', 'RETIRED', '2025-04-01T00:00:00.000Z', '2025-04-01T00:00:00.000Z'),
        deviceItem(pendingDevice('expired', minutesFromNow(-120), minutesFromNow(-60))),
        // Requested long ago but registered last: the registration decides, not the request.
        registered(
          'active-registered-late',
          'ACTIVE',
          '2025-05-20T00:00:00.000Z',
          '2025-01-01T00:00:00.000Z',
        ),
        deviceItem(pendingDevice('pending-old', minutesFromNow(-30), minutesFromNow(30))),
        registered(
          'active-registered-early',
          'ACTIVE',
          '2025-02-01T00:00:00.000Z',
          '2025-05-30T00:00:00.000Z',
        ),
        deviceItem(pendingDevice('pending-new', minutesFromNow(-10), minutesFromNow(50))),
      ],
    });

    const { devices } = await listDevices();

    expect(devices.map((d) => d.deviceId)).toEqual([
      'pending-new',
      'pending-old',
      'expired',
      'active-registered-late',
      'active-registered-early',
      'retired',
      'wiped',
      'cancelled',
    ]);
  });

  it('counts active devices and open registrations as in use, not expired, retired or cancelled ones', async () => {
    dynamo.on(QueryCommand).resolves({
      Items: [
        deviceItem(deviceRecord({ deviceId: 'active' })),
        deviceItem(pendingDevice('pending', minutesFromNow(-10), minutesFromNow(50))),
        deviceItem(pendingDevice('expired', minutesFromNow(-120), minutesFromNow(-60))),
        deviceItem(deviceRecord({ deviceId: 'retired', status: 'RETIRED' })),
        deviceItem(deviceRecord({ deviceId: 'cancelled', status: 'CANCELLED' })),
      ],
    });

    expect((await listDevices()).inUse).toBe(2);
  });

  it('offers removal only for a cancelled registration', async () => {
    dynamo.on(QueryCommand).resolves({
      Items: [
        deviceItem(deviceRecord({ deviceId: 'active' })),
        deviceItem(pendingDevice('expired', minutesFromNow(-120), minutesFromNow(-60))),
        deviceItem(deviceRecord({ deviceId: 'retired', status: 'RETIRED' })),
        deviceItem(deviceRecord({ deviceId: 'wiped', status: 'WIPED' })),
        deviceItem(deviceRecord({ deviceId: 'cancelled', status: 'CANCELLED' })),
      ],
    });

    const { devices } = await listDevices();

    expect(devices.filter((d) => d.canRemove).map((d) => d.deviceId)).toEqual(['cancelled']);
  });

  it('offers a derived credential only on a pending device, when the administrator turned it on', async () => {
    dynamo.on(GetCommand, { Key: { pk: 'CONFIG', sk: 'SETTINGS' } }).resolves({
      Item: {
        pk: 'CONFIG',
        sk: 'SETTINGS',
        settings: { derivedCredential: { enabled: true, entrustUrl: 'https://entrust.example.com/ss' } },
        version: 4,
      },
    });
    dynamo.on(QueryCommand).resolves({
      Items: [
        deviceItem(deviceRecord({ deviceId: 'active' })),
        deviceItem(pendingDevice('pending', minutesFromNow(-10), minutesFromNow(50))),
        deviceItem({
          ...pendingDevice('requested', minutesFromNow(-20), minutesFromNow(40)),
          derivedCredential: { status: 'REQUESTED', at: minutesFromNow(-5), name: 'Work' },
        }),
      ],
    });

    const { devices } = await listDevices();

    expect(Object.fromEntries(devices.map((d) => [d.deviceId, d.derivedCredential.canRequest]))).toEqual({
      active: false,
      pending: true,
      requested: false,
    });
  });

  it('offers no derived credential when it is off (the default)', async () => {
    dynamo.on(QueryCommand).resolves({
      Items: [deviceItem(pendingDevice('pending', minutesFromNow(-10), minutesFromNow(50)))],
    });

    const [device] = (await listDevices()).devices;

    expect(device?.derivedCredential).toEqual({ status: 'NONE', at: null, name: null, canRequest: false });
  });

  it("shows the user's own name of a device, kept from its registration", async () => {
    dynamo.on(QueryCommand).resolves({ Items: [deviceItem(deviceRecord({ name: 'Work iPhone' }))] });

    const [device] = (await listDevices()).devices;

    expect(device?.name).toBe('Work iPhone');
  });
});
