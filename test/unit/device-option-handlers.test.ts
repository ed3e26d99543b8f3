/**
 * Issue 12's handlers over the mocked AWS clients (portal-mocks' FakeTable): what only the HTTP
 * stack shows (recent sign-in, status codes, the DynamoDB calls and their order).
 */
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  DerivedCredentialStart,
  DeviceDetailResponse,
  SecureAppsPasscodeResponse,
} from '../../functions/core/api-types.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { handler as agentVerify } from '../../functions/handlers/agent-verify-secure-apps-passcode.ts';
import { handler as changeOwnership } from '../../functions/handlers/change-ownership.ts';
import { handler as completeDerived } from '../../functions/handlers/complete-derived-credential.ts';
import { handler as renameDevice } from '../../functions/handlers/rename-device.ts';
import { handler as resetPasscode } from '../../functions/handlers/reset-secure-apps-passcode.ts';
import { handler as startDerived } from '../../functions/handlers/start-derived-credential.ts';
import {
  ALICE_SUB,
  apiEvent,
  deviceRecord,
  groupClaims,
  type JwtClaims,
  jsonBody,
  lambdaContext,
  NOW,
} from './fixtures.ts';
import {
  dynamo,
  errorOf,
  type FakeTable,
  onlyTransaction,
  pinHmac,
  pinTries,
  resetMocks,
  secretPuts,
  versionCondition,
  writtenDevice,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const DEVICE_ID = 'b0000000-0000-4000-8000-000000000012';
const PENDING_ID = 'b0000000-0000-4000-8000-000000000013';
const NOW_S = Math.floor(NOW.getTime() / 1000);
const SECRET = 'Q2hlY2staW4tc2VjcmV0LWZvci10aGUtdW5pdC10ZXM';
const AGENT_AUTH = `Device dc1.${ALICE_SUB}.${DEVICE_ID}.${SECRET}`;
const ENTRUST = 'https://entrust.example.com/IdentityGuardSelfService';
const PIN = '13572468';
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

const admin = (overrides: JwtClaims = {}) => groupClaims(['portal-admins'], overrides);

const activeDevice = (overrides: Partial<DeviceRecord> = {}) =>
  deviceRecord({
    deviceId: DEVICE_ID,
    platform: 'ANDROID',
    managementMode: 'FULLY_MANAGED',
    ownership: 'COMPANY',
    credentialHash: sha256Hex(SECRET),
    secureAppsContainer: true,
    version: 5,
    ...overrides,
  });

const pendingDevice = () =>
  deviceRecord({
    deviceId: PENDING_ID,
    status: 'PENDING',
    platform: 'ANDROID',
    facts: { platform: 'ANDROID' },
    registeredAt: null,
    lastCheckInAt: null,
    credentialHash: undefined,
    version: 2,
    registration: {
      method: 'PIN',
      expiresAt: at(60),
      pin: { hmac: 'ab12', tries: 0, expiresAt: at(60) },
      deliveries: [],
    },
  });

function call(
  handler: typeof changeOwnership,
  options: {
    method: string;
    route: string;
    path: string;
    claims?: JwtClaims | null;
    body?: unknown;
    pathParameters?: Record<string, string>;
    headers?: Record<string, string>;
  },
) {
  return handler(
    apiEvent({
      method: options.method,
      path: options.path,
      routeKey: `${options.method} ${options.route}`,
      ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
      ...(options.claims === null ? {} : { claims: options.claims ?? admin() }),
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    }),
    lambdaContext('DeviceOptions'),
  );
}

const putOwnership = (body: unknown, claims: JwtClaims = admin()) =>
  call(changeOwnership, {
    method: 'PUT',
    route: '/api/devices/{deviceId}/ownership',
    path: `/api/devices/${DEVICE_ID}/ownership`,
    pathParameters: { deviceId: DEVICE_ID },
    claims,
    body,
  });

const putName = (body: unknown, claims: JwtClaims = groupClaims([])) =>
  call(renameDevice, {
    method: 'PUT',
    route: '/api/devices/{deviceId}/name',
    path: `/api/devices/${DEVICE_ID}/name`,
    pathParameters: { deviceId: DEVICE_ID },
    claims,
    body,
  });

const postPasscode = () =>
  call(resetPasscode, {
    method: 'POST',
    route: '/api/devices/{deviceId}/secure-apps-passcode',
    path: `/api/devices/${DEVICE_ID}/secure-apps-passcode`,
    pathParameters: { deviceId: DEVICE_ID },
  });

const verify = (body: unknown) =>
  call(agentVerify, {
    method: 'POST',
    route: '/api/agent/secure-apps-passcode/verify',
    path: '/api/agent/secure-apps-passcode/verify',
    claims: null,
    body,
    headers: { authorization: AGENT_AUTH },
  });

const start = () =>
  call(startDerived, {
    method: 'POST',
    route: '/api/devices/{deviceId}/derived-credential',
    path: `/api/devices/${PENDING_ID}/derived-credential`,
    pathParameters: { deviceId: PENDING_ID },
  });

const complete = (body: unknown) =>
  call(completeDerived, {
    method: 'POST',
    route: '/api/derived-credential/complete',
    path: '/api/derived-credential/complete',
    body,
  });

let table: FakeTable;

beforeEach(() => {
  table = resetMocks().putDevice(activeDevice()).putDevice(pendingDevice());
});

afterEach(() => {
  vi.useRealTimers();
});

describe('PUT /api/devices/{deviceId}/name', () => {
  it('answers 200 with the device page, writing the name on the version read, with its audit', async () => {
    // No role and no recent sign-in: a sign-in 10 minutes old with no portal group renames.
    const result = await putName(
      { name: 'Field tablet' },
      groupClaims([], { auth_time: String(NOW_S - 600) }),
    );

    expect(result.statusCode).toBe(200);
    const items = onlyTransaction();
    expect(writtenDevice(items).name).toBe('Field tablet');
    expect(items.find((i) => i.Put?.Item?.type === 'DEVICE')?.Put).toMatchObject(versionCondition(5));
    expect(items.some((i) => (i.Put?.Item?.event as { action?: string })?.action === 'DEVICE_RENAMED')).toBe(
      true,
    );
  });

  it('answers 400 naming the field for a name over 40 characters, writing nothing', async () => {
    const result = await putName({ name: 'x'.repeat(41) });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(errorOf(result).message).toContain('Keep the name to 40 characters');
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 400 for a field it does not know (the body is strict)', async () => {
    const result = await putName({ name: 'Field tablet', ownership: 'COMPANY' });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('PUT /api/devices/{deviceId}/ownership', () => {
  it('answers 401 RECENT_SIGN_IN_REQUIRED to a sign-in 10 minutes old, writing nothing', async () => {
    const result = await putOwnership(
      { ownership: 'EMPLOYEE', version: 5 },
      admin({ auth_time: String(NOW_S - 600) }),
    );

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'RECENT_SIGN_IN_REQUIRED' });
    expect(result.headers?.['www-authenticate']).toContain('insufficient_user_authentication');
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 200 with the device page, writing the device on the version read, with its audit', async () => {
    const result = await putOwnership({ ownership: 'EMPLOYEE', version: 5 });

    expect(result.statusCode).toBe(200);
    // FakeTable's transactions write nothing, so the page re-read shows the table as it was: the
    // re-evaluated page itself is checked over the memory store (device-options.test.ts).
    expect(jsonBody<DeviceDetailResponse>(result).device.deviceId).toBe(DEVICE_ID);
    const items = onlyTransaction();
    expect(writtenDevice(items).ownership).toBe('EMPLOYEE');
    expect(items.find((i) => i.Put?.Item?.type === 'DEVICE')?.Put).toMatchObject(versionCondition(5));
    expect(
      items.some((i) => (i.Put?.Item?.event as { action?: string })?.action === 'OWNERSHIP_CHANGED'),
    ).toBe(true);
  });

  it('answers 409 OWNERSHIP_CHANGED to a stale version', async () => {
    const result = await putOwnership({ ownership: 'EMPLOYEE', version: 4 });

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'OWNERSHIP_CHANGED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('POST /api/devices/{deviceId}/secure-apps-passcode', () => {
  it('answers 201 with 8 digits and stores only their HMAC', async () => {
    const result = await postPasscode();

    expect(result.statusCode).toBe(201);
    const { pin, expiresAt } = jsonBody<SecureAppsPasscodeResponse>(result);
    expect(pin).toMatch(/^\d{8}$/);
    expect(expiresAt).toBe(at(15));
    const written = writtenDevice(onlyTransaction());
    expect(written.secureAppsPin).toEqual({
      hmac: pinHmac(pin, DEVICE_ID, ALICE_SUB, 'SECURE_APPS'),
      tries: 0,
      expiresAt,
    });
    expect(JSON.stringify(dynamo.calls().map((c) => c.args[0].input))).not.toContain(pin);
  });
});

describe('POST /api/agent/secure-apps-passcode/verify', () => {
  beforeEach(() => {
    table.putDevice(
      activeDevice({
        secureAppsPin: {
          hmac: pinHmac(PIN, DEVICE_ID, ALICE_SUB, 'SECURE_APPS'),
          tries: 0,
          expiresAt: at(10),
        },
      }),
    );
  });

  it('answers 200 verified to the right user name and PIN', async () => {
    const result = await verify({ username: ALICE_SUB, pin: PIN });

    expect(result.statusCode).toBe(200);
    expect(jsonBody(result)).toEqual({ verified: true });
  });

  it('takes a try on the secure-apps PIN by a conditional UpdateItem before refusing a wrong PIN', async () => {
    const result = await verify({ username: ALICE_SUB, pin: '00000000' });

    expect(errorOf(result)).toMatchObject({ status: 401, code: 'BAD_CREDENTIALS' });
    const [tryTaken, ...more] = pinTries();
    expect(more).toEqual([]);
    expect(tryTaken?.ExpressionAttributeNames?.['#secureAppsPin']).toBe('secureAppsPin');
    expect(tryTaken?.ExpressionAttributeValues?.[':hmac']).toBe(
      pinHmac(PIN, DEVICE_ID, ALICE_SUB, 'SECURE_APPS'),
    );
    expect(table.device(DEVICE_ID)?.secureAppsPin?.tries).toBe(1);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('refuses the right PIN after five tries are taken, with the same 401', async () => {
    for (let i = 0; i < 5; i++) {
      expect(errorOf(await verify({ username: ALICE_SUB, pin: '00000000' }))).toMatchObject({
        status: 401,
        code: 'BAD_CREDENTIALS',
      });
    }

    expect(errorOf(await verify({ username: ALICE_SUB, pin: PIN }))).toMatchObject({
      status: 401,
      code: 'BAD_CREDENTIALS',
    });
    expect(dynamo).toHaveReceivedCommandTimes(UpdateCommand, 5);
  });
});

describe('POST /api/devices/{deviceId}/derived-credential and …/complete', () => {
  beforeEach(() => {
    table.putSettings({ derivedCredential: { enabled: true, entrustUrl: ENTRUST } });
  });

  it('answers the Entrust address with the state and the return address on PORTAL_ORIGIN, storing the state hash', async () => {
    const result = await start();

    expect(result.statusCode).toBe(200);
    const url = new URL(jsonBody<DerivedCredentialStart>(result).redirectUrl);
    expect(`${url.origin}${url.pathname}`).toBe(ENTRUST);
    expect(url.searchParams.get('return')).toBe('https://portal.example.com/derived-credential');
    const state = url.searchParams.get('state') ?? '';
    expect(secretPuts(onlyTransaction()).map((s) => s.secret)).toEqual([
      {
        hash: sha256Hex(state),
        kind: 'DERIVED_CREDENTIAL',
        userSub: ALICE_SUB,
        deviceId: PENDING_ID,
        expiresAt: at(15),
      },
    ]);
  });

  it('answers 410 STATE_INVALID to a malformed state without reading any secret', async () => {
    const result = await complete({ state: 'not a state!', result: 'SUCCESS' });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'STATE_INVALID' });
    const secretReads = dynamo
      .commandCalls(GetCommand)
      .filter((c) => String(c.args[0].input.Key?.pk).startsWith('SECRET#'));
    expect(secretReads).toEqual([]);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 410 STATE_INVALID to an unknown state', async () => {
    const result = await complete({ state: 'AAAAAAAAAAAAAAAAAAAAAA', result: 'SUCCESS' });

    expect(errorOf(result)).toMatchObject({ status: 410, code: 'STATE_INVALID' });
  });
});
