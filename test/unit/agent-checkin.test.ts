import { PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentCheckinResponse } from '../../functions/core/api-types.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { handler } from '../../functions/handlers/agent-checkin.ts';
import { ALICE_SUB, apiEvent, deviceRecord, jsonBody, lambdaContext } from './fixtures.ts';
import {
  conditionalCheckFailed,
  dynamo,
  errorOf,
  type FakeTable,
  onlyDevicePut,
  resetMocks,
  versionCondition,
  writtenDevice,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const DEVICE_ID = 'b0000000-0000-4000-8000-000000000001';
/** 43 base64url characters: 256 bits. */
const SECRET = 'Q2hlY2staW4tc2VjcmV0LWZvci10aGUtdW5pdC10ZXM';
const CREDENTIAL = `dc1.${ALICE_SUB}.${DEVICE_ID}.${SECRET}`;

let table: FakeTable;

const enrolledDevice = (overrides = {}) =>
  deviceRecord({ deviceId: DEVICE_ID, credentialHash: sha256Hex(SECRET), version: 7, ...overrides });

async function checkIn(authorization: string | undefined, device: unknown = { osVersion: '17.6' }) {
  return handler(
    apiEvent({
      method: 'POST',
      path: '/api/agent/checkin',
      body: JSON.stringify({ device }),
      ...(authorization !== undefined ? { headers: { authorization } } : {}),
    }),
    lambdaContext('AgentCheckin'),
  );
}

beforeEach(() => {
  table = resetMocks().putDevice(enrolledDevice());
});

afterEach(() => {
  vi.useRealTimers();
});

describe('POST /api/agent/checkin', () => {
  it('answers 200 with the device, its status and the check-in time for a valid credential', async () => {
    const result = await checkIn(`Device ${CREDENTIAL}`);

    expect(result.statusCode).toBe(200);
    expect(jsonBody<AgentCheckinResponse>(result)).toEqual({
      deviceId: DEVICE_ID,
      status: 'ACTIVE',
      lastCheckInAt: '2025-06-02T10:00:00.000Z',
      commands: [],
      ownership: 'EMPLOYEE',
      checkInIntervalSeconds: 900,
    });
  });

  it('writes lastCheckInAt and the new facts, keeping the others, conditioned on the version', async () => {
    await checkIn(`Device ${CREDENTIAL}`, { osVersion: '17.6', carrier: 'Other Mobile' });

    const put = onlyDevicePut();
    expect(put).toMatchObject(versionCondition(7));
    expect(writtenDevice(put)).toMatchObject({
      lastCheckInAt: '2025-06-02T10:00:00.000Z',
      version: 8,
      status: 'ACTIVE',
      facts: {
        ...enrolledDevice().facts,
        osVersion: '17.6',
        carrier: 'Other Mobile',
      },
    });
  });

  it('finds the device by the owner and device named in the credential', async () => {
    await checkIn(`Device ${CREDENTIAL}`);

    expect(onlyDevicePut().Item).toMatchObject({
      pk: `USER#${ALICE_SUB}`,
      sk: `DEVICE#${DEVICE_ID}`,
    });
  });

  it('takes two round trips: one consistent Query of the device and its commands, one conditional Put', async () => {
    await checkIn(`Device ${CREDENTIAL}`);

    expect(dynamo.calls()).toHaveLength(2);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `USER#${ALICE_SUB}`, ':prefix': `DEVICE#${DEVICE_ID}` },
      ConsistentRead: true,
    });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 401 DEVICE_CREDENTIAL_INVALID to a credential with the wrong secret', async () => {
    const wrong = `dc1.${ALICE_SUB}.${DEVICE_ID}.${'A'.repeat(43)}`;

    const result = await checkIn(`Device ${wrong}`);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'DEVICE_CREDENTIAL_INVALID' });
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it('answers 401 DEVICE_CREDENTIAL_INVALID to a device that has no credential', async () => {
    table.putDevice(enrolledDevice({ credentialHash: undefined }));

    const result = await checkIn(`Device ${CREDENTIAL}`);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'DEVICE_CREDENTIAL_INVALID' });
  });

  it('answers 403 DEVICE_NOT_ACTIVE to the credential of a retired device', async () => {
    table.putDevice(enrolledDevice({ status: 'RETIRED' }));

    const result = await checkIn(`Device ${CREDENTIAL}`);

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'DEVICE_NOT_ACTIVE' });
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it('answers 401 DEVICE_CREDENTIAL_INVALID without an Authorization header, reading nothing', async () => {
    const result = await checkIn(undefined);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'DEVICE_CREDENTIAL_INVALID' });
    expect(dynamo.calls()).toEqual([]);
  });

  it.each([
    ['a Bearer token', `Bearer ${CREDENTIAL}`],
    ['a credential of another version', `Device dc2.${ALICE_SUB}.${DEVICE_ID}.${SECRET}`],
    ['a truncated credential', `Device dc1.${ALICE_SUB}.${DEVICE_ID}`],
  ])('answers 401 DEVICE_CREDENTIAL_INVALID to %s', async (_what, authorization) => {
    const result = await checkIn(authorization);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'DEVICE_CREDENTIAL_INVALID' });
  });

  it('answers 400 PLATFORM_MISMATCH when the reported platform differs from the enrolled one', async () => {
    const result = await checkIn(`Device ${CREDENTIAL}`, { platform: 'ANDROID' });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'PLATFORM_MISMATCH' });
  });

  it('retries on a lost race and answers 409 BUSY after five failed writes', async () => {
    dynamo.on(PutCommand).rejects(conditionalCheckFailed());

    const result = await checkIn(`Device ${CREDENTIAL}`);

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'BUSY' });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 5);
  });
});
