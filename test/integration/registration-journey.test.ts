/**
 * Issue 10 against the emulators: registration as a user lives it. The server says where each
 * registration stands, /go survives a wrong phone and picks the right registration, invitations
 * say what the user chose, phone numbers and emails are taken as people type them.
 */
import {
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type {
  AgentEnrollResponse,
  ApiErrorBody,
  DeviceFacts,
  DeviceListResponse,
  DeviceSummary,
  EnrollVerifyResponse,
  RegistrationChoice,
  RegistrationResponse,
} from '../../functions/core/api-types.ts';
import { api } from './helpers.ts';
import { newUser, putSettings, resetSettings, type TestUser } from './local-table.ts';

const PIXEL: DeviceFacts = {
  platform: 'ANDROID',
  deviceType: 'Pixel 9',
  manufacturer: 'Google',
  osVersion: 'Android 15',
};
const PASSWORD = 'Passw0rd!demo';

type ErrorWithDetails = {
  error: { code: string; message: string; details?: { choices: RegistrationChoice[] } };
};

const register = (user: TestUser, body: Record<string, unknown> = {}) =>
  api<RegistrationResponse & ApiErrorBody>('/api/registrations', {
    method: 'POST',
    token: user.accessToken,
    body: { platform: 'ANDROID', method: 'PIN', delivery: [], ...body },
  });

async function registered(user: TestUser, body: Record<string, unknown> = {}): Promise<RegistrationResponse> {
  const answer = await register(user, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

const verify = (body: Record<string, unknown>) =>
  api<EnrollVerifyResponse & ErrorWithDetails>('/api/enroll/verify', { method: 'POST', body });

async function card(user: TestUser, deviceId: string): Promise<DeviceSummary | undefined> {
  const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
  return list.body.devices.find((d) => d.deviceId === deviceId);
}

interface Outbox {
  emails: { to: string[]; text: string; subject: string }[];
  sms: { phoneNumber: string; message: string }[];
}
const outbox = async () => (await api<Outbox>('/_local/outbox.json')).body;

beforeEach(async () => {
  await putSettings({ goAttemptsPerAddress: 10_000, deviceLimitPerUser: 20 });
});

afterEach(async () => {
  await resetSettings();
});

describe('the card says where the registration stands (10.1)', () => {
  it('is waiting for the device, then PIN locked after 5 wrong tries, with Resend offered', async () => {
    const user = await newUser();
    const { device, pin } = await registered(user);
    expect((await card(user, device.deviceId))?.registration).toMatchObject({
      stage: 'WAITING_FOR_DEVICE',
      canResend: true,
    });
    for (let i = 0; i < 5; i++)
      await verify({ username: user.email, pin: pin === '00000000' ? '11111111' : '00000000' });
    expect((await card(user, device.deviceId))?.registration).toMatchObject({
      stage: 'PIN_LOCKED',
      canResend: true,
    });
  });

  it('is verified at /go and waiting for the app, without Resend while the phone holds its token', async () => {
    const user = await newUser();
    const { device, pin } = await registered(user);
    const verified = await verify({ username: user.email, pin });
    const shown = await card(user, device.deviceId);
    expect(shown?.status).toBe('PENDING');
    expect(shown?.registration).toMatchObject({
      stage: 'VERIFIED',
      canResend: false,
      enrollmentExpiresAt: verified.body.expiresAt,
    });
  });
});

describe('/go survives a wrong phone (10.2)', () => {
  it('says an iPhone registration is for an iPhone when the PIN is entered on Android, and keeps the PIN', async () => {
    const user = await newUser();
    const { pin } = await registered(user, { platform: 'IOS' });
    const onAndroid = await verify({ username: user.email, pin, platform: 'ANDROID' });
    expect(onAndroid.status).toBe(409);
    expect(onAndroid.body.error.code).toBe('PLATFORM_MISMATCH');
    expect(onAndroid.body.error.message).toMatch(/iPhone or iPad/);
    const onIphone = await verify({ username: user.email, pin, platform: 'IOS' });
    expect(onIphone.status).toBe(200);
    expect(onIphone.body.platform).toBe('IOS');
  });

  it("picks the registration for the phone's platform with the password", async () => {
    const user = await newUser();
    await registered(user, { platform: 'IOS', method: 'INVITATION' });
    const android = await registered(user, { platform: 'ANDROID', method: 'INVITATION' });
    const answer = await verify({ username: user.email, password: PASSWORD, platform: 'ANDROID' });
    expect(answer.status).toBe(200);
    expect(answer.body.deviceId).toBe(android.device.deviceId);
  });

  it('asks which registration when several wait for this kind of phone, then takes the one chosen', async () => {
    const user = await newUser();
    const first = await registered(user, { method: 'INVITATION', name: 'Work phone' });
    const second = await registered(user, { method: 'INVITATION', name: 'Spare phone' });
    const asked = await verify({ username: user.email, password: PASSWORD, platform: 'ANDROID' });
    expect(asked.status).toBe(409);
    expect(asked.body.error.code).toBe('CHOOSE_REGISTRATION');
    expect(asked.body.error.details?.choices.map((c) => c.name).sort()).toEqual([
      'Spare phone',
      'Work phone',
    ]);
    const chosen = await verify({
      username: user.email,
      password: PASSWORD,
      platform: 'ANDROID',
      deviceId: first.device.deviceId,
    });
    expect(chosen.status).toBe(200);
    expect(chosen.body.deviceId).toBe(first.device.deviceId);
    expect((await card(user, second.device.deviceId))?.registration?.stage).toBe('WAITING_FOR_DEVICE');
  });

  it('never gives a correct password a PIN message', async () => {
    const user = await newUser();
    const answer = await verify({ username: user.email, password: PASSWORD });
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toMatch(/password/);
    expect(answer.body.error.message).not.toMatch(/PIN/);
  });
});

describe('invitations say what the user chose (10.4)', () => {
  it('tells an invitation without a PIN to sign in with the password, and never mentions a PIN', async () => {
    const user = await newUser();
    await registered(user, { method: 'INVITATION', delivery: ['EMAIL'] });
    const mail = (await outbox()).emails.find((e) => e.to.includes(user.email));
    expect(mail?.text).toContain('your portal password');
    expect(mail?.text).not.toMatch(/PIN/);
    expect(mail?.text).toContain('Android device');
  });

  it('names the PIN for a PIN registration and says "iPhone or iPad" for one', async () => {
    const user = await newUser();
    await registered(user, { method: 'PIN', platform: 'IOS', delivery: ['EMAIL'] });
    const mail = (await outbox()).emails.find((e) => e.to.includes(user.email));
    expect(mail?.text).toContain('the registration PIN shown in the portal');
    expect(mail?.text).toContain('iPhone or iPad');
  });

  it("gives the expiry in the user's time zone and language from the profile", async () => {
    const user = await newUser();
    const cognito = new CognitoIdentityProviderClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoint: inject('cognitoEndpoint'),
    });
    await cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: inject('userPoolId'),
        Username: user.email,
        UserAttributes: [
          { Name: 'zoneinfo', Value: 'Asia/Tokyo' },
          { Name: 'locale', Value: 'en-GB' },
        ],
      }),
    );
    const { expiresAt } = await registered(user, { method: 'PIN', delivery: ['EMAIL'] });
    const mail = (await outbox()).emails.find((e) => e.to.includes(user.email));
    const tokyo = new Intl.DateTimeFormat('en-GB', { timeStyle: 'short', timeZone: 'Asia/Tokyo' }).format(
      new Date(expiresAt),
    );
    expect(mail?.text).toContain(tokyo);
    expect(mail?.text).toMatch(/GMT\+9/);
  });
});

describe('people can tell registrations apart (10.5)', () => {
  it('keeps the name the user gave when the device enrolls with its own model name', async () => {
    const user = await newUser();
    const { device, pin } = await registered(user, { name: 'Work Pixel' });
    const enrolled = await api<AgentEnrollResponse>('/api/agent/enroll', {
      method: 'POST',
      body: { username: user.email, pin, device: PIXEL },
    });
    expect(enrolled.status).toBe(201);
    const shown = await card(user, device.deviceId);
    expect(shown).toMatchObject({ name: 'Work Pixel', deviceType: 'Pixel 9', status: 'ACTIVE' });
  });
});

describe('messages a person understands (10.6)', () => {
  it('answers a wrong field with a sentence, not schema text', async () => {
    const user = await newUser();
    const answer = await register(user, { platform: 'WINDOWS' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toBe('Choose iPhone/iPad or Android.');
  });

  it('says a damaged QR code is damaged or old', async () => {
    const answer = await verify({ username: 'alice@example.com', pin: '12345678', qrToken: 'not a token!' });
    expect(answer.status).toBe(410);
    expect(answer.body.error.message).toBe(
      'This QR code is damaged or old: generate a new one in the portal.',
    );
  });
});

describe('typing as people type (10.7)', () => {
  it('takes a local number with its country and texts it in E.164', async () => {
    const user = await newUser();
    const answer = await register(user, {
      method: 'INVITATION',
      delivery: ['SMS'],
      phoneNumber: '(415) 555-0123',
      phoneCountry: 'US',
    });
    expect(answer.status).toBe(201);
    const sms = (await outbox()).sms.filter((s) => s.phoneNumber === '+14155550123');
    expect(sms.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a premium-rate number with one clear message', async () => {
    const user = await newUser();
    const answer = await register(user, {
      method: 'INVITATION',
      delivery: ['SMS'],
      phoneNumber: '+1 900 555 0123',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('PHONE_NUMBER_INVALID');
    expect(answer.body.error.message).toMatch(/^Enter a mobile number/);
  });

  it('matches the email at /go without regard to case', async () => {
    const user = await newUser();
    const { pin } = await registered(user);
    const answer = await verify({ username: user.email.toUpperCase(), pin });
    expect(answer.status).toBe(200);
  });
});

describe('cancelled registrations can be removed from Past devices (10.11)', () => {
  it('removes a cancelled registration, and refuses to remove one still pending', async () => {
    const user = await newUser();
    const { device } = await registered(user);
    const early = await api<ApiErrorBody>(`/api/devices/${device.deviceId}`, {
      method: 'DELETE',
      token: user.accessToken,
    });
    expect(early.status).toBe(409);
    await api(`/api/registrations/${device.deviceId}`, { method: 'DELETE', token: user.accessToken });
    expect((await card(user, device.deviceId))?.canRemove).toBe(true);
    const removed = await api(`/api/devices/${device.deviceId}`, {
      method: 'DELETE',
      token: user.accessToken,
    });
    expect(removed.status).toBe(204);
    expect(await card(user, device.deviceId)).toBeUndefined();
  });

  it("answers 404 for another user's cancelled registration", async () => {
    const owner = await newUser();
    const other = await newUser();
    const { device } = await registered(owner);
    await api(`/api/registrations/${device.deviceId}`, { method: 'DELETE', token: owner.accessToken });
    const answer = await api(`/api/devices/${device.deviceId}`, {
      method: 'DELETE',
      token: other.accessToken,
    });
    expect(answer.status).toBe(404);
  });
});
