import {
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  NotAuthorizedException,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EnrollVerifyResponse } from '../../functions/core/api-types.ts';
import { FAILURE_FLOOR_MS } from '../../functions/core/enrollment.ts';
import type { AuditEvent } from '../../functions/core/ports.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { defaultSettings } from '../../functions/core/settings.ts';
import { handler } from '../../functions/handlers/enroll-verify.ts';
import { ALICE_EMAIL, ALICE_SUB, apiEvent, deviceRecord, jsonBody, lambdaContext, NOW } from './fixtures.ts';
import {
  ALICE_ATTRIBUTES,
  auditEvents,
  cognito,
  conditionalCheckFailed,
  counterUpdates,
  DAY_WINDOW_END,
  devicePut,
  dynamo,
  errorOf,
  type FakeTable,
  incrementedCounters,
  KNOWN_PIN,
  KNOWN_PIN_HMAC,
  knownPin,
  minutesAfterNow,
  OTHER_ID,
  onlyTransaction,
  PENDING_ID,
  pendingRegistration,
  pinHmac,
  pinRegistration,
  pinTries,
  resetMocks,
  secretPuts,
  singlePuts,
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
/** The one refusal at /go for anything wrong with a PIN proof (and, with its own message, a password). */
const BAD_PIN = {
  status: 401,
  code: 'BAD_CREDENTIALS',
  message:
    'The email or registration PIN is not right, or the PIN has expired or was used. Check them, or use Resend in the portal to get a new PIN.',
};
const BAD_PASSWORD = {
  status: 401,
  code: 'BAD_CREDENTIALS',
  message:
    'The email or password is not right, or there is no registration waiting. Check them, or start one with Register device in the portal.',
};
const GO_FAILURES = `USER#${ALICE_SUB} COUNTER#GO_FAILURES#${DAY_WINDOW_END.toISOString()}`;
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
    const { enrollmentToken = '' } = await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(enrollmentToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const items = onlyTransaction();
    const secrets = secretPuts(items);
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `SECRET#${sha256Hex(enrollmentToken)}`, sk: 'SECRET' },
    });
    expect(secrets[0]?.secret).toEqual({
      hash: sha256Hex(enrollmentToken),
      kind: 'ENROLLMENT',
      userSub: ALICE_SUB,
      deviceId: PENDING_ID,
      expiresAt: minutesAfterNow(60),
    });
    expect(JSON.stringify(items)).not.toContain(enrollmentToken);
  });

  it('marks the registration and its PIN used, with the version condition, in the same transaction', async () => {
    await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    const items = onlyTransaction();
    // The try taken before the comparison bumped the version 2 → 3: the write expects 3.
    expect(devicePut(items)).toMatchObject(versionCondition(3));
    expect(writtenDevice(items)).toMatchObject({
      status: 'PENDING',
      version: 4,
      registration: {
        usedAt: '2025-06-02T10:00:00.000Z',
        pin: { hmac: KNOWN_PIN_HMAC, tries: 1, usedAt: '2025-06-02T10:00:00.000Z' },
      },
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

  it('sends an iOS device to a profile link with its own PROFILE token, and hands out no enrollment token', async () => {
    table.putDevice(pendingRegistration({ platform: 'IOS', facts: { platform: 'IOS' } }));

    const response = await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(response).not.toHaveProperty('enrollmentToken');
    expect(response.expiresAt).toBe(minutesAfterNow(10));
    const url = new URL(response.next.kind === 'IOS_PROFILE' ? response.next.profileUrl : '');
    expect(`${url.origin}${url.pathname}`).toBe('https://portal.example.com/api/enroll/profile');
    const token = url.searchParams.get('token') ?? '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const items = onlyTransaction();
    expect(secretPuts(items).map((s) => s.secret)).toEqual([
      {
        hash: sha256Hex(token),
        kind: 'PROFILE',
        userSub: ALICE_SUB,
        deviceId: PENDING_ID,
        expiresAt: minutesAfterNow(10),
      },
    ]);
    expect(writtenDevice(items).registration).toMatchObject({ profileTokenHash: sha256Hex(token) });
    expect(writtenDevice(items).registration?.enrollmentTokenHash).toBeUndefined();
    expect(JSON.stringify(items)).not.toContain(token);
  });

  it("takes a place under the user's device-limit lock in the same transaction", async () => {
    await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(updates(onlyTransaction())).toEqual([
      expect.objectContaining({
        Key: { pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#DEVICES' },
        ConditionExpression: 'attribute_not_exists(pk)',
        ExpressionAttributeValues: { ':next': 1, ':type': 'LIMIT' },
      }),
    ]);
  });

  it('looks the user up in the pool by what was typed, trimmed', async () => {
    await verified({ username: `  ${ALICE_EMAIL} `, pin: KNOWN_PIN });

    expect(cognito).toHaveReceivedCommandWith(AdminGetUserCommand, {
      UserPoolId: 'us-east-1_TestPool',
      Username: ALICE_EMAIL,
    });
  });

  it('looks the user up again in lower case when the name as typed finds no one', async () => {
    cognito
      .on(AdminGetUserCommand, { Username: 'Alice@Example.COM' })
      .rejects(new UserNotFoundException({ message: 'User does not exist.', $metadata: {} }));

    const response = await verified({ username: 'Alice@Example.COM', pin: KNOWN_PIN });

    expect(response.deviceId).toBe(PENDING_ID);
    expect(cognito.commandCalls(AdminGetUserCommand).map((call) => call.args[0].input.Username)).toEqual([
      'Alice@Example.COM',
      ALICE_EMAIL,
    ]);
  });

  it('asks the pool once when the name as typed is already in lower case', async () => {
    cognito
      .on(AdminGetUserCommand)
      .rejects(new UserNotFoundException({ message: 'User does not exist.', $metadata: {} }));

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(cognito).toHaveReceivedCommandTimes(AdminGetUserCommand, 1);
  });

  it('picks, among several pending registrations, the one the PIN belongs to', async () => {
    table.putDevice(
      pendingRegistration({
        deviceId: OTHER_ID,
        registration: pinRegistration({ pin: knownPin({ hmac: pinHmac('99998888', OTHER_ID) }) }),
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
  it('takes one try of the PIN by a conditional update before comparing it', async () => {
    await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });

    expect(pinTries()).toEqual([
      expect.objectContaining({
        Key: { pk: `USER#${ALICE_SUB}`, sk: `DEVICE#${PENDING_ID}` },
        UpdateExpression:
          'SET #device.#registration.#pin.#tries = #device.#registration.#pin.#tries + :one, #device.#version = #device.#version + :one',
        ConditionExpression: expect.stringContaining('#device.#registration.#pin.#hmac = :hmac'),
        ExpressionAttributeValues: {
          ':one': 1,
          ':hmac': KNOWN_PIN_HMAC,
          ':max': 5,
          ':now': NOW.toISOString(),
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    ]);
  });

  it('takes a try for the right PIN too: every comparison costs one', async () => {
    await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(pinTries()).toHaveLength(1);
  });

  it('answers 401 BAD_CREDENTIALS to a wrong PIN, with the try counted and a REGISTRATION_PIN_REJECTED audit event', async () => {
    table.putDevice(pendingRegistration({ registration: pinRegistration({ pin: knownPin({ tries: 1 }) }) }));

    const result = await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(table.device(PENDING_ID)).toMatchObject({ version: 3, registration: { pin: { tries: 2 } } });
    expect(table.device(PENDING_ID)?.registration?.usedAt).toBeUndefined();
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(singlePuts('AUDIT').map((put) => put.Item?.event as AuditEvent)).toEqual([
      expect.objectContaining({
        action: 'REGISTRATION_PIN_REJECTED',
        result: 'FAILURE',
        deviceId: PENDING_ID,
        userSub: ALICE_SUB,
      }),
    ]);
  });

  it('answers a wrong PIN no sooner than the failure floor after the request started', async () => {
    const started = performance.now();

    await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });

    expect(performance.now() - started).toBeGreaterThanOrEqual(FAILURE_FLOOR_MS - 5);
  });

  it("counts a wrong PIN against the account's daily failures", async () => {
    await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });

    expect(incrementedCounters()).toEqual([
      'GO#203.0.113.7 COUNTER#ATTEMPTS#2025-06-02T10:15:00.000Z',
      GO_FAILURES,
    ]);
  });

  it('gives the daily failure slot back when the PIN is right', async () => {
    await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(incrementedCounters().filter((counter) => counter === GO_FAILURES)).toHaveLength(2);
    expect(counterUpdates().at(-1)?.UpdateExpression).toBe('ADD #count :minusOne');
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

    expect(errorOf(result)).toEqual(BAD_PIN);
  });

  it('takes the fifth and last try on a fifth wrong PIN and answers BAD_CREDENTIALS', async () => {
    table.putDevice(pendingRegistration({ registration: pinRegistration({ pin: knownPin({ tries: 4 }) }) }));

    const result = await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(table.device(PENDING_ID)?.registration?.pin?.tries).toBe(5);
  });

  it('answers the right PIN after five tries with BAD_CREDENTIALS, taking no try and writing nothing', async () => {
    table.putDevice(pendingRegistration({ registration: pinRegistration({ pin: knownPin({ tries: 5 }) }) }));

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(pinTries()).toEqual([]);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers the right PIN with BAD_CREDENTIALS when its try cannot be taken (parallel guesses used the last ones)', async () => {
    dynamo
      .on(UpdateCommand, { Key: { pk: `USER#${ALICE_SUB}`, sk: `DEVICE#${PENDING_ID}` } })
      .rejects(conditionalCheckFailed());

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(pinTries()).toHaveLength(1);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 401 BAD_CREDENTIALS to the right PIN after the registration expired', async () => {
    table.putDevice(
      pendingRegistration({ registration: pinRegistration({ expiresAt: minutesAfterNow(-1) }) }),
    );

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 401 BAD_CREDENTIALS at the very moment of expiry', async () => {
    table.putDevice(
      pendingRegistration({ registration: pinRegistration({ expiresAt: minutesAfterNow(0) }) }),
    );

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
  });

  it('answers 401 BAD_CREDENTIALS to a PIN that was already used', async () => {
    table.putDevice(pendingRegistration({ registration: pinRegistration({ usedAt: minutesAfterNow(-2) }) }));

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(pinTries()).toEqual([]);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 401 BAD_CREDENTIALS to the request that loses the race for the same PIN', async () => {
    dynamo.on(TransactWriteCommand).callsFake(() => {
      // The other request completed first: its write is what the re-read finds.
      table.putDevice(
        pendingRegistration({ registration: pinRegistration({ usedAt: minutesAfterNow(0) }), version: 4 }),
      );
      throw transactionCanceled();
    });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('decides again on a fresh read after a lost race: a concurrent version bump is retried and succeeds', async () => {
    dynamo.on(TransactWriteCommand).callsFakeOnce(() => {
      // Meanwhile the portal recorded an invitation delivery on the device: version 3 → 4.
      table.putDevice(pendingRegistration({ version: 4 }));
      throw transactionCanceled();
    });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(result.statusCode).toBe(200);
    expect(transactions()).toHaveLength(2);
    expect(devicePut(transaction(0))).toMatchObject(versionCondition(3));
    expect(devicePut(transaction(1))).toMatchObject(versionCondition(4));
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

  it('refuses the right password of a user with a second factor (TOTP) with the same BAD_CREDENTIALS', async () => {
    cognito.on(AdminGetUserCommand).resolves({
      Username: ALICE_SUB,
      UserAttributes: ALICE_ATTRIBUTES,
      Enabled: true,
      UserMFASettingList: ['SOFTWARE_TOKEN_MFA'],
      PreferredMfaSetting: 'SOFTWARE_TOKEN_MFA',
    });

    const result = await verify({ username: ALICE_EMAIL, password: 'correct horse' });

    expect(errorOf(result)).toEqual(BAD_PASSWORD);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(incrementedCounters()).toContain(GO_FAILURES);
  });

  it('fails closed when Cognito answers the password with an MFA challenge', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 's' });

    const result = await verify({ username: ALICE_EMAIL, password: 'correct horse' });

    expect(errorOf(result)).toEqual(BAD_PASSWORD);
  });

  it('fails closed when the password is a temporary one still to be changed (NEW_PASSWORD_REQUIRED)', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' });

    const result = await verify({ username: ALICE_EMAIL, password: 'correct horse' });

    expect(errorOf(result)).toEqual(BAD_PASSWORD);
  });

  it('answers 401 BAD_CREDENTIALS to a wrong password and counts the failure', async () => {
    cognito
      .on(AdminInitiateAuthCommand)
      .rejects(new NotAuthorizedException({ message: 'Incorrect username or password.', $metadata: {} }));

    const result = await verify({ username: ALICE_EMAIL, password: 'wrong' });

    expect(errorOf(result)).toEqual(BAD_PASSWORD);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(incrementedCounters()).toContain(GO_FAILURES);
  });

  it('answers an unknown user exactly as a wrong password or a wrong PIN, per proof kind', async () => {
    cognito
      .on(AdminInitiateAuthCommand)
      .rejects(new NotAuthorizedException({ message: 'Incorrect username or password.', $metadata: {} }));
    const wrongPassword = await verify({ username: ALICE_EMAIL, password: 'wrong' });
    const wrongPin = await verify({ username: ALICE_EMAIL, pin: WRONG_PIN });
    cognito
      .on(AdminGetUserCommand)
      .rejects(new UserNotFoundException({ message: 'User does not exist.', $metadata: {} }));

    const unknownWithPin = await verify({ username: 'nobody@example.com', pin: KNOWN_PIN });
    const unknownWithPassword = await verify({ username: 'nobody@example.com', password: 'wrong' });

    expect(errorOf(wrongPassword)).toEqual(BAD_PASSWORD);
    expect(errorOf(unknownWithPassword)).toEqual(errorOf(wrongPassword));
    expect(errorOf(wrongPin)).toEqual(BAD_PIN);
    expect(errorOf(unknownWithPin)).toEqual(errorOf(wrongPin));
  });

  it('counts an unknown account by the sha-256 of the lowercased name typed, as a real one is by its sub', async () => {
    cognito
      .on(AdminGetUserCommand)
      .rejects(new UserNotFoundException({ message: 'User does not exist.', $metadata: {} }));

    await verify({ username: ' Nobody@Example.com', pin: KNOWN_PIN });

    expect(incrementedCounters()).toContain(
      `GO#NAME#${sha256Hex('nobody@example.com')} COUNTER#GO_FAILURES#${DAY_WINDOW_END.toISOString()}`,
    );
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it('answers 401 BAD_CREDENTIALS to a disabled account, even with the right PIN', async () => {
    cognito.on(AdminGetUserCommand).resolves({ Username: ALICE_SUB, UserAttributes: [], Enabled: false });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(pinTries()).toEqual([]);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('POST /api/enroll/verify with a QR token', () => {
  it('uses up the QR secret in the same transaction, only if it is unused and unexpired', async () => {
    withQrRegistration();

    await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    const secretUpdates = updates(onlyTransaction()).filter((u) => String(u.Key?.pk).startsWith('SECRET#'));
    expect(secretUpdates).toEqual([
      expect.objectContaining({
        Key: { pk: `SECRET#${QR_HASH}`, sk: 'SECRET' },
        UpdateExpression: 'SET #secret.#usedAt = :now',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(#secret.#usedAt) AND #secret.#expiresAt > :now',
      }),
    ]);
  });

  it('still needs the PIN: a QR token with a wrong PIN answers 401 BAD_CREDENTIALS and uses nothing up', async () => {
    withQrRegistration();

    const result = await verify({ username: ALICE_EMAIL, pin: WRONG_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it("answers 401 BAD_CREDENTIALS to another user's QR token, even with the right PIN", async () => {
    withQrRegistration();
    table.putSecret({
      hash: QR_HASH,
      kind: 'QR',
      userSub: '99999999-2222-4333-8444-555555555555',
      deviceId: PENDING_ID,
      expiresAt: minutesAfterNow(55),
    });

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(pinTries()).toEqual([]);
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

  it('answers 401 BAD_CREDENTIALS to a QR token whose registration a resend has moved on from', async () => {
    withQrRegistration();
    table.putDevice(
      pendingRegistration({
        platform: 'IOS',
        registration: pinRegistration({ method: 'QR', qrTokenHash: sha256Hex('the-newer-qr-token-00') }),
      }),
    );

    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toEqual(BAD_PIN);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it.each([
    ['too short', 'abc'],
    ['with a character no token has', 'qr-token-for-tests-00/1'],
    ['cut off by a mail client', 'qr-token-for-tests-0001%'],
  ])(
    'answers 410 QR_CODE_INVALID to a damaged QR token (%s) without asking Cognito or the table',
    async (_how, qrToken) => {
      const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken });

      expect(errorOf(result)).toEqual({
        status: 410,
        code: 'QR_CODE_INVALID',
        message: 'This QR code is damaged or old: generate a new one in the portal.',
      });
      expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
      expect(dynamo).not.toHaveReceivedCommandWith(GetCommand, {
        Key: { pk: expect.stringMatching(/^SECRET#/), sk: 'SECRET' },
      });
      expect(pinTries()).toEqual([]);
      expect(incrementedCounters().filter((counter) => counter.includes('GO_FAILURES'))).toEqual([]);
    },
  );

  it('answers 410 QR_CODE_INVALID to an unknown QR token before looking at the account', async () => {
    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, qrToken: QR_TOKEN });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'QR_CODE_INVALID' });
    expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
    expect(incrementedCounters().filter((counter) => counter.includes('GO_FAILURES'))).toEqual([]);
  });
});

describe("POST /api/enroll/verify: the phone's platform", () => {
  it('answers 409 PLATFORM_MISMATCH to the right PIN from a phone of the other platform, writing nothing', async () => {
    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, platform: 'IOS' });

    expect(errorOf(result)).toEqual({
      status: 409,
      code: 'PLATFORM_MISMATCH',
      message:
        'This registration is for an Android device. Open this page on that device; your PIN still works there.',
    });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(table.device(PENDING_ID)?.registration?.pin).toEqual({ ...knownPin(), tries: 1 });
  });

  it('gives the daily failure slot back on PLATFORM_MISMATCH: the PIN was right', async () => {
    await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, platform: 'IOS' });

    expect(incrementedCounters().filter((counter) => counter === GO_FAILURES)).toHaveLength(2);
    expect(counterUpdates().at(-1)?.UpdateExpression).toBe('ADD #count :minusOne');
  });

  it('answers a wrong PIN from a phone of the other platform as any wrong PIN', async () => {
    const result = await verify({ username: ALICE_EMAIL, pin: WRONG_PIN, platform: 'IOS' });

    expect(errorOf(result)).toEqual(BAD_PIN);
  });

  it('proceeds with the right PIN from a phone of the platform registered', async () => {
    const response = await verified({ username: ALICE_EMAIL, pin: KNOWN_PIN, platform: 'ANDROID' });

    expect(response).toMatchObject({ deviceId: PENDING_ID, platform: 'ANDROID' });
  });

  it('answers 409 CHOOSE_REGISTRATION with the choices when the password fits several registrations for this phone', async () => {
    table.putDevice(
      pendingRegistration({ deviceId: OTHER_ID, name: 'Work phone', createdAt: minutesAfterNow(-2) }),
    );

    const result = await verify({ username: ALICE_EMAIL, password: 'correct horse', platform: 'ANDROID' });

    expect(result.statusCode).toBe(409);
    expect(jsonBody<{ error: unknown }>(result).error).toEqual({
      code: 'CHOOSE_REGISTRATION',
      message:
        'You have several registrations waiting for this kind of device. Choose the one for this device.',
      details: {
        choices: [
          { deviceId: OTHER_ID, name: 'Work phone', platform: 'ANDROID', createdAt: minutesAfterNow(-2) },
          { deviceId: PENDING_ID, name: null, platform: 'ANDROID', createdAt: minutesAfterNow(-5) },
        ],
      },
    });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(counterUpdates().at(-1)?.UpdateExpression).toBe('ADD #count :minusOne');
  });

  it('completes the registration chosen from CHOOSE_REGISTRATION', async () => {
    table.putDevice(pendingRegistration({ deviceId: OTHER_ID, createdAt: minutesAfterNow(-2) }));

    const response = await verified({
      username: ALICE_EMAIL,
      password: 'correct horse',
      platform: 'ANDROID',
      deviceId: PENDING_ID,
    });

    expect(response.deviceId).toBe(PENDING_ID);
    expect(writtenDevice(onlyTransaction()).deviceId).toBe(PENDING_ID);
  });

  it("completes, with the password, the one registration for this phone's platform among several", async () => {
    table.putDevice(pendingRegistration({ deviceId: OTHER_ID, platform: 'IOS', facts: { platform: 'IOS' } }));

    const response = await verified({ username: ALICE_EMAIL, password: 'correct horse', platform: 'IOS' });

    expect(response).toMatchObject({ deviceId: OTHER_ID, platform: 'IOS' });
  });

  it('answers 409 PLATFORM_MISMATCH to the right password when every registration is for the other platform', async () => {
    const result = await verify({ username: ALICE_EMAIL, password: 'correct horse', platform: 'IOS' });

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'PLATFORM_MISMATCH' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(counterUpdates().at(-1)?.UpdateExpression).toBe('ADD #count :minusOne');
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
    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, userSub: ALICE_SUB });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('answers 400 VALIDATION_FAILED, in a sentence, to a chosen deviceId that is not an id the portal issued', async () => {
    const result = await verify({ username: ALICE_EMAIL, password: 'correct horse', deviceId: 'dev-1' });

    expect(errorOf(result)).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'That is not an id this portal issued.',
    });
    expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
  });

  it('answers 400 VALIDATION_FAILED, in a sentence, to a platform that is neither iPhone/iPad nor Android', async () => {
    const result = await verify({ username: ALICE_EMAIL, pin: KNOWN_PIN, platform: 'WINDOWS' });

    expect(errorOf(result)).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'Choose iPhone/iPad or Android.',
    });
  });

  it('answers 400 MALFORMED_JSON to a body that is not JSON', async () => {
    const result = await handler(
      apiEvent({ method: 'POST', path: '/api/enroll/verify', body: 'username=alice' }),
      lambdaContext('EnrollVerify'),
    );

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
  });
});
