import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../functions/core/ports.ts';
import { handler } from '../../functions/handlers/remove-device.ts';
import { ALICE_SUB, accessClaims, apiEvent, deviceRecord, lambdaContext } from './fixtures.ts';
import {
  dynamo,
  errorOf,
  type FakeTable,
  OTHER_ID,
  onlyTransaction,
  PENDING_ID,
  pendingRegistration,
  resetMocks,
  transactionCanceled,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const BOB_SUB = '99999999-8888-4777-8666-555555555555';

let table: FakeTable;

async function remove(deviceId: string) {
  return handler(
    apiEvent({
      method: 'DELETE',
      path: `/api/devices/${deviceId}`,
      routeKey: 'DELETE /api/devices/{deviceId}',
      pathParameters: { deviceId },
      claims: accessClaims(),
    }),
    lambdaContext('RemoveDevice'),
  );
}

/** Alice's registration, cancelled earlier (version 3: created, then cancelled). */
const cancelled = (overrides = {}) =>
  deviceRecord({
    deviceId: PENDING_ID,
    status: 'CANCELLED',
    registration: null,
    registeredAt: null,
    credentialHash: undefined,
    version: 3,
    ...overrides,
  });

beforeEach(() => {
  table = resetMocks();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('DELETE /api/devices/{deviceId}', () => {
  it('answers 204 with no body and deletes a cancelled device with its audit event in one transaction', async () => {
    table.putDevice(cancelled());

    const result = await remove(PENDING_ID);

    expect(result.statusCode).toBe(204);
    expect(result.body ?? '').toBe('');
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    const items = onlyTransaction();
    expect(items).toHaveLength(2);
    expect(items[0]).toEqual({
      Delete: {
        TableName: 'portal-test',
        Key: { pk: `USER#${ALICE_SUB}`, sk: `DEVICE#${PENDING_ID}` },
        ConditionExpression: '#device.#version = :expected',
        ExpressionAttributeNames: { '#device': 'device', '#version': 'version' },
        ExpressionAttributeValues: { ':expected': 3 },
      },
    });
    const audit = items[1]?.Put;
    expect(audit).toMatchObject({
      TableName: 'portal-test',
      Item: { type: 'AUDIT', pk: `USER#${ALICE_SUB}` },
    });
    expect(audit?.Item?.event as AuditEvent).toEqual({
      id: expect.any(String),
      userSub: ALICE_SUB,
      deviceId: PENDING_ID,
      action: 'DEVICE_REMOVED',
      result: 'SUCCESS',
      sourceIp: '203.0.113.7',
      userAgent: 'vitest',
      at: '2025-06-02T10:00:00.000Z',
    });
  });

  it.each([
    ['an active device', deviceRecord({ deviceId: PENDING_ID })],
    ['a pending registration', pendingRegistration()],
    ['a retired device', deviceRecord({ deviceId: PENDING_ID, status: 'RETIRED' })],
    ['a wiped device', deviceRecord({ deviceId: PENDING_ID, status: 'WIPED' })],
  ])('answers 409 NOT_REMOVABLE for %s, deleting nothing', async (_what, device) => {
    table.putDevice(device);

    const result = await remove(PENDING_ID);

    expect(errorOf(result)).toEqual({
      status: 409,
      code: 'NOT_REMOVABLE',
      message: 'Only cancelled registrations can be removed. Cancel the registration first.',
    });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it("answers 404 DEVICE_NOT_FOUND for another user's cancelled device, deleting nothing", async () => {
    table.putDevice(cancelled({ userSub: BOB_SUB }));

    const result = await remove(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 404, code: 'DEVICE_NOT_FOUND' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(table.device(PENDING_ID, BOB_SUB)?.status).toBe('CANCELLED');
  });

  it('answers 404 DEVICE_NOT_FOUND for a device id the caller has no device under', async () => {
    table.putDevice(cancelled());

    const result = await remove(OTHER_ID);

    expect(errorOf(result)).toMatchObject({ status: 404, code: 'DEVICE_NOT_FOUND' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 404 NOT_FOUND to a malformed device id without deleting anything', async () => {
    const result = await remove('not-a-uuid');

    expect(errorOf(result)).toMatchObject({ status: 404 });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 409 REGISTRATION_CHANGED when the version condition of the Delete fails', async () => {
    table.putDevice(cancelled());
    dynamo.on(TransactWriteCommand).rejects(transactionCanceled(['ConditionalCheckFailed', 'None']));

    const result = await remove(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'REGISTRATION_CHANGED' });
  });
});
