import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-ses';
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CreateRegistrationRequest, RegistrationResponse } from '../../functions/core/api-types.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { defaultSettings, type PortalSettings } from '../../functions/core/settings.ts';
import { handler } from '../../functions/handlers/create-registration.ts';
import { MAX_BODY_BYTES } from '../../functions/http/api-handler.ts';
import {
  ALICE_EMAIL,
  ALICE_SUB,
  accessClaims,
  apiEvent,
  deviceRecord,
  jsonBody,
  lambdaContext,
} from './fixtures.ts';
import {
  ALICE_ATTRIBUTES,
  ALICE_PHONE,
  aliceInPool,
  auditEvents,
  cognito,
  counterUpdates,
  devicePut,
  deviceWrites,
  dynamo,
  errorOf,
  type FakeTable,
  incrementedCounters,
  pinHmac,
  resetMocks,
  secretPuts,
  ses,
  sns,
  transaction,
  transactions,
  updates,
  versionCondition,
  writtenDevice,
  writtenDeviceAt,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

/** Templates that differ per platform, so the test sees which one was filled, and with what. */
const TEMPLATES: PortalSettings['invitationTemplates'] = {
  IOS: {
    emailSubject: 'iOS subject for {{displayName}}',
    emailBody: 'iOS body {{goUrl}}',
    sms: 'iOS sms {{goUrl}}',
  },
  ANDROID: {
    emailSubject: 'Your {{platform}}, {{displayName}}',
    emailBody:
      'Hello {{displayName}},\n\nOpen {{goUrl}} and sign in as {{username}}.\n\nExpires {{expiresAt}}.',
    sms: 'Open {{goUrl}} on your {{platform}} before {{expiresAt}}.',
  },
};
const GO_URL = 'https://portal.example.com/go';

let table: FakeTable;

async function create(body: unknown, claims = accessClaims()) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return handler(
    apiEvent({ method: 'POST', path: '/api/registrations', claims, body: raw }),
    lambdaContext('CreateRegistration'),
  );
}

async function created(body: CreateRegistrationRequest): Promise<RegistrationResponse> {
  const result = await create(body);
  expect(result.statusCode).toBe(201);
  return jsonBody<RegistrationResponse>(result);
}

function sentEmail(): SendEmailCommandInput {
  const [call] = ses.commandCalls(SendEmailCommand);
  if (!call) throw new Error('No SendEmailCommand was sent');
  return call.args[0].input;
}

beforeEach(() => {
  table = resetMocks().putSettings({ invitationTemplates: TEMPLATES });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('POST /api/registrations: the invitation', () => {
  it("emails the invitation from SES_FROM_ADDRESS to the user's email, filled from the platform's template", async () => {
    await created({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] });

    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    const email = sentEmail();
    expect(email).toEqual({
      Source: 'Device Portal <no-reply@example.com>',
      Destination: { ToAddresses: [ALICE_EMAIL] },
      Message: {
        Subject: { Data: 'Your Android device, Alice Martin', Charset: 'UTF-8' },
        Body: {
          Text: {
            // No locale or zoneinfo in the profile: the portal's defaults, English in UTC.
            Data: `Hello Alice Martin,\n\nOpen ${GO_URL} and sign in as ${ALICE_EMAIL}.\n\nExpires Jun 2, 2025, 11:00 AM UTC.`,
            Charset: 'UTF-8',
          },
          Html: { Data: expect.any(String), Charset: 'UTF-8' },
        },
      },
    });
  });

  it('puts a link to the /go page in the HTML email', async () => {
    await created({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] });

    const html = sentEmail().Message?.Body?.Html?.Data ?? '';
    expect(html).toContain(`<a href="${GO_URL}">${GO_URL}</a>`);
    expect(html).toContain('Hello Alice Martin,');
  });

  it('uses the public origin of the settings for the /go link when one is set', async () => {
    table.putSettings({ invitationTemplates: TEMPLATES, publicOrigin: 'https://devices.example.org' });

    const response = await created({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] });

    expect(response.goUrl).toBe('https://devices.example.org/go');
    expect(sentEmail().Message?.Body?.Text?.Data).toContain('Open https://devices.example.org/go and');
  });

  it('keeps the /go link at PORTAL_ORIGIN whatever Host, X-Forwarded-Host or Forwarded say', async () => {
    const result = await handler(
      apiEvent({
        method: 'POST',
        path: '/api/registrations',
        claims: accessClaims(),
        body: JSON.stringify({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] }),
        headers: {
          host: 'evil.example',
          'x-forwarded-host': 'evil.example',
          forwarded: 'for=192.0.2.1;host=evil.example;proto=https',
        },
      }),
      lambdaContext('CreateRegistration'),
    );

    expect(jsonBody<RegistrationResponse>(result).goUrl).toBe('https://portal.example.com/go');
    expect(sentEmail().Message?.Body?.Text?.Data).toContain(`Open ${GO_URL} and`);
    expect(JSON.stringify(sentEmail())).not.toContain('evil.example');
  });

  it("texts the invitation as a transactional SMS to the profile's phone number, used as stored", async () => {
    // ALICE_PHONE is in the fictional 555 range: only a number typed in the request is checked.
    await created({ platform: 'ANDROID', method: 'PIN', delivery: ['SMS'] });

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      PhoneNumber: ALICE_PHONE,
      Message: `Open ${GO_URL} on your Android device before Jun 2, 2025, 11:00 AM UTC.`,
      MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
    });
  });

  it('texts the number given in the request rather than the one in the profile', async () => {
    await created({ platform: 'IOS', method: 'PIN', delivery: ['SMS'], phoneNumber: '+44 7911 123456' });

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      PhoneNumber: '+447911123456',
      Message: `iOS sms ${GO_URL}`,
    });
  });

  it('texts a number typed without a country code in E.164, read in the country the request names', async () => {
    await created({
      platform: 'IOS',
      method: 'PIN',
      delivery: ['SMS'],
      phoneNumber: '07911 123456',
      phoneCountry: 'GB',
    });

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, { PhoneNumber: '+447911123456' });
  });

  it("reads a number typed without a country code in the portal's default country", async () => {
    table.putSettings({ invitationTemplates: TEMPLATES, defaultCountry: 'DE' });

    await created({ platform: 'IOS', method: 'PIN', delivery: ['SMS'], phoneNumber: '01512 3456789' });

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, { PhoneNumber: '+4915123456789' });
  });

  it("writes the expiry in the language and time zone of the user's profile", async () => {
    aliceInPool([
      ...ALICE_ATTRIBUTES,
      { Name: 'locale', Value: 'de' },
      { Name: 'zoneinfo', Value: 'Europe/Berlin' },
    ]);

    await created({ platform: 'ANDROID', method: 'PIN', delivery: ['SMS'] });

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      Message: `Open ${GO_URL} on your Android device before 02.06.2025, 13:00 MESZ.`,
    });
  });

  it("writes the expiry in the portal's default language and time zone when the profile names none", async () => {
    table.putSettings({
      invitationTemplates: TEMPLATES,
      defaultLanguage: 'en-GB',
      defaultTimeZone: 'Asia/Tokyo',
    });

    await created({ platform: 'ANDROID', method: 'PIN', delivery: ['SMS'] });

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      Message: `Open ${GO_URL} on your Android device before 2 Jun 2025, 20:00 GMT+9.`,
    });
  });

  it('never puts the PIN in the email or the SMS', async () => {
    const response = await created({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL', 'SMS'] });

    const pin = response.pin ?? '';
    expect(pin).toMatch(/^\d{8}$/);
    const email = sentEmail();
    const sent = [
      email.Message?.Subject?.Data,
      email.Message?.Body?.Text?.Data,
      email.Message?.Body?.Html?.Data,
      ...sns.commandCalls(PublishCommand).map((call) => call.args[0].input.Message),
    ];
    expect(sent).toHaveLength(4);
    for (const body of sent) {
      expect(body).toEqual(expect.any(String));
      expect(body).not.toContain(pin);
    }
  });

  it('reports each channel as SENT in the response and records it on the device', async () => {
    const response = await created({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL', 'SMS'] });

    const expected = [
      { channel: 'EMAIL', status: 'SENT', at: '2025-06-02T10:00:00.000Z' },
      { channel: 'SMS', status: 'SENT', at: '2025-06-02T10:00:00.000Z' },
    ];
    expect(response.device.registration?.deliveries).toEqual(expected);
    // The follow-up write is of the device alone: a plain conditional Put, no transaction.
    expect(transactions()).toHaveLength(1);
    expect(writtenDeviceAt(1).registration?.deliveries).toEqual(expected);
  });

  it('sends nothing for a QR code that is only shown on screen', async () => {
    const response = await created({ platform: 'IOS', method: 'QR', delivery: [] });

    expect(response.qr).toBeDefined();
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(deviceWrites()).toHaveLength(1);
  });
});

describe('POST /api/registrations: what is stored', () => {
  it('creates the device item only if it does not exist yet, PENDING, with the request facts', async () => {
    const response = await created({ platform: 'ANDROID', method: 'PIN', delivery: [] });

    const put = devicePut(transaction(0));
    expect(put).toMatchObject({
      TableName: 'portal-test',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `USER#${ALICE_SUB}`,
        sk: `DEVICE#${response.device.deviceId}`,
        gsi1pk: `DEVICE#${response.device.deviceId}`,
      },
    });
    expect(put.Item?.device).toMatchObject({
      userSub: ALICE_SUB,
      status: 'PENDING',
      platform: 'ANDROID',
      ownership: 'EMPLOYEE',
      facts: { platform: 'ANDROID', phoneNumber: ALICE_PHONE },
      createdAt: '2025-06-02T10:00:00.000Z',
      registeredAt: null,
      version: 1,
      registration: {
        method: 'PIN',
        expiresAt: '2025-06-02T11:00:00.000Z',
        pin: { tries: 0, expiresAt: '2025-06-02T11:00:00.000Z' },
      },
    });
    expect(response.device).toMatchObject({ status: 'PENDING', platform: 'ANDROID' });
    expect(response.expiresAt).toBe('2025-06-02T11:00:00.000Z');
  });

  it('stores the PIN only as the HMAC of purpose, user, device and the PIN shown in the response', async () => {
    const response = await created({ platform: 'ANDROID', method: 'PIN', delivery: [] });

    const stored = writtenDevice(transaction(0)).registration?.pin;
    expect(stored).toEqual({
      hmac: pinHmac(response.pin ?? '', response.device.deviceId),
      tries: 0,
      expiresAt: '2025-06-02T11:00:00.000Z',
    });
  });

  it('never writes the plain PIN anywhere, in the transaction or the follow-up Put', async () => {
    const response = await created({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL', 'SMS'] });

    const pin = response.pin ?? '';
    expect(pin).toMatch(/^\d{8}$/);
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
    for (const call of dynamo.calls()) {
      expect(JSON.stringify(call.args[0].input)).not.toContain(pin);
    }
  });

  it("writes the device under the user's device-limit lock, read with the devices it counted", async () => {
    table.put({ pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#DEVICES', type: 'LIMIT', version: 6 });

    await created({ platform: 'ANDROID', method: 'PIN', delivery: [] });

    expect(updates(transaction(0))).toEqual([
      {
        TableName: 'portal-test',
        Key: { pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#DEVICES' },
        UpdateExpression: 'SET #version = :next, #type = :type',
        ConditionExpression: '#version = :read',
        ExpressionAttributeNames: { '#version': 'version', '#type': 'type' },
        ExpressionAttributeValues: { ':next': 7, ':type': 'LIMIT', ':read': 6 },
      },
    ]);
  });

  it('reads the device-limit lock before the devices it guards, not in parallel with them', async () => {
    table.put({ pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#DEVICES', type: 'LIMIT', version: 6 });
    let queriesWhileLockWasRead = -1;
    dynamo.on(GetCommand, { Key: { pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#DEVICES' } }).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      queriesWhileLockWasRead = dynamo.commandCalls(QueryCommand).length;
      return { Item: { pk: `USER#${ALICE_SUB}`, sk: 'LIMIT#DEVICES', type: 'LIMIT', version: 6 } };
    });

    await created({ platform: 'ANDROID', method: 'PIN', delivery: [] });

    expect(queriesWhileLockWasRead).toBe(0);
    const reads = dynamo
      .calls()
      .map((call) => call.args[0])
      .filter((command) => command instanceof QueryCommand || command instanceof GetCommand)
      .map((command) =>
        command instanceof QueryCommand ? 'Query devices' : `Get ${String(command.input.Key?.sk)}`,
      );
    expect(reads.indexOf('Get LIMIT#DEVICES')).toBeGreaterThanOrEqual(0);
    expect(reads.indexOf('Get LIMIT#DEVICES')).toBeLessThan(reads.indexOf('Query devices'));
  });

  it("resets the /go failure counter of the user's account after the registration is written", async () => {
    table.putCounter(`USER#${ALICE_SUB}`, 'GO_FAILURES', new Date('2025-06-03T00:00:00.000Z'), 37);

    await created({ platform: 'ANDROID', method: 'PIN', delivery: [] });

    expect(counterUpdates()).toContainEqual(
      expect.objectContaining({
        Key: { pk: `USER#${ALICE_SUB}`, sk: 'COUNTER#GO_FAILURES#2025-06-03T00:00:00.000Z' },
        UpdateExpression: 'SET #count = :zero',
      }),
    );
  });

  it('writes a REGISTRATION_CREATED audit event in the same transaction as the device', async () => {
    const response = await created({ platform: 'IOS', method: 'PIN', delivery: [] });

    const items = transaction(0);
    expect(auditEvents(items)).toEqual([
      expect.objectContaining({
        userSub: ALICE_SUB,
        deviceId: response.device.deviceId,
        action: 'REGISTRATION_CREATED',
        result: 'SUCCESS',
        detail: 'PIN for IOS',
        sourceIp: '203.0.113.7',
        userAgent: 'vitest',
        at: '2025-06-02T10:00:00.000Z',
      }),
    ]);
  });

  it("stores the user's name for the registration, trimmed, and answers it", async () => {
    const response = await created({ platform: 'IOS', method: 'PIN', delivery: [], name: '  Work iPhone ' });

    expect(writtenDevice(transaction(0)).name).toBe('Work iPhone');
    expect(response.device.name).toBe('Work iPhone');
  });

  it('stores no name when the request names none', async () => {
    const response = await created({ platform: 'IOS', method: 'PIN', delivery: [] });

    expect(writtenDevice(transaction(0))).not.toHaveProperty('name');
    expect(response.device.name).toBeNull();
  });

  it('takes the default ownership when the request names none', async () => {
    table.putSettings({ defaultOwnership: 'COMPANY', usersMayChooseOwnership: false });

    const response = await created({ platform: 'IOS', method: 'PIN', delivery: [] });

    expect(response.device.ownership).toBe('COMPANY');
    expect(writtenDevice(transaction(0)).ownership).toBe('COMPANY');
  });

  it('takes the ownership the user chose where users may choose', async () => {
    const response = await created({ platform: 'IOS', method: 'PIN', delivery: [], ownership: 'COMPANY' });

    expect(writtenDevice(transaction(0)).ownership).toBe('COMPANY');
    expect(response.device.ownership).toBe('COMPANY');
  });
});

describe('POST /api/registrations: QR codes', () => {
  it('stores the QR token as a SECRET item keyed by its sha256, never the token itself', async () => {
    const response = await created({ platform: 'IOS', method: 'QR', delivery: [] });

    const url = new URL(response.qr?.url ?? '');
    const token = new URLSearchParams(url.hash.slice(1)).get('t') ?? '';
    expect(`${url.origin}${url.pathname}`).toBe(GO_URL);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const items = transaction(0);
    const secrets = secretPuts(items);
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `SECRET#${sha256Hex(token)}`, sk: 'SECRET' },
    });
    expect(secrets[0]?.secret).toEqual({
      hash: sha256Hex(token),
      kind: 'QR',
      userSub: ALICE_SUB,
      deviceId: response.device.deviceId,
      expiresAt: '2025-06-02T11:00:00.000Z',
    });
    expect(writtenDevice(items).registration?.qrTokenHash).toBe(sha256Hex(token));
    expect(JSON.stringify(items)).not.toContain(token);
  });

  it('answers the QR code as an SVG image of the QR url', async () => {
    const response = await created({ platform: 'IOS', method: 'QR', delivery: [] });

    expect(response.qr?.svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(response.qr?.svg).toContain('<path');
  });

  it('adds a PIN to a QR code while PINs are on, so the token alone never registers a device', async () => {
    const response = await created({ platform: 'IOS', method: 'QR', delivery: [] });

    expect(response.pin).toMatch(/^\d{8}$/);
    expect(writtenDevice(transaction(0)).registration?.pin).toEqual({
      hmac: pinHmac(response.pin ?? '', response.device.deviceId),
      tries: 0,
      expiresAt: '2025-06-02T11:00:00.000Z',
    });
  });
});

describe('POST /api/registrations: refusals', () => {
  it('answers 403 ROLE_REQUIRED when the settings do not give the caller register-device', async () => {
    table.putSettings({ defaultRoles: ['self-service', 'lock'] });

    const result = await create({ platform: 'IOS', method: 'PIN', delivery: [] });

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'ROLE_REQUIRED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('lets a group that maps to register-device register although the defaults lack it', async () => {
    table.putSettings({ defaultRoles: ['self-service'], groupRoles: { 'field-staff': ['register-device'] } });

    const result = await create(
      { platform: 'IOS', method: 'PIN', delivery: [] },
      accessClaims({ 'cognito:groups': '[field-staff]' }),
    );

    expect(result.statusCode).toBe(201);
  });

  it('answers 403 OWNERSHIP_NOT_ALLOWED to a chosen ownership when users may not choose', async () => {
    table.putSettings({ usersMayChooseOwnership: false, defaultOwnership: 'EMPLOYEE' });

    const result = await create({ platform: 'IOS', method: 'PIN', delivery: [], ownership: 'COMPANY' });

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'OWNERSHIP_NOT_ALLOWED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 403 METHOD_DISABLED to a method the administrator turned off', async () => {
    table.putSettings({ registrationMethods: { ...defaultSettings().registrationMethods, qr: false } });

    const result = await create({ platform: 'IOS', method: 'QR', delivery: [] });

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'METHOD_DISABLED' });
  });

  it('answers 400 PHONE_NUMBER_REQUIRED to SMS delivery when neither request nor profile has a number', async () => {
    aliceInPool(ALICE_ATTRIBUTES.filter((a) => a.Name !== 'phone_number'));

    const result = await create({ platform: 'ANDROID', method: 'PIN', delivery: ['SMS'] });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'PHONE_NUMBER_REQUIRED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('answers 409 DEVICE_LIMIT_REACHED when active and pending devices fill the limit', async () => {
    table
      .putSettings({ deviceLimitPerUser: 2 })
      .putDevice(deviceRecord({ deviceId: 'dev-active-1' }))
      .putDevice(
        deviceRecord({
          deviceId: 'dev-pending-1',
          status: 'PENDING',
          registration: {
            method: 'PIN',
            expiresAt: '2025-06-02T10:30:00.000Z',
            deliveries: [],
          },
        }),
      );

    const result = await create({ platform: 'IOS', method: 'PIN', delivery: [] });

    expect(errorOf(result)).toMatchObject({ status: 409, code: 'DEVICE_LIMIT_REACHED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('does not count retired devices or expired registrations against the limit', async () => {
    table
      .putSettings({ deviceLimitPerUser: 1 })
      .putDevice(deviceRecord({ deviceId: 'dev-retired-1', status: 'RETIRED' }))
      .putDevice(
        deviceRecord({
          deviceId: 'dev-expired-1',
          status: 'PENDING',
          registration: {
            method: 'PIN',
            expiresAt: '2025-06-02T09:59:59.000Z',
            deliveries: [],
          },
        }),
      );

    const result = await create({ platform: 'IOS', method: 'PIN', delivery: [] });

    expect(result.statusCode).toBe(201);
  });

  it('answers 429 with retry-after until the hour ends when the invitation counter refuses', async () => {
    table.refuseCounter('INVITATIONS');

    const result = await create({ platform: 'IOS', method: 'PIN', delivery: ['EMAIL'] });

    expect(errorOf(result)).toMatchObject({ status: 429, code: 'TOO_MANY_INVITATIONS' });
    expect(result.headers?.['retry-after']).toBe('3600');
    expect(incrementedCounters()).toEqual([`USER#${ALICE_SUB} COUNTER#INVITATIONS#2025-06-02T11:00:00.000Z`]);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
  });

  it('counts invitations with a conditional increment capped at the hourly limit of the settings', async () => {
    table.putSettings({ invitationsPerUserPerHour: 3 });

    await created({ platform: 'IOS', method: 'PIN', delivery: [] });

    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `USER#${ALICE_SUB}`, sk: 'COUNTER#INVITATIONS#2025-06-02T11:00:00.000Z' },
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
      ExpressionAttributeValues: { ':one': 1, ':limit': 3, ':ttl': 1748862000, ':type': 'COUNTER' },
    });
  });

  it('answers 403 USER_DISABLED when the user pool has disabled the account', async () => {
    cognito
      .on(AdminGetUserCommand)
      .resolves({ Username: ALICE_SUB, UserAttributes: ALICE_ATTRIBUTES, Enabled: false });

    const result = await create({ platform: 'IOS', method: 'PIN', delivery: [] });

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'USER_DISABLED' });
  });
});

describe('POST /api/registrations: delivery failures keep the registration (rule 11)', () => {
  it('answers 201 with the EMAIL delivery FAILED and a plain reason when SES rejects the message', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' }));

    const result = await create({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] });

    expect(result.statusCode).toBe(201);
    const response = jsonBody<RegistrationResponse>(result);
    expect(response.pin).toMatch(/^\d{8}$/);
    expect(response.device.registration?.deliveries).toEqual([
      {
        channel: 'EMAIL',
        status: 'FAILED',
        reason: 'The email could not be sent just now. Try Resend in a few minutes, or choose SMS.',
        at: '2025-06-02T10:00:00.000Z',
      },
    ]);
    expect(result.body).not.toContain('MessageRejected');
  });

  it('keeps the device when SES fails: the device was written before sending', async () => {
    ses.on(SendEmailCommand).rejects(new Error('Throttling'));

    await create({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] });

    expect(writtenDevice(transaction(0))).toMatchObject({ status: 'PENDING', version: 1 });
    expect(devicePut(transaction(0)).ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  it('records the failed delivery on the device with a follow-up Put conditioned on the version', async () => {
    ses.on(SendEmailCommand).rejects(Object.assign(new Error('rejected'), { name: 'MessageRejected' }));

    await create({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] });

    expect(deviceWrites()).toHaveLength(2);
    const followUp = deviceWrites()[1];
    expect(followUp).toMatchObject(versionCondition(1));
    expect(followUp?.Item?.device).toMatchObject({
      status: 'PENDING',
      version: 2,
      registration: {
        deliveries: [
          {
            channel: 'EMAIL',
            status: 'FAILED',
            reason: 'The email could not be sent just now. Try Resend in a few minutes, or choose SMS.',
          },
        ],
      },
    });
  });

  it('still texts the SMS when the email fails', async () => {
    ses.on(SendEmailCommand).rejects(new Error('down'));

    const response = jsonBody<RegistrationResponse>(
      await create({ platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL', 'SMS'] }),
    );

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(response.device.registration?.deliveries.map((d) => `${d.channel} ${d.status}`)).toEqual([
      'EMAIL FAILED',
      'SMS SENT',
    ]);
  });

  it('marks the SMS FAILED with the cap as reason, and texts nothing, when the daily SMS cap is reached', async () => {
    table.refuseCounter('SMS');

    const response = jsonBody<RegistrationResponse>(
      await create({ platform: 'ANDROID', method: 'PIN', delivery: ['SMS'] }),
    );

    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(response.device.registration?.deliveries).toEqual([
      {
        channel: 'SMS',
        status: 'FAILED',
        reason: 'The daily SMS limit of this portal is reached. Use email, or try again tomorrow.',
        at: '2025-06-02T10:00:00.000Z',
      },
    ]);
    expect(incrementedCounters()).toContain('CONFIG COUNTER#SMS#2025-06-03T00:00:00.000Z');
  });

  it('marks the SMS FAILED with a plain reason when SNS rejects the Publish', async () => {
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('Invalid parameter'), { name: 'InvalidParameterException' }));

    const result = await create({ platform: 'ANDROID', method: 'PIN', delivery: ['SMS'] });
    const response = jsonBody<RegistrationResponse>(result);

    expect(response.device.registration?.deliveries).toEqual([
      {
        channel: 'SMS',
        status: 'FAILED',
        reason: 'The SMS could not be sent. Check the phone number, then try Resend.',
        at: '2025-06-02T10:00:00.000Z',
      },
    ]);
    expect(result.body).not.toContain('InvalidParameterException');
    expect(writtenDeviceAt(1).registration?.deliveries[0]?.status).toBe('FAILED');
  });
});

describe('POST /api/registrations: input validation', () => {
  it('answers 400 VALIDATION_FAILED to a body with a field the schema does not know', async () => {
    const result = await create({ platform: 'IOS', method: 'PIN', delivery: [], status: 'ACTIVE' });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 400 VALIDATION_FAILED to a channel named twice, sending nothing', async () => {
    const result = await create({ platform: 'ANDROID', method: 'PIN', delivery: ['SMS', 'SMS'] });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('answers 400 VALIDATION_FAILED to an unknown platform', async () => {
    const result = await create({ platform: 'WINDOWS', method: 'PIN', delivery: [] });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('answers 400 PHONE_NUMBER_INVALID to a typed number that is not a mobile number, writing and texting nothing', async () => {
    const result = await create({
      platform: 'IOS',
      method: 'PIN',
      delivery: ['SMS'],
      phoneNumber: '0555 1234',
    });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'PHONE_NUMBER_INVALID' });
    expect(errorOf(result).message).toMatch(/^Enter a mobile number/);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('answers 400 VALIDATION_FAILED, in a sentence, to a phone number over 40 characters', async () => {
    const result = await create({
      platform: 'IOS',
      method: 'PIN',
      delivery: ['SMS'],
      phoneNumber: '4'.repeat(41),
    });

    expect(errorOf(result)).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'A phone number has at most 40 characters.',
    });
  });

  it('answers 400 VALIDATION_FAILED to a phone country that is not an ISO code', async () => {
    const result = await create({
      platform: 'IOS',
      method: 'PIN',
      delivery: ['SMS'],
      phoneNumber: '(415) 555-0123',
      phoneCountry: 'usa',
    });

    expect(errorOf(result)).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'Choose the country of the phone number.',
    });
  });

  it('answers 400 VALIDATION_FAILED to a name over 40 characters', async () => {
    const result = await create({ platform: 'IOS', method: 'PIN', delivery: [], name: 'n'.repeat(41) });

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 400 MALFORMED_JSON to a body that is not JSON', async () => {
    const result = await create('{"platform":"IOS",');

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
  });

  it('answers 413 BODY_TOO_LARGE to a body over 64 KiB', async () => {
    const padding = 'x'.repeat(MAX_BODY_BYTES);
    const result = await create(
      JSON.stringify({ platform: 'IOS', method: 'PIN', delivery: [], pad: padding }),
    );

    expect(MAX_BODY_BYTES).toBe(64 * 1024);
    expect(errorOf(result)).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});
