import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SecretRecord } from '../../functions/core/ports.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { handler } from '../../functions/handlers/get-enrollment-profile.ts';
import { ALICE_SUB, apiEvent, lambdaContext } from './fixtures.ts';
import {
  devicePut,
  dynamo,
  errorOf,
  type FakeTable,
  minutesAfterNow,
  onlyTransaction,
  PENDING_ID,
  pendingRegistration,
  pinRegistration,
  resetMocks,
  secretPuts,
  transactionCanceled,
  updates,
  versionCondition,
  writtenDevice,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

/** The short, single-use PROFILE token of the link /go handed out. */
const TOKEN = 'profile-token-for-ios-0001';

let table: FakeTable;

function profileSecret(overrides: Partial<SecretRecord> = {}): SecretRecord {
  return {
    hash: sha256Hex(TOKEN),
    kind: 'PROFILE',
    userSub: ALICE_SUB,
    deviceId: PENDING_ID,
    expiresAt: minutesAfterNow(8),
    ...overrides,
  };
}

async function profile(token: string | undefined) {
  return handler(
    apiEvent({
      method: 'GET',
      path: '/api/enroll/profile',
      ...(token !== undefined ? { queryStringParameters: { token } } : {}),
    }),
    lambdaContext('GetEnrollmentProfile'),
  );
}

beforeEach(() => {
  table = resetMocks()
    .putDevice(
      pendingRegistration({
        platform: 'IOS',
        facts: { platform: 'IOS' },
        registration: pinRegistration({
          usedAt: minutesAfterNow(-2),
          profileTokenHash: sha256Hex(TOKEN),
          enrollmentExpiresAt: minutesAfterNow(8),
        }),
      }),
    )
    .putSecret(profileSecret());
});

afterEach(() => {
  vi.useRealTimers();
});

describe('GET /api/enroll/profile', () => {
  it('answers the profile as application/x-apple-aspen-config, as a download', async () => {
    const result = await profile(TOKEN);

    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/x-apple-aspen-config');
    expect(result.headers?.['content-disposition']).toBe('attachment; filename="enroll.mobileconfig"');
  });

  it('carries a fresh enrollment token, the device and the agent URLs of this portal, not the link token', async () => {
    const body = (await profile(TOKEN)).body ?? '';

    expect(body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    const enrollmentToken = /<key>EnrollmentToken<\/key><string>([^<]*)<\/string>/.exec(body)?.[1] ?? '';
    expect(enrollmentToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(enrollmentToken).not.toBe(TOKEN);
    expect(body).not.toContain(TOKEN);
    expect(body).toContain(`<key>DeviceId</key><string>${PENDING_ID}</string>`);
    expect(body).toContain('<string>https://portal.example.com/api/agent/enroll</string>');
    expect(body).toContain('<key>PayloadType</key><string>Configuration</string>');
  });

  it('looks the token up by its hash with a consistent read', async () => {
    await profile(TOKEN);

    expect(dynamo).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'portal-test',
      Key: { pk: `SECRET#${sha256Hex(TOKEN)}`, sk: 'SECRET' },
      ConsistentRead: true,
    });
  });

  it('uses the profile token up and mints the ENROLLMENT token inside the profile, in one transaction', async () => {
    const body = (await profile(TOKEN)).body ?? '';

    const enrollmentToken = /<key>EnrollmentToken<\/key><string>([^<]*)<\/string>/.exec(body)?.[1] ?? '';
    const items = onlyTransaction();
    expect(devicePut(items)).toMatchObject(versionCondition(2));
    expect(updates(items)).toEqual([
      expect.objectContaining({
        Key: { pk: `SECRET#${sha256Hex(TOKEN)}`, sk: 'SECRET' },
        UpdateExpression: 'SET #secret.#usedAt = :now',
        ConditionExpression: expect.stringContaining('attribute_not_exists(#secret.#usedAt)'),
      }),
    ]);
    expect(secretPuts(items).map((put) => put.secret)).toEqual([
      {
        hash: sha256Hex(enrollmentToken),
        kind: 'ENROLLMENT',
        userSub: ALICE_SUB,
        deviceId: PENDING_ID,
        expiresAt: minutesAfterNow(60),
      },
    ]);
    expect(writtenDevice(items).registration).toMatchObject({
      enrollmentTokenHash: sha256Hex(enrollmentToken),
      enrollmentExpiresAt: minutesAfterNow(60),
    });
    expect(JSON.stringify(items)).not.toContain(enrollmentToken);
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to the second download racing for the same link', async () => {
    dynamo.on(TransactWriteCommand).callsFake(() => {
      // The other download used the link first: the token is used and the device moved on.
      table.putSecret(profileSecret({ usedAt: minutesAfterNow(0) }));
      throw transactionCanceled();
    });

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it("answers 401 ENROLLMENT_TOKEN_INVALID to an Android registration's enrollment token used as a profile link", async () => {
    table
      .putDevice(
        pendingRegistration({
          registration: pinRegistration({
            usedAt: minutesAfterNow(-10),
            enrollmentTokenHash: sha256Hex(TOKEN),
          }),
        }),
      )
      .putSecret(profileSecret({ kind: 'ENROLLMENT', expiresAt: minutesAfterNow(50) }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to a used token', async () => {
    table.putSecret(profileSecret({ usedAt: minutesAfterNow(-1) }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
    expect(result.body).not.toContain(TOKEN);
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to an expired token', async () => {
    table.putSecret(profileSecret({ expiresAt: minutesAfterNow(-1) }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to a QR token used as a profile token', async () => {
    table.putSecret(profileSecret({ kind: 'QR' }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID when the registration was cancelled meanwhile', async () => {
    table.putDevice(pendingRegistration({ platform: 'IOS', status: 'CANCELLED', registration: null }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
  });

  it('answers 400 VALIDATION_FAILED without a token or with one that cannot be a token, reading nothing', async () => {
    const missing = await profile(undefined);
    const malformed = await profile('<script>');

    expect(errorOf(missing)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(errorOf(missing).message).toContain('token');
    expect(errorOf(malformed)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(dynamo.calls()).toEqual([]);
  });
});
