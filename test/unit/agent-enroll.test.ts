import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentEnrollResponse, DeviceFacts } from '../../functions/core/api-types.ts';
import type { SecretRecord } from '../../functions/core/ports.ts';
import { parseDeviceCredential, sha256Hex } from '../../functions/core/secrets.ts';
import { handler } from '../../functions/handlers/agent-enroll.ts';
import {
  ALICE_EMAIL,
  ALICE_SUB,
  apiEvent,
  CERTIFICATE_ID,
  certificateRecord,
  jsonBody,
  lambdaContext,
} from './fixtures.ts';
import {
  auditEvents,
  cognito,
  counterUpdates,
  devicePut,
  dynamo,
  errorOf,
  type FakeTable,
  incrementedCounters,
  KNOWN_PIN,
  minutesAfterNow,
  onlyTransaction,
  PENDING_ID,
  pendingRegistration,
  pinRegistration,
  pinTries,
  resetMocks,
  transactionCanceled,
  updates,
  versionCondition,
  writtenDevice,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const TOKEN = 'enrollment-token-android-1';
const TOKEN_HASH = sha256Hex(TOKEN);
const OTHER_CERTIFICATE_ID = 'e0000000-0000-4000-8000-000000000002';

const FACTS: DeviceFacts = {
  platform: 'ANDROID',
  deviceType: 'Pixel 8',
  manufacturer: 'Google',
  osVersion: '14',
  imei: '356938035643809',
  phoneNumber: '+15555550199',
  carrier: 'Example Mobile',
};

let table: FakeTable;

function enrollmentSecret(overrides: Partial<SecretRecord> = {}): SecretRecord {
  return {
    hash: TOKEN_HASH,
    kind: 'ENROLLMENT',
    userSub: ALICE_SUB,
    deviceId: PENDING_ID,
    expiresAt: minutesAfterNow(50),
    ...overrides,
  };
}

async function enroll(body: unknown) {
  return handler(
    apiEvent({ method: 'POST', path: '/api/agent/enroll', body: JSON.stringify(body) }),
    lambdaContext('AgentEnroll'),
  );
}

async function enrolled(body: unknown): Promise<AgentEnrollResponse> {
  const result = await enroll(body);
  expect(result.statusCode).toBe(201);
  return jsonBody<AgentEnrollResponse>(result);
}

beforeEach(() => {
  table = resetMocks()
    .putDevice(
      pendingRegistration({
        registration: pinRegistration({ usedAt: minutesAfterNow(-10), enrollmentTokenHash: TOKEN_HASH }),
      }),
    )
    .putSecret(enrollmentSecret());
});

afterEach(() => {
  vi.useRealTimers();
});

describe('POST /api/agent/enroll with an enrollment token', () => {
  it('answers 201 with a dc1. device credential naming the owner and the device', async () => {
    const response = await enrolled({ enrollmentToken: TOKEN, device: FACTS });

    expect(response.deviceId).toBe(PENDING_ID);
    expect(response.deviceCredential).toMatch(
      new RegExp(`^dc1\\.${ALICE_SUB}\\.${PENDING_ID}\\.[A-Za-z0-9_-]{43}$`),
    );
  });

  it('writes the device ACTIVE with the facts, registeredAt and no registration, version checked', async () => {
    await enrolled({ enrollmentToken: TOKEN, device: FACTS });

    const items = onlyTransaction();
    expect(devicePut(items)).toMatchObject(versionCondition(2));
    expect(writtenDevice(items)).toMatchObject({
      userSub: ALICE_SUB,
      deviceId: PENDING_ID,
      status: 'ACTIVE',
      facts: FACTS,
      registeredAt: '2025-06-02T10:00:00.000Z',
      lastCheckInAt: '2025-06-02T10:00:00.000Z',
      registration: null,
      version: 3,
    });
    expect(auditEvents(items)).toEqual([
      expect.objectContaining({
        action: 'DEVICE_ENROLLED',
        detail: 'Google Pixel 8 14',
        deviceId: PENDING_ID,
      }),
    ]);
  });

  it("stores sha256 of the credential's secret part, never the credential", async () => {
    const response = await enrolled({ enrollmentToken: TOKEN, device: FACTS });

    const secret = response.deviceCredential.split('.')[3] ?? '';
    const items = onlyTransaction();
    expect(writtenDevice(items).credentialHash).toBe(sha256Hex(secret));
    expect(writtenDevice(items).credentialHash).toBe(
      parseDeviceCredential(response.deviceCredential)?.secretHash,
    );
    expect(JSON.stringify(items)).not.toContain(secret);
  });

  it('marks the enrollment secret used in the same transaction, only if it was unused', async () => {
    await enrolled({ enrollmentToken: TOKEN, device: FACTS });

    const secretUpdates = updates(onlyTransaction()).filter((u) => String(u.Key?.pk).startsWith('SECRET#'));
    expect(secretUpdates).toEqual([
      expect.objectContaining({
        Key: { pk: `SECRET#${TOKEN_HASH}`, sk: 'SECRET' },
        UpdateExpression: 'SET #secret.#usedAt = :now',
        ConditionExpression: expect.stringContaining('attribute_not_exists(#secret.#usedAt)'),
        ExpressionAttributeNames: expect.objectContaining({ '#secret': 'secret', '#usedAt': 'usedAt' }),
      }),
    ]);
  });

  it("checks the user's device-limit lock in the same transaction", async () => {
    await enrolled({ enrollmentToken: TOKEN, device: FACTS });

    const lockUpdates = updates(onlyTransaction()).filter((u) => u.Key?.sk === 'LIMIT#DEVICES');
    expect(lockUpdates).toEqual([
      expect.objectContaining({
        Key: { pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#DEVICES' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ]);
  });

  it("queues an install of each of the user's certificates in the activation, on the set's version read", async () => {
    table
      .putCertificate(certificateRecord())
      .putCertificate(certificateRecord({ certificateId: OTHER_CERTIFICATE_ID, name: 'alice-vpn' }))
      .putCertificateSet(4, 2);

    await enrolled({ enrollmentToken: TOKEN, device: FACTS });

    const items = onlyTransaction();
    expect(items.filter((i) => i.ConditionCheck)).toEqual([
      {
        ConditionCheck: {
          TableName: 'portal-test',
          Key: { pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#CERTIFICATES' },
          ConditionExpression: '#version = :read',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':read': 4 },
        },
      },
    ]);
    const installs = items.flatMap((i) => (i.Put?.Item?.type === 'COMMAND' ? [i.Put] : []));
    expect(installs.map((put) => put.ConditionExpression)).toEqual([
      'attribute_not_exists(pk)',
      'attribute_not_exists(pk)',
    ]);
    expect(installs.map((put) => put.Item?.command)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'INSTALL_CERTIFICATE',
          deviceId: PENDING_ID,
          status: 'QUEUED',
          certificate: expect.objectContaining({ certificateId: CERTIFICATE_ID }),
        }),
        expect.objectContaining({
          certificate: expect.objectContaining({ certificateId: OTHER_CERTIFICATE_ID }),
        }),
      ]),
    );
  });

  it('checks that the user still has no certificates when it read none, and queues no install', async () => {
    await enrolled({ enrollmentToken: TOKEN, device: FACTS });

    const items = onlyTransaction();
    expect(items.filter((i) => i.ConditionCheck).map((i) => i.ConditionCheck)).toEqual([
      expect.objectContaining({
        Key: { pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#CERTIFICATES' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ]);
    expect(items.filter((i) => i.Put?.Item?.type === 'COMMAND')).toEqual([]);
  });

  it('needs no rate-limit slot and no directory look-up: the token is the proof', async () => {
    await enrolled({ enrollmentToken: TOKEN, device: FACTS });

    expect(incrementedCounters()).toEqual([]);
    expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
  });

  it('answers 400 PLATFORM_MISMATCH when an iPhone enrolls on an Android registration', async () => {
    const result = await enroll({ enrollmentToken: TOKEN, device: { ...FACTS, platform: 'IOS' } });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'PLATFORM_MISMATCH' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to a used token', async () => {
    table.putSecret(enrollmentSecret({ usedAt: minutesAfterNow(-1) }));

    const result = await enroll({ enrollmentToken: TOKEN, device: FACTS });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to an unknown token', async () => {
    const result = await enroll({ enrollmentToken: 'not-a-known-token-000', device: FACTS });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
  });

  it('answers 401 ENROLLMENT_TOKEN_INVALID to the second of two agents racing with the same token', async () => {
    dynamo.on(TransactWriteCommand).callsFake(() => {
      // The other agent enrolled first: its write is what the re-read finds.
      table.putDevice(pendingRegistration({ status: 'ACTIVE', registration: null, version: 3 }));
      throw transactionCanceled();
    });

    const result = await enroll({ enrollmentToken: TOKEN, device: FACTS });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'ENROLLMENT_TOKEN_INVALID' });
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('answers 400 VALIDATION_FAILED to facts with an unknown field', async () => {
    const result = await enroll({ enrollmentToken: TOKEN, device: { ...FACTS, jailbroken: false } });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('answers 400 TOKEN_OR_PIN with neither a token nor a user name and PIN', async () => {
    const result = await enroll({ username: ALICE_EMAIL, device: FACTS });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'TOKEN_OR_PIN' });
  });
});

describe('POST /api/agent/enroll with a user name and PIN', () => {
  beforeEach(() => {
    table.putDevice(pendingRegistration());
  });

  it('enrolls the pending device the PIN belongs to: 201, ACTIVE, credential hash stored', async () => {
    const response = await enrolled({ username: ALICE_EMAIL, pin: KNOWN_PIN, device: FACTS });

    expect(response.deviceId).toBe(PENDING_ID);
    const device = writtenDevice(onlyTransaction());
    expect(device).toMatchObject({ status: 'ACTIVE', registration: null, facts: FACTS });
    expect(device.credentialHash).toBe(parseDeviceCredential(response.deviceCredential)?.secretHash);
    expect(cognito).toHaveReceivedCommandWith(AdminGetUserCommand, { Username: ALICE_EMAIL });
  });

  it('takes a per-address attempt and a daily failure slot, given back on success, like the /go page', async () => {
    await enrolled({ username: ALICE_EMAIL, pin: KNOWN_PIN, device: FACTS });

    expect(incrementedCounters()).toEqual([
      'GO#203.0.113.7 COUNTER#ATTEMPTS#2025-06-02T10:15:00.000Z',
      `USER#${ALICE_SUB} COUNTER#GO_FAILURES#2025-06-03T00:00:00.000Z`,
      `USER#${ALICE_SUB} COUNTER#GO_FAILURES#2025-06-03T00:00:00.000Z`,
    ]);
    const [, taken, givenBack] = counterUpdates();
    expect(taken?.UpdateExpression).toContain('ADD #count :one');
    expect(givenBack?.UpdateExpression).toBe('ADD #count :minusOne');
  });

  it('answers 401 BAD_CREDENTIALS to a wrong PIN, taking a try and writing no active device', async () => {
    const result = await enroll({ username: ALICE_EMAIL, pin: '11112222', device: FACTS });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'BAD_CREDENTIALS' });
    expect(pinTries()).toHaveLength(1);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(table.device(PENDING_ID)).toMatchObject({
      status: 'PENDING',
      registration: { pin: { tries: 1 } },
    });
  });

  it('answers 400 PLATFORM_MISMATCH when the facts name another platform', async () => {
    const result = await enroll({
      username: ALICE_EMAIL,
      pin: KNOWN_PIN,
      device: { ...FACTS, platform: 'IOS', manufacturer: 'Apple' },
    });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'PLATFORM_MISMATCH' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});
