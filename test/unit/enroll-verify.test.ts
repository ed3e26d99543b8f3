import {
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  NotAuthorizedException,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EnrollVerifyResponse } from '../../functions/core/api-types.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { defaultSettings } from '../../functions/core/settings.ts';
import { handler } from '../../functions/handlers/enroll-verify.ts';
import { ALICE_EMAIL, ALICE_SUB, apiEvent, deviceRecord, jsonBody, lambdaContext } from './fixtures.ts';
import {
  auditEvents,
  cognito,
  DAY_WINDOW_END,
  devicePut,
  dynamo,
  errorOf,
  type FakeTable,
  incrementedCounters,
  KNOWN_PIN,
  minutesAfterNow,
  OTHER_ID,
  onlyTransaction,
  PENDING_ID,
  pendingRegistration,
  pinRegistration,
  resetMocks,
  secretPuts,
  transaction,
  transactionCanceled,
  transactions,
  updates,
  versionCondition,
  writtenDevice,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const WRONG_PIN = '11112222';
const QR_TOKEN = 'qr-token-for-tests-0001';
const QR_HASH = sha256Hex(QR_TOKEN);

let table: FakeTable;

async function verify(body: unknown) {
  return handler(
    apiEvent({ method: 'POST', path: '/api/enroll/verify', body: JSON.stringify(body) }),
    lambdaContext('EnrollVerify'),
  );
}

async function verified(body: unknown): Promise<EnrollVerifyResponse> {
  const result = await verify(body);
  expect(result.statusCode).toBe(200);
  return jsonBody<EnrollVerifyResponse>(result);
}

/** A pending QR registration with the known PIN, and its unused QR secret. */
function withQrRegistration(): void {
  table
    .putDevice(
      pendingRegistration({
        platform: 'IOS',
        facts: { platform: 'IOS' },
        registration: pinRegistration({ method: 'QR', qrTokenHash: QR_HASH }),
      }),
    )
    .putSecret({
      hash: QR_HASH,
      kind: 'QR',
      userSub: ALICE_SUB,
      deviceId: PENDING_ID,
      expiresAt: minutesAfterNow(55),
    });
}

beforeEach(() => {
  table = resetMocks().putDevice(pendingRegistration());
  cognito.on(AdminInitiateAuthCommand).resolves({ AuthenticationResult: { AccessToken: 'unused' } });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('POST /api/enroll/verify with the right PIN', () => {
  it('answers 200 with a one-time enrollment token for the pending device', async () => {
    const response = await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(response).toMatchObject({
      deviceId: PENDING_ID,
      platform: 'ANDROID',
      enrollmentToken: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      expiresAt: minutesAfterNow(60),
    });
  });

  it('needs no user token: the request carries no authorizer claims', async () => {
    const event = apiEvent({
      method: 'POST',
      path: '/api/enroll/verify',
      body: JSON.stringify({ username: ALICE_EMAIL, pin: KNOWN_PIN }),
    });

    expect(event.requestContext.authorizer).toBeUndefined();
    expect((await handler(event, lambdaContext('EnrollVerify'))).statusCode).toBe(200);
  });

  it('puts the enrollment token as an ENROLLMENT secret keyed by its hash, never the token', async () => {
    const response = await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    const items = onlyTransaction();
    const secrets = secretPuts(items);
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `SECRET#${sha256Hex(response.enrollmentToken)}`, sk: 'SECRET' },
    });
    expect(secrets[0]?.secret).toEqual({
      hash: sha256Hex(response.enrollmentToken),
      kind: 'ENROLLMENT',
      userSub: ALICE_SUB,
      deviceId: PENDING_ID,
      expiresAt: minutesAfterNow(60),
    });
    expect(JSON.stringify(items)).not.toContain(response.enrollmentToken);
  });

  it('marks the registration used, with the version condition, in the same transaction', async () => {
    await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    const items = onlyTransaction();
    expect(devicePut(items)).toMatchObject(versionCondition(2));
    expect(writtenDevice(items)).toMatchObject({
      status: 'PENDING',
      version: 3,
      registration: { usedAt: '2025-06-02T10:00:00.000Z', failedAttempts: 0 },
    });
    expect(auditEvents(items)).toEqual([
      expect.objectContaining({
        action: 'REGISTRATION_VERIFIED',
        deviceId: PENDING_ID,
        detail: 'PIN at /go',
      }),
    ]);
  });

  it('sends an Android device to the store, with the enrollment token in the referrer', async () => {
    const response = await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(response.next.kind).toBe('ANDROID_STORE');
    const storeUrl = new URL(response.next.kind === 'ANDROID_STORE' ? response.next.storeUrl : '');
    expect(`${storeUrl.origin}${storeUrl.pathname}`).toBe('https://play.google.com/store/apps/details');
    expect(storeUrl.searchParams.get('id')).toBe('com.example.mdmagent');
    const referrer = new URLSearchParams(storeUrl.searchParams.get('referrer') ?? '');
    expect(referrer.get('enrollmentToken')).toBe(response.enrollmentToken);
    expect(referrer.get('portal')).toBe('https://portal.example.com');
  });

  it('sends an iOS device to the enrollment profile URL with the token', async () => {
    table.putDevice(pendingRegistration({ platform: 'IOS', facts: { platform: 'IOS' } }));

    const response = await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(response.next).toEqual({
      kind: 'IOS_PROFILE',
      profileUrl: `https://portal.example.com/api/enroll/profile?token=${response.enrollmentToken}`,
    });
  });

  it('looks the user up in the pool by what was typed, trimmed', async () => {
    await verified({ username: `  ${ALICE_EMAIL} `, pin: KNOWN_PIN });

    expect(cognito).toHaveReceivedCommandWith(AdminGetUserCommand, {
      UserPoolId: 'us-east-1_TestPool',
      Username: ALICE_EMAIL,
    });
  });

  it('picks, among several pending registrations, the one the PIN belongs to', async () => {
    table.putDevice(
      pendingRegistration({
        deviceId: OTHER_ID,
        registration: pinRegistration({ pin: { salt: 'x', hash: sha256Hex('x:99998888') } }),
      }),
    );

    const response = await verified({ username: ALICE_EMAIL, pin: '99998888' });

    expect(response.deviceId).toBe(OTHER_ID);
    expect(writtenDevice(onlyTransaction()).deviceId).toBe(OTHER_ID);
  });

  it('answers 409 DEVICE_LIMIT_REACHED when the active devices already fill the limit', async () => {
    table.putSettings({ deviceLimitPerUser: 1 }).putDevice(deviceRecord({ deviceId: 'dev-active-1' }));

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'DEVICE_LIMIT_REACHED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('POST /api/enroll/verify: wrong, locked, expired and used PINs', () => {
  it('answers 401 WRONG_PIN with the tries left and writes failedAttempts + 1', async () => {
    table.putDevice(pendingRegistration({ registration: pinRegistration({ failedAttempts: 1 }) }));

    const result = await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'WRONG_PIN' });
    expect(errorOf(result).message).toContain('3 tries left');
    const items = onlyTransaction();
    expect(devicePut(items)).toMatchObject(versionCondition(2));
    expect(writtenDevice(items).registration).toMatchObject({ failedAttempts: 2 });
    expect(writtenDevice(items).registration?.usedAt).toBeUndefined();
    expect(auditEvents(items)).toEqual([
      expect.objectContaining({ action: 'REGISTRATION_PIN_REJECTED', result: 'FAILURE' }),
    ]);
  });

  it("counts a wrong PIN against the account's daily failures", async () => {
    await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });

    expect(incrementedCounters()).toContain(
      `USER#${ALICE_SUB} COUNTER#GO_FAILURES#${DAY_WINDOW_END.toISOString()}`,
    );
  });

  it('gives the daily failure slot back when the PIN is right', async () => {
    await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    const slot = `USER#${ALICE_SUB} COUNTER#GO_FAILURES#${DAY_WINDOW_END.toISOString()}`;
    expect(incrementedCounters().filter((counter) => counter === slot)).toHaveLength(2);
    const lastUpdate = dynamo.commandCalls(UpdateCommand).at(-1)?.args[0].input;
    expect(lastUpdate?.UpdateExpression).toBe('ADD #count :minusOne');
  });

  it('answers 400 VALIDATION_FAILED to a user name with a space, without asking Cognito', async () => {
    const result = await verify({ username: 'alice example.com', pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
  });

  it('answers 401 BAD_CREDENTIALS when Cognito cannot parse the user name', async () => {
    cognito
      .on(AdminGetUserCommand)
      .rejects(
        Object.assign(new Error('1 validation error detected'), { name: 'InvalidParameterException' }),
      );

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'BAD_CREDENTIALS' });
  });

  it('answers 410 PIN_LOCKED to the fifth wrong PIN', async () => {
    table.putDevice(pendingRegistration({ registration: pinRegistration({ failedAttempts: 4 }) }));

    const result = await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'PIN_LOCKED' });
    expect(writtenDevice(onlyTransaction()).registration?.failedAttempts).toBe(5);
  });

  it('answers 410 PIN_LOCKED to the right PIN after five wrong ones', async () => {
    table.putDevice(pendingRegistration({ registration: pinRegistration({ failedAttempts: 5 }) }));

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'PIN_LOCKED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 410 PIN_EXPIRED to the right PIN after the registration expired', async () => {
    table.putDevice(
      pendingRegistration({ registration: pinRegistration({ expiresAt: minutesAfterNow(-1) }) }),
    );

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'PIN_EXPIRED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 410 PIN_EXPIRED at the very moment of expiry', async () => {
    table.putDevice(
      pendingRegistration({ registration: pinRegistration({ expiresAt: minutesAfterNow(0) }) }),
    );

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'PIN_EXPIRED' });
  });

  it('answers 410 PIN_USED to a PIN that was already used', async () => {
    table.putDevice(pendingRegistration({ registration: pinRegistration({ usedAt: minutesAfterNow(-2) }) }));

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'PIN_USED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 410 PIN_USED to the request that loses the race for the same PIN', async () => {
    dynamo.on(TransactWriteCommand).callsFake(() => {
      // The other request completed first: its write is what the re-read finds.
      table.putDevice(
        pendingRegistration({ registration: pinRegistration({ usedAt: minutesAfterNow(0) }), version: 3 }),
      );
      throw transactionCanceled();
    });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'PIN_USED' });
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });
  it('decides again on a fresh read after a lost race: a concurrent version bump is retried and succeeds', async () => {
    dynamo.on(TransactWriteCommand).callsFakeOnce(() => {
      // Meanwhile the portal recorded an invitation delivery on the device: version 2 → 3.
      table.putDevice(pendingRegistration({ version: 3 }));
      throw transactionCanceled();
    });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(result.statusCode).toBe(200);
    expect(transactions()).toHaveLength(2);
    expect(devicePut(transaction(1))).toMatchObject(versionCondition(3));
  });
});

describe('POST /api/enroll/verify: rate limits', () => {
  it('answers 429 TOO_MANY_FAILURES, even to the right PIN, once the account failed 100 times today', async () => {
    table.putCounter(`USER#${ALICE_SUB}`, 'GO_FAILURES', DAY_WINDOW_END, 100);

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 429, code: 'TOO_MANY_FAILURES' });
    expect(result.headers?.['retry-after']).toBe(String(14 * 3600));
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('lets the right PIN through at 99 failures today', async () => {
    table.putCounter(`USER#${ALICE_SUB}`, 'GO_FAILURES', DAY_WINDOW_END, 99);

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(result.statusCode).toBe(200);
  });

  it('answers 429 TOO_MANY_ATTEMPTS with retry-after when the per-address counter refuses', async () => {
    table.refuseCounter('ATTEMPTS');

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 429, code: 'TOO_MANY_ATTEMPTS' });
    expect(result.headers?.['retry-after']).toBe('900');
    expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('counts attempts per source address, capped at the limit of the settings', async () => {
    table.putSettings({ goAttemptsPerAddress: 7 });

    await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'GO#203.0.113.7', sk: 'COUNTER#ATTEMPTS#2025-06-02T10:15:00.000Z' },
      ExpressionAttributeValues: expect.objectContaining({ ':limit': 7 }),
    });
  });
});

describe('POST /api/enroll/verify with a password', () => {
  it('checks the password with AdminInitiateAuth and answers the enrollment token', async () => {
    const response = await verified({ username: ALICE_EMAIL, password: 'correct horse' });

    expect(cognito).toHaveReceivedCommandExactlyOnceWith(AdminInitiateAuthCommand, {
      UserPoolId: 'us-east-1_TestPool',
      ClientId: 'test-client-id',
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: ALICE_SUB, PASSWORD: 'correct horse' },
    });
    expect(response.deviceId).toBe(PENDING_ID);
    expect(auditEvents(onlyTransaction())[0]?.detail).toBe('password at /go');
  });

  it('answers 403 PASSWORD_NOT_ALLOWED when the settings turn the password at /go off', async () => {
    table.putSettings({
      registrationMethods: { ...defaultSettings().registrationMethods, passwordAtGo: false },
    });

    const result = await verify({ username: ALICE_EMAIL, password: 'correct horse' });

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'PASSWORD_NOT_ALLOWED' });
    expect(cognito).not.toHaveReceivedCommand(AdminInitiateAuthCommand);
  });

  it('answers 401 BAD_CREDENTIALS to a wrong password and counts the failure', async () => {
    cognito
      .on(AdminInitiateAuthCommand)
      .rejects(new NotAuthorizedException({ message: 'Incorrect username or password.', $metadata: {} }));

    const result = await verify({ username: ALICE_EMAIL, password: 'wrong' });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'BAD_CREDENTIALS' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(incrementedCounters()).toContain(
      `USER#${ALICE_SUB} COUNTER#GO_FAILURES#${DAY_WINDOW_END.toISOString()}`,
    );
  });

  it('answers an unknown user exactly as a wrong password: 401 BAD_CREDENTIALS, same message', async () => {
    cognito
      .on(AdminInitiateAuthCommand)
      .rejects(new NotAuthorizedException({ message: 'Incorrect username or password.', $metadata: {} }));
    const wrongPassword = await verify({ username: ALICE_EMAIL, password: 'wrong' });
    cognito
      .on(AdminGetUserCommand)
      .rejects(new UserNotFoundException({ message: 'User does not exist.', $metadata: {} }));

    const unknownWithPin = await verify({ username: 'nobody@example.com', pin: KNOWN_PIN });
    const unknownWithPassword = await verify({ username: 'nobody@example.com', password: 'wrong' });

    expect(errorOf(unknownWithPin)).toMatchObject({ status: 401, code: 'BAD_CREDENTIALS' });
    expect(errorOf(unknownWithPin)).toEqual(errorOf(wrongPassword));
    expect(errorOf(unknownWithPassword)).toEqual(errorOf(wrongPassword));
  });

  it('answers 401 BAD_CREDENTIALS to a disabled account, even with the right PIN', async () => {
    cognito.on(AdminGetUserCommand).resolves({ Username: ALICE_SUB, UserAttributes: [], Enabled: false });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'BAD_CREDENTIALS' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('POST /api/enroll/verify with a QR token', () => {
  it('uses up the QR secret in the same transaction, only if it is unused and unexpired', async () => {
    withQrRegistration();

    await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    expect(updates(onlyTransaction())).toEqual([
      expect.objectContaining({
        Key: { pk: `SECRET#${QR_HASH}`, sk: 'SECRET' },
        UpdateExpression: 'SET #secret.#usedAt = :now',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(#secret.#usedAt) AND #secret.#expiresAt > :now',
      }),
    ]);
  });

  it('still needs the PIN: a QR token with a wrong PIN answers 401 WRONG_PIN', async () => {
    withQrRegistration();

    const result = await verify({ username: ALICE_EMAIL, pin: WRONG_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'WRONG_PIN' });
    expect(secretPuts(onlyTransaction())).toEqual([]);
  });

  it("answers 410 QR_CODE_INVALID to another user's QR token", async () => {
    withQrRegistration();
    table.putSecret({
      hash: QR_HASH,
      kind: 'QR',
      userSub: '99999999-2222-4333-8444-555555555555',
      deviceId: PENDING_ID,
      expiresAt: minutesAfterNow(55),
    });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'QR_CODE_INVALID' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 410 QR_CODE_INVALID to a QR token that was already used', async () => {
    withQrRegistration();
    table.putSecret({
      hash: QR_HASH,
      kind: 'QR',
      userSub: ALICE_SUB,
      deviceId: PENDING_ID,
      expiresAt: minutesAfterNow(55),
      usedAt: minutesAfterNow(-1),
    });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'QR_CODE_INVALID' });
  });

  it('answers 410 QR_CODE_INVALID to a QR token that a resend replaced', async () => {
    withQrRegistration();
    table.putDevice(
      pendingRegistration({
        platform: 'IOS',
        registration: pinRegistration({ method: 'QR', qrTokenHash: sha256Hex('the-newer-qr-token-00') }),
      }),
    );

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'QR_CODE_INVALID' });
  });

  it('answers 410 QR_CODE_INVALID to an unknown QR token', async () => {
    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'QR_CODE_INVALID' });
  });
});

describe('POST /api/enroll/verify: input validation', () => {
  it('answers 400 PIN_OR_PASSWORD when both a PIN and a password are given', async () => {
    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, password: 'correct horse' });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'PIN_OR_PASSWORD' });
    expect(cognito).not.toHaveReceivedCommand(AdminInitiateAuthCommand);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 400 PIN_OR_PASSWORD when neither is given', async () => {
    const result = await verify({ username: ALICE_EMAIL });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'PIN_OR_PASSWORD' });
  });

  it('answers 400 VALIDATION_FAILED to a PIN that is not digits', async () => {
    const result = await verify({ username: ALICE_EMAIL, pin: '1234abcd' });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('answers 400 VALIDATION_FAILED to an unknown field', async () => {
    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, deviceId: PENDING_ID });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('answers 400 MALFORMED_JSON to a body that is not JSON', async () => {
    const result = await handler(
      apiEvent({ method: 'POST', path: '/api/enroll/verify', body: 'username=alice' }),
      lambdaContext('EnrollVerify'),
    );

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
  });
});
