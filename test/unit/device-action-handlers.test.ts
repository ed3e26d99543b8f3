/**
 * The device-action handlers (issue 11) over the mocked AWS clients: the DynamoDB document client
 * through portal-mocks' FakeTable, SNS (wake-ups) and SES (notices).
 */
import { CreatePlatformEndpointCommand, PublishCommand } from '@aws-sdk/client-sns';
import { PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditToItem, commandToItem } from '../../functions/adapters/items.ts';
import type {
  ActivityResponse,
  AgentCheckinResponse,
  CommandResponse,
  DeviceDetailResponse,
} from '../../functions/core/api-types.ts';
import type { CommandRecord } from '../../functions/core/commands.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import type { AuditEvent } from '../../functions/core/ports.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { handler as agentCheckin } from '../../functions/handlers/agent-checkin.ts';
import { handler as agentCommandResult } from '../../functions/handlers/agent-command-result.ts';
import { handler as cancelCommand } from '../../functions/handlers/cancel-command.ts';
import { handler as getDevice } from '../../functions/handlers/get-device.ts';
import { handler as listActivity } from '../../functions/handlers/list-activity.ts';
import { handler as listDeviceActivity } from '../../functions/handlers/list-device-activity.ts';
import { handler as locateDevice } from '../../functions/handlers/locate-device.ts';
import { handler as lockDevice } from '../../functions/handlers/lock-device.ts';
import { handler as retireDevice } from '../../functions/handlers/retire-device.ts';
import { handler as startLostMode } from '../../functions/handlers/start-lost-mode.ts';
import { handler as stopLostMode } from '../../functions/handlers/stop-lost-mode.ts';
import { handler as unlockDevice } from '../../functions/handlers/unlock-device.ts';
import { handler as wipeDevice } from '../../functions/handlers/wipe-device.ts';
import {
  ALICE_SUB,
  accessClaims,
  apiEvent,
  deviceRecord,
  groupClaims,
  type JwtClaims,
  jsonBody,
  lambdaContext,
  NOW,
} from './fixtures.ts';
import {
  auditEvents,
  dynamo,
  errorOf,
  type FakeTable,
  onlyTransaction,
  resetMocks,
  ses,
  singlePuts,
  sns,
  updates,
  versionCondition,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const DEVICE_ID = 'b0000000-0000-4000-8000-000000000001';
const COMMAND_ID = 'c0000000-0000-4000-8000-000000000001';
const BOB_SUB = '99999999-8888-4777-8666-555555555555';
const NOW_S = Math.floor(NOW.getTime() / 1000);
const FCM_ARN = 'arn:aws:sns:us-east-1:123456789012:app/GCM/portal-fcm';
const APNS_ARN = 'arn:aws:sns:us-east-1:123456789012:app/APNS/portal-apns';
const ENDPOINT_ARN = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/portal-fcm/0001';
const SECRET = 'Q2hlY2staW4tc2VjcmV0LWZvci10aGUtdW5pdC10ZXM';
const AGENT_AUTH = `Device dc1.${ALICE_SUB}.${DEVICE_ID}.${SECRET}`;

/** Every role (portal-admins), signed in a minute ago. */
const admin = (overrides: JwtClaims = {}) => groupClaims(['portal-admins'], overrides);

/** A company-owned, fully managed Android device: every action is available on it. */
const companyDevice = (overrides: Partial<DeviceRecord> = {}) =>
  deviceRecord({
    deviceId: DEVICE_ID,
    platform: 'ANDROID',
    managementMode: 'FULLY_MANAGED',
    ownership: 'COMPANY',
    credentialHash: sha256Hex(SECRET),
    version: 5,
    ...overrides,
  });

const at = (minutesFromNow: number) => new Date(NOW.getTime() + minutesFromNow * 60_000).toISOString();

function commandRecord(overrides: Partial<CommandRecord> = {}): CommandRecord {
  return {
    commandId: COMMAND_ID,
    userSub: ALICE_SUB,
    deviceId: DEVICE_ID,
    action: 'LOCK',
    status: 'QUEUED',
    createdAt: at(-10),
    expiresAt: at(60),
    ...overrides,
  };
}

let table: FakeTable;

function call(
  handler: typeof lockDevice,
  options: {
    method: string;
    route: string;
    path: string;
    claims?: JwtClaims | null;
    body?: unknown;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  },
) {
  return handler(
    apiEvent({
      method: options.method,
      path: options.path,
      routeKey: `${options.method} ${options.route}`,
      pathParameters: options.pathParameters ?? { deviceId: DEVICE_ID },
      ...(options.claims === null ? {} : { claims: options.claims ?? admin() }),
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.query ? { queryStringParameters: options.query } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    }),
    lambdaContext('DeviceActions'),
  );
}

interface ActionRoute {
  name: string;
  handler: typeof lockDevice;
  method: 'POST' | 'DELETE';
  suffix: string;
  body?: unknown;
  command: CommandRecord['action'];
  device?: Partial<DeviceRecord>;
}

const ACTION_ROUTES: ActionRoute[] = [
  { name: 'lock', handler: lockDevice, method: 'POST', suffix: 'lock', body: {}, command: 'LOCK' },
  {
    name: 'start lost mode',
    handler: startLostMode,
    method: 'POST',
    suffix: 'lost-mode',
    body: { message: 'Please call me', phoneNumber: '+15555550100' },
    command: 'LOST_MODE_ON',
  },
  {
    name: 'stop lost mode',
    handler: stopLostMode,
    method: 'DELETE',
    suffix: 'lost-mode',
    command: 'LOST_MODE_OFF',
    device: { lostMode: { message: 'Lost', since: at(-60) } },
  },
  { name: 'unlock', handler: unlockDevice, method: 'POST', suffix: 'unlock', command: 'UNLOCK' },
  { name: 'locate', handler: locateDevice, method: 'POST', suffix: 'locate', command: 'LOCATE' },
  { name: 'wipe', handler: wipeDevice, method: 'POST', suffix: 'wipe', command: 'WIPE' },
  { name: 'retire', handler: retireDevice, method: 'POST', suffix: 'retire', command: 'RETIRE' },
];

function act(route: ActionRoute, claims: JwtClaims = admin(), deviceId = DEVICE_ID) {
  return call(route.handler, {
    method: route.method,
    route: `/api/devices/{deviceId}/${route.suffix}`,
    path: `/api/devices/${deviceId}/${route.suffix}`,
    claims,
    body: route.body,
    pathParameters: { deviceId },
  });
}

const routeOf = (name: string) => ACTION_ROUTES.find((r) => r.name === name) as ActionRoute;

beforeEach(() => {
  table = resetMocks().putDevice(companyDevice());
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe.each(ACTION_ROUTES)('$method …/$suffix ($name)', (route) => {
  beforeEach(() => {
    table.putDevice(companyDevice(route.device));
  });

  it('answers 202 with the queued command', async () => {
    const result = await act(route);

    expect(result.statusCode).toBe(202);
    expect(jsonBody<CommandResponse>(result)).toEqual({
      command: {
        commandId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        action: route.command,
        status: 'QUEUED',
        createdAt: NOW.toISOString(),
        expiresAt: at(72 * 60),
        sentAt: null,
        completedAt: null,
        lockScreen:
          route.command === 'LOST_MODE_ON'
            ? { message: 'Please call me', phoneNumber: '+15555550100' }
            : null,
        error: null,
        position: null,
        certificate: null,
        canCancel: true,
      },
    });
  });

  it('writes the command, the device version and the audit event in one conditional transaction', async () => {
    const result = await act(route);
    const { command } = jsonBody<CommandResponse>(result);

    const items = onlyTransaction();
    expect(items).toHaveLength(3);
    expect(items[0]?.Put).toMatchObject({
      TableName: 'portal-test',
      Item: {
        pk: `USER#${ALICE_SUB}`,
        sk: `DEVICE#${DEVICE_ID}#CMD#${command.commandId}`,
        type: 'COMMAND',
        command: { commandId: command.commandId, action: route.command, status: 'QUEUED' },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(updates(items)).toEqual([
      {
        TableName: 'portal-test',
        Key: { pk: `USER#${ALICE_SUB}`, sk: `DEVICE#${DEVICE_ID}` },
        UpdateExpression: 'SET #device.#version = :next',
        ConditionExpression: '#device.#version = :expected AND #device.#status = :active',
        ExpressionAttributeNames: { '#device': 'device', '#version': 'version', '#status': 'status' },
        ExpressionAttributeValues: { ':next': 6, ':expected': 5, ':active': 'ACTIVE' },
      },
    ]);
    expect(auditEvents(items)).toEqual([
      expect.objectContaining({
        userSub: ALICE_SUB,
        deviceId: DEVICE_ID,
        action: 'COMMAND_QUEUED',
        detail: `${route.command} ${command.commandId}`,
      }),
    ]);
  });

  it('answers 404 DEVICE_NOT_FOUND for a device under another user, writing nothing', async () => {
    table = resetMocks().putDevice(companyDevice({ userSub: BOB_SUB, ...route.device }));

    const result = await act(route);

    expect(errorOf(result)).toMatchObject({ status: 404, code: 'DEVICE_NOT_FOUND' });
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': `USER#${ALICE_SUB}`, ':prefix': `DEVICE#${DEVICE_ID}` },
    });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 202 with the command already waiting, without a second write or wake-up', async () => {
    vi.stubEnv('SNS_FCM_APPLICATION_ARN', FCM_ARN);
    table.putDevice(companyDevice({ ...route.device, pushToken: 'fcm-token-0001' }));
    table.put(commandToItem(commandRecord({ action: route.command })));

    const result = await act(route);

    expect(result.statusCode).toBe(202);
    expect(jsonBody<CommandResponse>(result).command).toMatchObject({
      commandId: COMMAND_ID,
      status: 'QUEUED',
    });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });
});

describe('roles and recent sign-in', () => {
  it('answers 403 ROLE_REQUIRED to unlock with the default roles', async () => {
    const result = await act(routeOf('unlock'), accessClaims());

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'ROLE_REQUIRED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('queues a lock with the default roles', async () => {
    expect((await act(routeOf('lock'), accessClaims())).statusCode).toBe(202);
  });

  it.each(['wipe', 'retire'])(
    'answers 401 RECENT_SIGN_IN_REQUIRED to %s with a sign-in 10 minutes old',
    async (name) => {
      const result = await act(routeOf(name), admin({ auth_time: String(NOW_S - 600) }));

      expect(errorOf(result)).toMatchObject({ status: 401, code: 'RECENT_SIGN_IN_REQUIRED' });
      expect(result.headers?.['www-authenticate']).toContain('insufficient_user_authentication');
      expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    },
  );

  it.each(['wipe', 'retire'])('accepts %s with a sign-in 2 minutes old', async (name) => {
    const result = await act(routeOf(name), admin({ auth_time: String(NOW_S - 120) }));

    expect(result.statusCode).toBe(202);
  });

  it('accepts a lock with a sign-in 10 minutes old (no recent sign-in needed)', async () => {
    const result = await act(routeOf('lock'), admin({ auth_time: String(NOW_S - 600) }));

    expect(result.statusCode).toBe(202);
  });
});

describe('the rule at the action routes', () => {
  it('answers 409 POLICY to a wipe of an employee-owned device', async () => {
    table.putDevice(companyDevice({ ownership: 'EMPLOYEE' }));

    const result = await act(routeOf('wipe'));

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'POLICY' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('queues a wipe of an employee-owned device when the policy allows it', async () => {
    table
      .putDevice(companyDevice({ ownership: 'EMPLOYEE' }))
      .putSettings({ actionPolicy: { wipeEmployeeOwned: true } });

    expect((await act(routeOf('wipe'))).statusCode).toBe(202);
  });

  it('answers 409 NOT_SUPPORTED to lost mode on a personal Android work profile', async () => {
    table.putDevice(companyDevice({ managementMode: 'WORK_PROFILE_PERSONAL' }));

    expect(errorOf(await act(routeOf('start lost mode')))).toMatchObject({
      status: 409,
      code: 'NOT_SUPPORTED',
    });
  });

  it('answers 409 NOT_ACTIVE to a lock of a retired device', async () => {
    table.putDevice(companyDevice({ status: 'RETIRED' }));

    expect(errorOf(await act(routeOf('lock')))).toMatchObject({ status: 409, code: 'NOT_ACTIVE' });
  });

  it('answers 409 NOT_IN_LOST_MODE to stopping lost mode on a device not in it', async () => {
    expect(errorOf(await act(routeOf('stop lost mode')))).toMatchObject({
      status: 409,
      code: 'NOT_IN_LOST_MODE',
    });
  });

  it('answers 400 to start lost mode without a message', async () => {
    const result = await call(startLostMode, {
      method: 'POST',
      route: '/api/devices/{deviceId}/lost-mode',
      path: `/api/devices/${DEVICE_ID}/lost-mode`,
      body: { phoneNumber: '+15555550100' },
    });

    expect(result.statusCode).toBe(400);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('wake-ups through SNS', () => {
  beforeEach(() => {
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: ENDPOINT_ARN });
  });

  it('creates the endpoint for the push token, then publishes a json wake-up to it', async () => {
    vi.stubEnv('SNS_FCM_APPLICATION_ARN', FCM_ARN);
    table.putDevice(companyDevice({ pushToken: 'fcm-token-0001' }));

    await act(routeOf('lock'));

    expect(sns).toHaveReceivedCommandExactlyOnceWith(CreatePlatformEndpointCommand, {
      PlatformApplicationArn: FCM_ARN,
      Token: 'fcm-token-0001',
    });
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      TargetArn: ENDPOINT_ARN,
      MessageStructure: 'json',
    });
    const message = JSON.parse(String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message));
    expect(JSON.parse(message.GCM)).toEqual({ data: { wake: 'checkin' }, priority: 'high' });
    expect(sns.calls().map((c) => c.args[0].constructor)).toEqual([
      CreatePlatformEndpointCommand,
      PublishCommand,
    ]);
  });

  it('uses the APNs application for an iPhone', async () => {
    vi.stubEnv('SNS_APNS_APPLICATION_ARN', APNS_ARN);
    vi.stubEnv('SNS_FCM_APPLICATION_ARN', FCM_ARN);
    table.putDevice(
      companyDevice({ platform: 'IOS', managementMode: 'SUPERVISED', pushToken: 'apns-token-01' }),
    );

    await act(routeOf('lock'));

    expect(sns).toHaveReceivedCommandWith(CreatePlatformEndpointCommand, {
      PlatformApplicationArn: APNS_ARN,
    });
  });

  it('sends nothing when the device has no push token', async () => {
    vi.stubEnv('SNS_FCM_APPLICATION_ARN', FCM_ARN);

    expect((await act(routeOf('lock'))).statusCode).toBe(202);
    expect(sns.calls()).toHaveLength(0);
  });

  it('sends nothing when no platform application is set', async () => {
    vi.stubEnv('SNS_FCM_APPLICATION_ARN', '');
    table.putDevice(companyDevice({ pushToken: 'fcm-token-0001' }));

    expect((await act(routeOf('lock'))).statusCode).toBe(202);
    expect(sns.calls()).toHaveLength(0);
  });

  it('still answers 202 with the command queued when the Publish fails', async () => {
    vi.stubEnv('SNS_FCM_APPLICATION_ARN', FCM_ARN);
    sns.on(PublishCommand).rejects(new Error('EndpointDisabled'));
    table.putDevice(companyDevice({ pushToken: 'fcm-token-0001' }));

    const result = await act(routeOf('lock'));

    expect(result.statusCode).toBe(202);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(onlyTransaction()).toHaveLength(3);
  });
});

describe('notices', () => {
  it('emails the owner when an action is queued on a device with a notice address', async () => {
    table.putDevice(companyDevice({ noticeEmail: 'alice@example.com' }));

    await act(routeOf('lock'));

    const { SendEmailCommand } = await import('@aws-sdk/client-ses');
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Destination: { ToAddresses: ['alice@example.com'] },
    });
  });

  it('still answers 202 when the notice cannot be sent', async () => {
    const { SendEmailCommand } = await import('@aws-sdk/client-ses');
    ses.on(SendEmailCommand).rejects(new Error('Throttling'));
    table.putDevice(companyDevice({ noticeEmail: 'alice@example.com' }));

    expect((await act(routeOf('lock'))).statusCode).toBe(202);
  });
});

describe('GET /api/devices/{deviceId}', () => {
  const get = (claims: JwtClaims = accessClaims()) =>
    call(getDevice, {
      method: 'GET',
      route: '/api/devices/{deviceId}',
      path: `/api/devices/${DEVICE_ID}`,
      claims,
    });

  it('answers 200 with the device, every action (those outside the default roles saying so) and the commands', async () => {
    table.put(commandToItem(commandRecord({ action: 'LOCATE' })));

    const result = await get();

    expect(result.statusCode).toBe(200);
    const body = jsonBody<DeviceDetailResponse>(result);
    expect(body.device).toMatchObject({
      deviceId: DEVICE_ID,
      managementMode: 'FULLY_MANAGED',
      lostMode: null,
      lastPosition: null,
      nextCheckInDueAt: '2025-06-02T09:45:00.000Z',
    });
    expect(body.actions.map((a) => [a.action, a.available, a.reason?.code ?? null])).toEqual([
      ['LOCK', true, null],
      ['LOST_MODE', true, null],
      ['UNLOCK', false, 'ROLE_REQUIRED'],
      ['LOCATE', false, 'ALREADY_WAITING'],
      ['WIPE', false, 'ROLE_REQUIRED'],
      ['RETIRE', false, 'ROLE_REQUIRED'],
      ['SECURE_APPS_PASSCODE', false, 'ROLE_REQUIRED'],
    ]);
    expect(body.commands).toEqual([
      expect.objectContaining({ commandId: COMMAND_ID, action: 'LOCATE', canCancel: true }),
    ]);
  });

  it('reads the device and its commands with one consistent Query and writes nothing', async () => {
    await get();

    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': `USER#${ALICE_SUB}`, ':prefix': `DEVICE#${DEVICE_ID}` },
      ConsistentRead: true,
    });
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 404 DEVICE_NOT_FOUND for another user’s device', async () => {
    table = resetMocks().putDevice(companyDevice({ userSub: BOB_SUB }));

    expect(errorOf(await get())).toMatchObject({ status: 404, code: 'DEVICE_NOT_FOUND' });
  });
});

describe('DELETE /api/devices/{deviceId}/commands/{commandId}', () => {
  const cancel = (claims: JwtClaims = accessClaims()) =>
    call(cancelCommand, {
      method: 'DELETE',
      route: '/api/devices/{deviceId}/commands/{commandId}',
      path: `/api/devices/${DEVICE_ID}/commands/${COMMAND_ID}`,
      pathParameters: { deviceId: DEVICE_ID, commandId: COMMAND_ID },
      claims,
    });

  it('answers 200 with the cancelled command', async () => {
    table.put(commandToItem(commandRecord()));

    const result = await cancel();

    expect(result.statusCode).toBe(200);
    expect(jsonBody<CommandResponse>(result).command).toMatchObject({
      commandId: COMMAND_ID,
      status: 'CANCELLED',
      completedAt: NOW.toISOString(),
      canCancel: false,
    });
  });

  it('writes the command CANCELLED conditioned on its still being QUEUED, with the audit event', async () => {
    table.put(commandToItem(commandRecord()));

    await cancel();

    const items = onlyTransaction();
    expect(items[0]?.Put).toMatchObject({
      Item: { sk: `DEVICE#${DEVICE_ID}#CMD#${COMMAND_ID}`, command: { status: 'CANCELLED' } },
      ConditionExpression: '#command.#status = :from',
      ExpressionAttributeValues: { ':from': 'QUEUED' },
    });
    expect(auditEvents(items).map((e) => e.action)).toEqual(['COMMAND_CANCELLED']);
  });

  it('answers 409 ALREADY_PICKED_UP for a SENT command', async () => {
    table.put(commandToItem(commandRecord({ status: 'SENT', sentAt: at(-1) })));

    expect(errorOf(await cancel())).toMatchObject({ status: 409, code: 'ALREADY_PICKED_UP' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 403 ROLE_REQUIRED for an unlock command with the default roles', async () => {
    table.put(commandToItem(commandRecord({ action: 'UNLOCK' })));

    expect(errorOf(await cancel())).toMatchObject({ status: 403, code: 'ROLE_REQUIRED' });
  });

  it('answers 404 COMMAND_NOT_FOUND for a command of another user’s device', async () => {
    table = resetMocks()
      .putDevice(companyDevice({ userSub: BOB_SUB }))
      .put(commandToItem(commandRecord({ userSub: BOB_SUB })));

    expect(errorOf(await cancel())).toMatchObject({ status: 404, code: 'COMMAND_NOT_FOUND' });
  });
});

describe('GET /api/activity and GET /api/devices/{deviceId}/activity', () => {
  const event = (n: number, overrides: Partial<AuditEvent> = {}): AuditEvent =>
    ({
      id: `e${String(n).padStart(3, '0')}`,
      at: at(-n),
      userSub: ALICE_SUB,
      deviceId: DEVICE_ID,
      action: 'COMMAND_QUEUED',
      result: 'SUCCESS',
      detail: `LOCK ${COMMAND_ID}`,
      ...overrides,
    }) as AuditEvent;

  const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  const activity = (query?: Record<string, string>, claims: JwtClaims = accessClaims()) =>
    call(listActivity, {
      method: 'GET',
      route: '/api/activity',
      path: '/api/activity',
      pathParameters: {},
      ...(query ? { query } : {}),
      claims,
    });

  const deviceActivity = (query?: Record<string, string>) =>
    call(listDeviceActivity, {
      method: 'GET',
      route: '/api/devices/{deviceId}/activity',
      path: `/api/devices/${DEVICE_ID}/activity`,
      ...(query ? { query } : {}),
      claims: accessClaims(),
    });

  it('answers 200 with the caller’s events in words and no cursor when they fit one page', async () => {
    table.put(auditToItem(event(1)));

    const result = await activity();

    expect(result.statusCode).toBe(200);
    expect(jsonBody<ActivityResponse>(result)).toEqual({
      events: [expect.objectContaining({ id: 'e001', summary: 'Lock requested', actor: 'USER' })],
      nextCursor: null,
    });
  });

  it('queries the caller’s partition newest first, one more than a page', async () => {
    await activity();

    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `USER#${ALICE_SUB}`, ':prefix': 'AUDIT#' },
      ScanIndexForward: false,
      Limit: 26,
    });
  });

  it('gives a cursor that continues after the last event of a full page', async () => {
    for (let n = 1; n <= 26; n++) table.put(auditToItem(event(n)));

    const body = jsonBody<ActivityResponse>(await activity());

    expect(body.events).toHaveLength(25);
    expect(body.nextCursor).toBe(cursorOf({ at: at(-25), id: 'e025' }));
  });

  it('answers 400 CURSOR_INVALID to a damaged cursor, querying nothing', async () => {
    const result = await activity({ cursor: 'not-a-cursor!!' });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'CURSOR_INVALID' });
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('answers 400 CURSOR_INVALID to a cursor missing its id', async () => {
    expect(errorOf(await activity({ cursor: cursorOf({ at: at(-1) }) }))).toMatchObject({
      status: 400,
      code: 'CURSOR_INVALID',
    });
  });

  it('builds the start key from the caller’s own partition, whatever else the cursor holds', async () => {
    const cursor = cursorOf({ at: at(-3), id: 'e003', pk: `USER#${BOB_SUB}`, sk: 'AUDIT#x' });

    await activity({ cursor });

    const input = dynamo.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(input?.ExclusiveStartKey).toEqual({ pk: `USER#${ALICE_SUB}`, sk: `AUDIT#${at(-3)}#e003` });
  });

  it('answers 200 for a device’s activity, querying its index and keeping to the caller’s items', async () => {
    const result = await deviceActivity({ cursor: cursorOf({ at: at(-3), id: 'e003' }) });

    expect(result.statusCode).toBe(200);
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'gsi1',
      FilterExpression: 'pk = :owner',
      ExpressionAttributeValues: {
        ':pk': `DEVICE#${DEVICE_ID}`,
        ':prefix': 'AUDIT#',
        ':owner': `USER#${ALICE_SUB}`,
      },
      ExclusiveStartKey: {
        pk: `USER#${ALICE_SUB}`,
        sk: `AUDIT#${at(-3)}#e003`,
        gsi1pk: `DEVICE#${DEVICE_ID}`,
        gsi1sk: `AUDIT#${at(-3)}#e003`,
      },
    });
  });

  it('answers 404 DEVICE_NOT_FOUND for another user’s device activity, querying no audit', async () => {
    table = resetMocks().putDevice(companyDevice({ userSub: BOB_SUB }));

    expect(errorOf(await deviceActivity())).toMatchObject({ status: 404, code: 'DEVICE_NOT_FOUND' });
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });
});

describe('POST /api/agent/commands/{commandId}/result', () => {
  const result = (body: unknown, authorization = AGENT_AUTH) =>
    call(agentCommandResult, {
      method: 'POST',
      route: '/api/agent/commands/{commandId}/result',
      path: `/api/agent/commands/${COMMAND_ID}/result`,
      pathParameters: { commandId: COMMAND_ID },
      claims: null,
      body,
      headers: { authorization },
    });

  it('answers 200 with the finished command', async () => {
    table.put(commandToItem(commandRecord({ status: 'SENT', sentAt: at(-1) })));

    const response = await result({ status: 'DONE' });

    expect(response.statusCode).toBe(200);
    expect(jsonBody<CommandResponse>(response).command).toMatchObject({
      commandId: COMMAND_ID,
      status: 'DONE',
      completedAt: NOW.toISOString(),
    });
  });

  it('writes a DONE wipe as the device WIPED without its credential, the command from SENT and the audit, in one transaction', async () => {
    table.put(commandToItem(commandRecord({ action: 'WIPE', status: 'SENT', sentAt: at(-1) })));

    await result({ status: 'DONE' });

    const items = onlyTransaction();
    const devicePut = items.find((i) => i.Put?.Item?.type === 'DEVICE')?.Put;
    expect(devicePut).toMatchObject(versionCondition(5));
    expect(devicePut?.Item?.device).toMatchObject({ status: 'WIPED', version: 6 });
    expect(devicePut?.Item?.device).not.toHaveProperty('credentialHash');
    expect(items.find((i) => i.Put?.Item?.type === 'COMMAND')?.Put).toMatchObject({
      Item: { command: { status: 'DONE' } },
      ConditionExpression: '#command.#status = :from',
      ExpressionAttributeValues: { ':from': 'SENT' },
    });
    expect(auditEvents(items).map((e) => [e.action, e.result])).toEqual([['COMMAND_DONE', 'SUCCESS']]);
  });

  it('answers 409 NOT_SENT to a result for a QUEUED command', async () => {
    table.put(commandToItem(commandRecord()));

    expect(errorOf(await result({ status: 'DONE' }))).toMatchObject({ status: 409, code: 'NOT_SENT' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 400 POSITION_REQUIRED to a DONE locate without a position', async () => {
    table.put(commandToItem(commandRecord({ action: 'LOCATE', status: 'SENT', sentAt: at(-1) })));

    expect(errorOf(await result({ status: 'DONE' }))).toMatchObject({
      status: 400,
      code: 'POSITION_REQUIRED',
    });
  });

  it('answers 401 DEVICE_CREDENTIAL_INVALID to a wrong device secret', async () => {
    table.put(commandToItem(commandRecord({ status: 'SENT', sentAt: at(-1) })));

    const response = await result(
      { status: 'DONE' },
      `Device dc1.${ALICE_SUB}.${DEVICE_ID}.${'A'.repeat(43)}`,
    );

    expect(errorOf(response)).toMatchObject({ status: 401, code: 'DEVICE_CREDENTIAL_INVALID' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('POST /api/agent/checkin with a waiting command', () => {
  const checkIn = (body: unknown = { device: { osVersion: '14' } }) =>
    call(agentCheckin, {
      method: 'POST',
      route: '/api/agent/checkin',
      path: '/api/agent/checkin',
      pathParameters: {},
      claims: null,
      body,
      headers: { authorization: AGENT_AUTH },
    });

  it('hands the command to the agent in the response', async () => {
    table.put(commandToItem(commandRecord({ lockScreen: { message: 'Hi' } })));

    const response = await checkIn();

    expect(response.statusCode).toBe(200);
    expect(jsonBody<AgentCheckinResponse>(response).commands).toEqual([
      { commandId: COMMAND_ID, action: 'LOCK', lockScreen: { message: 'Hi' } },
    ]);
  });

  it('writes the device and the command SENT (conditioned on QUEUED) with the audit in one transaction', async () => {
    table.put(commandToItem(commandRecord()));

    await checkIn();

    const items = onlyTransaction();
    const devicePut = items.find((i) => i.Put?.Item?.type === 'DEVICE')?.Put;
    expect(devicePut).toMatchObject(versionCondition(5));
    expect(devicePut?.Item?.device).toMatchObject({ lastCheckInAt: NOW.toISOString(), version: 6 });
    expect(items.find((i) => i.Put?.Item?.type === 'COMMAND')?.Put).toMatchObject({
      Item: { command: { commandId: COMMAND_ID, status: 'SENT', sentAt: NOW.toISOString() } },
      ConditionExpression: '#command.#status = :from',
      ExpressionAttributeValues: { ':from': 'QUEUED' },
    });
    expect(auditEvents(items).map((e) => e.action)).toEqual(['COMMAND_SENT']);
    expect(singlePuts()).toEqual([]);
  });

  it('leaves an expired command behind and writes the device alone', async () => {
    table.put(commandToItem(commandRecord({ expiresAt: at(-1) })));

    const response = await checkIn();

    expect(jsonBody<AgentCheckinResponse>(response).commands).toEqual([]);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(singlePuts('DEVICE')).toHaveLength(1);
  });

  it('stores the push token the agent reports', async () => {
    await checkIn({ device: {}, pushToken: 'fcm-token-0002' });

    expect(singlePuts('DEVICE')[0]?.Item?.device).toMatchObject({ pushToken: 'fcm-token-0002' });
  });
});
