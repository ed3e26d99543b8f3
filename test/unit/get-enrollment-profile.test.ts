import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SecretRecord } from '../../functions/core/ports.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { handler } from '../../functions/handlers/get-enrollment-profile.ts';
import { ALICE_SUB, apiEvent, lambdaContext } from './fixtures.ts';
import {
  dynamo,
  errorOf,
  type FakeTable,
  minutesAfterNow,
  PENDING_ID,
  pendingRegistration,
  pinRegistration,
  resetMocks,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const TOKEN = 'enrollment-token-for-ios-01';

let table: FakeTable;

function enrollmentSecret(overrides: Partial<SecretRecord> = {}): SecretRecord {
  return {
    hash: sha256Hex(TOKEN),
    kind: 'ENROLLMENT',
    userSub: ALICE_SUB,
    deviceId: PENDING_ID,
    expiresAt: minutesAfterNow(50),
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
          usedAt: minutesAfterNow(-10),
          enrollmentTokenHash: sha256Hex(TOKEN),
        }),
      }),
    )
    .putSecret(enrollmentSecret());
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

  it('carries the enrollment token, the device and the agent URLs of this portal', async () => {
    const body = (await profile(TOKEN)).body ?? '';

    expect(body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(body).toContain(`<key>EnrollmentToken</key><string>${TOKEN}</string>`);
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

  it('does not use the token up: the agent still needs it', async () => {
    await profile(TOKEN);

    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    expect(dynamo.calls()).toHaveLength(dynamo.commandCalls(GetCommand).length);
  });

  it('answers 400 NOT_IOS for an Android registration', async () => {
    table.putDevice(
      pendingRegistration({
        registration: pinRegistration({
          usedAt: minutesAfterNow(-10),
          enrollmentTokenHash: sha256Hex(TOKEN),
        }),
      }),
    );

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'NOT_IOS' });
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to a used token', async () => {
    table.putSecret(enrollmentSecret({ usedAt: minutesAfterNow(-1) }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
    expect(result.body).not.toContain(TOKEN);
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to an expired token', async () => {
    table.putSecret(enrollmentSecret({ expiresAt: minutesAfterNow(-1) }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to a QR token used as an enrollment token', async () => {
    table.putSecret(enrollmentSecret({ kind: 'QR' }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID when the registration was cancelled meanwhile', async () => {
    table.putDevice(pendingRegistration({ platform: 'IOS', status: 'CANCELLED', registration: null }));

    const result = await profile(TOKEN);

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
  });

  it('answers 400 TOKEN_REQUIRED without a token or with one that cannot be a token, reading nothing', async () => {
    const missing = await profile(undefined);
    const malformed = await profile('<script>');

    expect(errorOf(missing)).toMatchObject({ status: 400, code: 'TOKEN_REQUIRED' });
    expect(errorOf(malformed)).toMatchObject({ status: 400, code: 'TOKEN_REQUIRED' });
    expect(dynamo.calls()).toEqual([]);
  });
});
