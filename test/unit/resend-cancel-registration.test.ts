import { SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeviceSummary, RegistrationResponse } from '../../functions/core/api-types.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { handler as cancelHandler } from '../../functions/handlers/cancel-registration.ts';
import { handler as resendHandler } from '../../functions/handlers/resend-registration.ts';
import { ALICE_SUB, accessClaims, apiEvent, deviceRecord, jsonBody, lambdaContext } from './fixtures.ts';
import {
  auditEvents,
  counterUpdates,
  deletes,
  devicePut,
  dynamo,
  errorOf,
  type FakeTable,
  KNOWN_PIN,
  KNOWN_PIN_HMAC,
  knownPin,
  minutesAfterNow,
  onlyTransaction,
  PENDING_ID,
  pendingRegistration,
  pinHmac,
  pinRegistration,
  resetMocks,
  secretPuts,
  ses,
  sns,
  transaction,
  transactionCanceled,
  updates,
  versionCondition,
  writtenDevice,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const OLD_QR_TOKEN = 'old-qr-token-0123456789';
const OLD_QR_HASH = sha256Hex(OLD_QR_TOKEN);

/** A pending QR registration (with its PIN) that was emailed five minutes ago. */
function pendingQr(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  const base = pendingRegistration({ platform: 'IOS', facts: { platform: 'IOS' } });
  return {
    ...base,
    registration: {
      method: 'QR',
      expiresAt: minutesAfterNow(55),
      pin: knownPin({ tries: 2 }),
      qrTokenHash: OLD_QR_HASH,
      deliveries: [{ channel: 'EMAIL', status: 'SENT', at: minutesAfterNow(-5) }],
    },
    ...overrides,
  };
}

let table: FakeTable;

async function resend(deviceId: string, body: unknown = {}) {
  return resendHandler(
    apiEvent({
      method: 'POST',
      path: `/api/registrations/${deviceId}/resend`,
      routeKey: 'POST /api/registrations/{deviceId}/resend',
      pathParameters: { deviceId },
      claims: accessClaims(),
      body: JSON.stringify(body),
    }),
    lambdaContext('ResendRegistration'),
  );
}

async function cancel(deviceId: string) {
  return cancelHandler(
    apiEvent({
      method: 'DELETE',
      path: `/api/registrations/${deviceId}`,
      routeKey: 'DELETE /api/registrations/{deviceId}',
      pathParameters: { deviceId },
      claims: accessClaims(),
    }),
    lambdaContext('CancelRegistration'),
  );
}

async function resent(deviceId: string, body: unknown = {}): Promise<RegistrationResponse> {
  const result = await resend(deviceId, body);
  expect(result.statusCode).toBe(200);
  return jsonBody<RegistrationResponse>(result);
}

beforeEach(() => {
  table = resetMocks();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('POST /api/registrations/{deviceId}/resend', () => {
  it('issues a new PIN: the old PIN no longer matches what is stored, the new one does', async () => {
    table.putDevice(pendingRegistration());

    const response = await resent(PENDING_ID);

    const stored = writtenDevice(transaction(0)).registration?.pin;
    expect(response.pin).toMatch(/^\d{8}$/);
    expect(response.pin).not.toBe(KNOWN_PIN);
    expect(stored?.hmac).toBe(pinHmac(response.pin ?? ''));
    expect(stored?.hmac).not.toBe(KNOWN_PIN_HMAC);
  });

  it('replaces the registration: fresh expiry, no tries taken, no used mark, version checked', async () => {
    table.putDevice(
      pendingRegistration({
        registration: pinRegistration({
          pin: knownPin({ tries: 4, usedAt: minutesAfterNow(-1) }),
          usedAt: minutesAfterNow(-1),
        }),
      }),
    );

    await resent(PENDING_ID);

    const items = transaction(0);
    expect(devicePut(items)).toMatchObject(versionCondition(2));
    const device = writtenDevice(items);
    expect(device).toMatchObject({ status: 'PENDING', version: 3 });
    expect(device.registration).toMatchObject({
      method: 'PIN',
      pin: { tries: 0, expiresAt: minutesAfterNow(60) },
      expiresAt: minutesAfterNow(60),
    });
    expect(device.registration?.usedAt).toBeUndefined();
    expect(device.registration?.pin?.usedAt).toBeUndefined();
  });

  it('deletes the old QR secret and puts the new one in the same transaction', async () => {
    table.putDevice(pendingQr());

    const response = await resent(PENDING_ID);

    const token = new URLSearchParams(new URL(response.qr?.url ?? '').hash.slice(1)).get('t') ?? '';
    expect(token).not.toBe('');
    const items = transaction(0);
    expect(deletes(items)).toEqual([
      { TableName: 'portal-test', Key: { pk: `SECRET#${OLD_QR_HASH}`, sk: 'SECRET' } },
    ]);
    expect(secretPuts(items).map((s) => s.put.Item?.pk)).toEqual([`SECRET#${sha256Hex(token)}`]);
    expect(secretPuts(items)[0]?.secret).toMatchObject({
      kind: 'QR',
      deviceId: PENDING_ID,
      userSub: ALICE_SUB,
    });
    expect(writtenDevice(items).registration?.qrTokenHash).toBe(sha256Hex(token));
    expect(auditEvents(items).map((e) => e.action)).toEqual(['REGISTRATION_RESENT']);
  });

  it('resends the invitation on the channels used before when the request names none', async () => {
    table.putDevice(pendingQr());

    await resent(PENDING_ID);

    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('texts a number typed in the resend, normalised with the country given', async () => {
    table.putDevice(pendingRegistration());

    await resent(PENDING_ID, { delivery: ['SMS'], phoneNumber: '(415) 555-0123', phoneCountry: 'US' });

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, { PhoneNumber: '+14155550123' });
  });

  it('answers 400 PHONE_NUMBER_INVALID to a typed number that is not a mobile number, renewing nothing', async () => {
    table.putDevice(pendingRegistration());

    const result = await resend(PENDING_ID, { delivery: ['SMS'], phoneNumber: '+1 900 555 0123' });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'PHONE_NUMBER_INVALID' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('renews an expired registration', async () => {
    table.putDevice(
      pendingRegistration({
        registration: pinRegistration({ expiresAt: minutesAfterNow(-1) }),
      }),
    );

    const response = await resent(PENDING_ID);

    expect(response.device.status).toBe('PENDING');
    expect(response.expiresAt).toBe(minutesAfterNow(60));
  });

  it('answers 409 NOT_PENDING for an active device', async () => {
    table.putDevice(deviceRecord({ deviceId: PENDING_ID }));

    const result = await resend(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'NOT_PENDING' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
  });

  it("answers 404 DEVICE_NOT_FOUND for a device id that is not one of the caller's devices", async () => {
    const result = await resend(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 404, code: 'DEVICE_NOT_FOUND' });
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `USER#${ALICE_SUB}`, sk: `DEVICE#${PENDING_ID}` },
      ConsistentRead: true,
    });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 404 NOT_FOUND to a malformed device id without reading any device', async () => {
    const result = await resend('..%2FCONFIG');

    expect(errorOf(result)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const deviceReads = dynamo
      .commandCalls(GetCommand)
      .filter((call) => String(call.args[0].input.Key?.sk).startsWith('DEVICE#'));
    expect(deviceReads).toHaveLength(0);
  });

  it('answers 409 REGISTRATION_CHANGED when the device changed between read and write', async () => {
    table.putDevice(pendingQr());
    dynamo.on(TransactWriteCommand).rejects(transactionCanceled());

    const result = await resend(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'REGISTRATION_CHANGED' });
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
  });

  it("resets the /go failure counter of the user's account after the resend", async () => {
    table.putDevice(pendingRegistration());

    await resent(PENDING_ID);

    expect(counterUpdates()).toContainEqual(
      expect.objectContaining({
        Key: { pk: `USER#${ALICE_SUB}`, sk: 'COUNTER#GO_FAILURES#2025-06-03T00:00:00.000Z' },
        UpdateExpression: 'SET #count = :zero',
      }),
    );
  });

  it("writes the renewed registration under the user's device-limit lock", async () => {
    table.putDevice(pendingRegistration());

    await resent(PENDING_ID);

    expect(updates(transaction(0))).toEqual([
      expect.objectContaining({
        Key: { pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#DEVICES' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ]);
  });
});

describe('DELETE /api/registrations/{deviceId}', () => {
  it('writes the device CANCELLED, without its registration, conditioned on the version read', async () => {
    table.putDevice(pendingRegistration());

    const result = await cancel(PENDING_ID);

    expect(result.statusCode).toBe(200);
    const items = onlyTransaction();
    expect(devicePut(items)).toMatchObject(versionCondition(2));
    expect(writtenDevice(items)).toMatchObject({ status: 'CANCELLED', registration: null, version: 3 });
    expect(auditEvents(items).map((e) => e.action)).toEqual(['REGISTRATION_CANCELLED']);
    expect(jsonBody<{ device: DeviceSummary }>(result).device).toMatchObject({
      deviceId: PENDING_ID,
      status: 'CANCELLED',
      registration: null,
    });
  });

  it('deletes the QR secret of a cancelled QR registration', async () => {
    table.putDevice(pendingQr());

    await cancel(PENDING_ID);

    expect(deletes(onlyTransaction())).toEqual([
      { TableName: 'portal-test', Key: { pk: `SECRET#${OLD_QR_HASH}`, sk: 'SECRET' } },
    ]);
  });

  it('answers 409 NOT_PENDING for an active device', async () => {
    table.putDevice(deviceRecord({ deviceId: PENDING_ID }));

    const result = await cancel(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'NOT_PENDING' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it("answers 404 DEVICE_NOT_FOUND for a device that is not the caller's", async () => {
    const result = await cancel(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 404, code: 'DEVICE_NOT_FOUND' });
  });

  it('answers 409 REGISTRATION_CHANGED when the version check fails', async () => {
    table.putDevice(pendingRegistration());
    dynamo.on(TransactWriteCommand).rejects(transactionCanceled());

    const result = await cancel(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'REGISTRATION_CHANGED' });
  });
});

describe('a cancelled transaction: a lost race or the service failing', () => {
  it('answers 409 REGISTRATION_CHANGED when the device condition failed (reasons ["ConditionalCheckFailed"])', async () => {
    table.putDevice(pendingRegistration());
    dynamo.on(TransactWriteCommand).rejects(transactionCanceled(['ConditionalCheckFailed', 'None']));

    const result = await cancel(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'REGISTRATION_CHANGED' });
  });

  it('answers 503 SERVICE_UNAVAILABLE with retry-after 5 when DynamoDB throttled the transaction (["None", "ThrottlingError"])', async () => {
    table.putDevice(pendingRegistration());
    dynamo.on(TransactWriteCommand).rejects(transactionCanceled(['None', 'ThrottlingError']));

    const result = await cancel(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(result.headers?.['retry-after']).toBe('5');
    expect(result.body).not.toContain('ThrottlingError');
  });

  it('answers 503 SERVICE_UNAVAILABLE, not a lost race, to a throttled resend: nothing is sent', async () => {
    table.putDevice(pendingRegistration());
    dynamo.on(TransactWriteCommand).rejects(transactionCanceled(['None', 'ThrottlingError']));

    const result = await resend(PENDING_ID);

    expect(errorOf(result)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
  });
});
