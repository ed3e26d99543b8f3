/**
 * Device registration against the local emulators: the security rules of DESIGN §8 (1, 2, 5, 10,
 * 11) as they hold with real DynamoDB conditional writes, Cognito, SES and SNS stand-ins.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AgentEnrollResponse,
  ApiErrorBody,
  DeviceFacts,
  DeviceListResponse,
  EnrollVerifyResponse,
  RegistrationResponse,
} from '../../functions/core/api-types.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { api, portalUrl } from './helpers.ts';
import {
  newUser,
  putSettings,
  rawItem,
  resetSettings,
  rewriteDevice,
  setCounter,
  storedDevice,
  type TestUser,
  userItems,
} from './local-table.ts';

const ANDROID: DeviceFacts = {
  platform: 'ANDROID',
  deviceType: 'Pixel 9',
  manufacturer: 'Google',
  osVersion: 'Android 15',
  imei: '356938035643809',
  carrier: 'T-Mobile',
};

async function register(user: TestUser, body: Record<string, unknown> = {}) {
  return api<RegistrationResponse & ApiErrorBody>('/api/registrations', {
    method: 'POST',
    token: user.accessToken,
    body: { platform: 'ANDROID', method: 'PIN', delivery: [], ...body },
  });
}

async function registered(user: TestUser, body: Record<string, unknown> = {}): Promise<RegistrationResponse> {
  const answer = await register(user, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

const verify = (body: Record<string, unknown>) =>
  api<EnrollVerifyResponse & ApiErrorBody>('/api/enroll/verify', { method: 'POST', body });

const setFaults = (faults: { sms?: string | null; email?: string | null }) =>
  api('/_local/faults', { method: 'PUT', body: faults });

interface Outbox {
  emails: { to: string[]; subject: string; text: string; html: string }[];
  sms: { phoneNumber: string; message: string; smsType: string }[];
}
const outbox = async () => (await api<Outbox>('/_local/outbox.json')).body;

beforeEach(async () => {
  // Lenient address limit: every test here comes from 127.0.0.1.
  await putSettings({ goAttemptsPerAddress: 10_000 });
});

afterEach(async () => {
  await setFaults({ sms: null, email: null });
  await resetSettings();
});

describe('storage of secrets', () => {
  it('stores the registration PIN only as an HMAC under a key the table does not hold', async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    expect(pin).toMatch(/^\d{8}$/);
    const items = await userItems(user.sub);
    expect(JSON.stringify(items)).not.toContain(pin);
    const stored = await storedDevice(user.sub, device.deviceId);
    expect(stored.registration?.pin?.hmac).toMatch(/^[0-9a-f]{64}$/);
    // Not a plain hash of the PIN (or of anything built from the table's own values alone).
    expect(stored.registration?.pin?.hmac).not.toBe(sha256Hex(pin ?? ''));
    expect(stored.registration?.pin?.hmac).not.toBe(
      sha256Hex(['REGISTRATION', user.sub, device.deviceId, pin].join('\u001f')),
    );
  });

  it('stores the QR token only as its sha256, under SECRET#hash', async () => {
    const user = await newUser();
    const { qr } = await registered(user, { method: 'QR' });
    const token = new URLSearchParams(new URL(qr?.url ?? '').hash.slice(1)).get('t') ?? '';
    expect(token.length).toBeGreaterThanOrEqual(22); // 128 bits in base64url
    const secret = await rawItem(`SECRET#${sha256Hex(token)}`, 'SECRET');
    expect(secret?.secret).toMatchObject({ kind: 'QR', userSub: user.sub });
    expect(JSON.stringify(secret)).not.toContain(token);
    expect(JSON.stringify(await userItems(user.sub))).not.toContain(token);
  });

  it('stores the device credential only hashed, and check-in accepts the credential', async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    const enrolled = await api<AgentEnrollResponse>('/api/agent/enroll', {
      method: 'POST',
      body: { username: user.email, pin, device: ANDROID },
    });
    expect(enrolled.status).toBe(201);
    const credential = enrolled.body.deviceCredential;
    const secretPart = credential.split('.')[3] ?? '';
    expect(Buffer.from(secretPart, 'base64url')).toHaveLength(32); // 256 bits
    const stored = await storedDevice(user.sub, device.deviceId);
    expect(stored.credentialHash).toBe(sha256Hex(secretPart));
    expect(JSON.stringify(await userItems(user.sub))).not.toContain(secretPart);
    const checkin = await api('/api/agent/checkin', {
      method: 'POST',
      headers: { authorization: `Device ${credential}` },
      body: { device: { osVersion: 'Android 15.1' } },
    });
    expect(checkin.status).toBe(200);
    const forged = `${credential.slice(0, -4)}AAAA`;
    const refused = await api('/api/agent/checkin', {
      method: 'POST',
      headers: { authorization: `Device ${forged}` },
      body: { device: {} },
    });
    expect(refused.status).toBe(401);
  });
});

describe('registration PIN (rule 1)', () => {
  it('works once: the second use is refused, as any wrong PIN is', async () => {
    const user = await newUser();
    const { pin } = await registered(user);
    expect((await verify({ username: user.email, pin })).status).toBe(200);
    const again = await verify({ username: user.email, pin });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('BAD_CREDENTIALS');
  });

  it('of 20 concurrent uses of one PIN, exactly one succeeds', async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => verify({ username: user.email, pin })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
    const tokens = answers.filter((a) => a.status === 200).map((a) => a.body.enrollmentToken);
    expect(tokens).toHaveLength(1);
    expect((await storedDevice(user.sub, device.deviceId)).registration?.usedAt).toBeTruthy();
  });

  it('expires: a registration past its expiry refuses the right PIN and is listed as expired', async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    const stored = await storedDevice(user.sub, device.deviceId);
    if (!stored.registration) throw new Error('no registration');
    await rewriteDevice({
      ...stored,
      registration: { ...stored.registration, expiresAt: new Date(Date.now() - 1000).toISOString() },
    });
    const answer = await verify({ username: user.email, pin });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('BAD_CREDENTIALS');
    const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
    expect(list.body.devices.find((d) => d.deviceId === device.deviceId)?.status).toBe('EXPIRED');
  });

  it('is invalidated by 5 wrong tries, after which the right PIN no longer works', async () => {
    const user = await newUser();
    const { pin } = await registered(user);
    const wrong = pin === '00000000' ? '11111111' : '00000000';
    const codes: string[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await verify({ username: user.email, pin: wrong })).body.error.code);
    expect(codes).toEqual(Array(5).fill('BAD_CREDENTIALS'));
    const right = await verify({ username: user.email, pin });
    expect(right.status).toBe(401);
    expect(right.body.error.code).toBe('BAD_CREDENTIALS');
  });

  it('stops an account after 100 failures in a day', async () => {
    const user = await newUser();
    const { pin } = await registered(user);
    const dayEnd = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 + 86_400_000);
    await setCounter(`USER#${user.sub}`, 'GO_FAILURES', dayEnd, 100);
    const answer = await verify({ username: user.email, pin });
    expect(answer.status).toBe(429);
    expect(answer.body.error.code).toBe('TOO_MANY_FAILURES');
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('lets only one of 20 concurrent wrong PINs through at 99 failures today', async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    const dayEnd = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 + 86_400_000);
    await setCounter(`USER#${user.sub}`, 'GO_FAILURES', dayEnd, 99);
    const wrong = pin === '00000000' ? '11111111' : '00000000';
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => verify({ username: user.email, pin: wrong })),
    );
    const codes = answers.map((a) => a.body.error.code);
    expect(codes.filter((c) => c === 'BAD_CREDENTIALS')).toHaveLength(1);
    expect(codes.filter((c) => c === 'TOO_MANY_FAILURES')).toHaveLength(19);
    expect((await storedDevice(user.sub, device.deviceId)).registration?.pin?.tries).toBe(1);
  });

  it('is never sent in the invitation email or SMS', async () => {
    const user = await newUser('+15555550142');
    const { pin } = await registered(user, { delivery: ['EMAIL', 'SMS'] });
    const sent = await outbox();
    const mail = sent.emails.filter((e) => e.to.includes(user.email));
    const sms = sent.sms.filter((s) => s.phoneNumber === '+15555550142');
    expect(mail).toHaveLength(1);
    expect(sms.length).toBeGreaterThanOrEqual(1);
    expect(mail[0]?.text).toContain(`${portalUrl()}/go`);
    for (const body of [mail[0]?.text, mail[0]?.html, ...sms.map((s) => s.message)]) {
      expect(body).not.toContain(pin);
    }
    expect(sms.every((s) => s.smsType === 'Transactional')).toBe(true);
  });
});

describe('QR code (rule 2)', () => {
  it('never registers a device on its own: a PIN or password is still needed', async () => {
    const user = await newUser();
    const { qr, pin } = await registered(user, { method: 'QR' });
    const qrToken = new URLSearchParams(new URL(qr?.url ?? '').hash.slice(1)).get('t') ?? '';
    const alone = await verify({ username: user.email, qrToken });
    expect(alone.status).toBe(400);
    const withPin = await verify({ username: user.email, qrToken, pin });
    expect(withPin.status).toBe(200);
    const reused = await verify({ username: user.email, qrToken, password: 'Passw0rd!demo' });
    expect(reused.status).toBe(410);
    expect(reused.body.error.code).toBe('QR_CODE_INVALID');
  });

  it("is refused for another user's account", async () => {
    const owner = await newUser();
    const other = await newUser();
    const { qr } = await registered(owner, { method: 'QR' });
    const qrToken = new URLSearchParams(new URL(qr?.url ?? '').hash.slice(1)).get('t') ?? '';
    const answer = await verify({ username: other.email, qrToken, password: 'Passw0rd!demo' });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('BAD_CREDENTIALS');
  });

  it('gives iOS a single-use profile link; the profile holds a fresh enrollment token that enrolls', async () => {
    const user = await newUser();
    const { qr, pin } = await registered(user, { method: 'QR', platform: 'IOS' });
    const qrToken = new URLSearchParams(new URL(qr?.url ?? '').hash.slice(1)).get('t') ?? '';
    const verified = await verify({ username: user.email, qrToken, pin });
    expect(verified.body.next.kind).toBe('IOS_PROFILE');
    const profileUrl = verified.body.next.kind === 'IOS_PROFILE' ? verified.body.next.profileUrl : '';
    expect(verified.body.enrollmentToken).toBeUndefined();
    const profile = await fetch(profileUrl);
    expect(profile.headers.get('content-type')).toBe('application/x-apple-aspen-config');
    const plist = await profile.text();
    const enrollmentToken = /<key>EnrollmentToken<\/key><string>([^<]+)<\/string>/.exec(plist)?.[1] ?? '';
    expect(enrollmentToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(profileUrl).not.toContain(enrollmentToken);
    expect((await fetch(profileUrl)).status).toBe(401); // the link works once
    const enrolled = await api('/api/agent/enroll', {
      method: 'POST',
      body: {
        enrollmentToken,
        device: { ...ANDROID, platform: 'IOS', deviceType: 'iPhone 15', manufacturer: 'Apple' },
      },
    });
    expect(enrolled.status).toBe(201);
  });
});

describe('resend and cancel', () => {
  it('resend issues a new PIN and QR code; the old ones stop working', async () => {
    const user = await newUser();
    const first = await registered(user, { method: 'QR' });
    const oldToken = new URLSearchParams(new URL(first.qr?.url ?? '').hash.slice(1)).get('t') ?? '';
    const resent = await api<RegistrationResponse>(`/api/registrations/${first.device.deviceId}/resend`, {
      method: 'POST',
      token: user.accessToken,
      body: {},
    });
    expect(resent.status).toBe(200);
    expect(resent.body.pin).not.toBe(first.pin);
    expect((await verify({ username: user.email, pin: first.pin })).status).toBe(401);
    expect((await verify({ username: user.email, qrToken: oldToken, pin: resent.body.pin })).status).toBe(
      410,
    );
    expect((await verify({ username: user.email, pin: resent.body.pin })).status).toBe(200);
  });

  it('resend makes the enrollment token /go handed out for the old registration stop working', async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    const verified = await verify({ username: user.email, pin });
    await api(`/api/registrations/${device.deviceId}/resend`, {
      method: 'POST',
      token: user.accessToken,
      body: {},
    });
    const enrolled = await api('/api/agent/enroll', {
      method: 'POST',
      body: { enrollmentToken: verified.body.enrollmentToken, device: ANDROID },
    });
    expect(enrolled.status).toBe(401);
    expect((await storedDevice(user.sub, device.deviceId)).status).toBe('PENDING');
  });

  it('cancel ends the registration: its PIN no longer works', async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    const cancelled = await api<{ device: { status: string } }>(`/api/registrations/${device.deviceId}`, {
      method: 'DELETE',
      token: user.accessToken,
    });
    expect(cancelled.body.device.status).toBe('CANCELLED');
    expect((await verify({ username: user.email, pin })).status).toBe(401);
  });

  it("another user's device is not found", async () => {
    const owner = await newUser();
    const other = await newUser();
    const { device } = await registered(owner);
    const answer = await api(`/api/registrations/${device.deviceId}`, {
      method: 'DELETE',
      token: other.accessToken,
    });
    expect(answer.status).toBe(404);
  });
});

describe('limits (rule 10)', () => {
  it('refuses invitations past the hourly limit with 429 and Retry-After', async () => {
    await putSettings({ goAttemptsPerAddress: 10_000, invitationsPerUserPerHour: 2 });
    const user = await newUser();
    await registered(user);
    await registered(user);
    const third = await register(user);
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('TOO_MANY_INVITATIONS');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses a registration past the device limit', async () => {
    await putSettings({ goAttemptsPerAddress: 10_000, deviceLimitPerUser: 1 });
    const user = await newUser();
    await registered(user);
    const second = await register(user);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('DEVICE_LIMIT_REACHED');
  });

  it('limits /go attempts per address', async () => {
    await putSettings({ goAttemptsPerAddress: 3 });
    const user = await newUser();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await verify({ username: user.email, pin: '12345678' })).status);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });
});

describe('delivery failures (rule 11)', () => {
  it('an SES failure keeps the registration, marks the email failed, and resend delivers it', async () => {
    const user = await newUser();
    await setFaults({ email: 'MessageRejected' });
    const created = await registered(user, { delivery: ['EMAIL'] });
    expect(created.device.registration?.deliveries).toEqual([
      expect.objectContaining({
        channel: 'EMAIL',
        status: 'FAILED',
        // What to do, in plain words; the provider's code is for the log, not the user (10.6).
        reason: expect.stringMatching(/^The email could not be sent/),
      }),
    ]);
    const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
    expect(list.body.devices.map((d) => d.deviceId)).toContain(created.device.deviceId);
    await setFaults({ email: null });
    const resent = await api<RegistrationResponse>(`/api/registrations/${created.device.deviceId}/resend`, {
      method: 'POST',
      token: user.accessToken,
      body: {},
    });
    expect(resent.body.device.registration?.deliveries).toEqual([
      expect.objectContaining({ channel: 'EMAIL', status: 'SENT' }),
    ]);
    expect((await outbox()).emails.some((e) => e.to.includes(user.email))).toBe(true);
  });

  it('an SNS failure keeps the registration and marks the SMS failed with a reason in plain words', async () => {
    const user = await newUser();
    await setFaults({ sms: 'Throttling' });
    const created = await registered(user, { delivery: ['SMS'] });
    const stored = await storedDevice(user.sub, created.device.deviceId);
    expect(stored.status).toBe('PENDING');
    expect(stored.registration?.deliveries[0]).toMatchObject({ channel: 'SMS', status: 'FAILED' });
    expect(stored.registration?.deliveries[0]?.reason).toMatch(/^The SMS could not be sent/);
    expect(stored.registration?.deliveries[0]?.reason).not.toContain('Throttling');
  });
});

describe('the whole path', () => {
  it('PIN → /go → agent enrollment makes the device Active with the facts it sent', async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    const verified = await verify({ username: user.email, pin });
    expect(verified.body.next.kind).toBe('ANDROID_STORE');
    const enrolled = await api<AgentEnrollResponse>('/api/agent/enroll', {
      method: 'POST',
      body: { enrollmentToken: verified.body.enrollmentToken, device: ANDROID },
    });
    expect(enrolled.status).toBe(201);
    const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
    const active = list.body.devices.find((d) => d.deviceId === device.deviceId);
    expect(active).toMatchObject({
      status: 'ACTIVE',
      deviceType: 'Pixel 9',
      manufacturer: 'Google',
      osVersion: 'Android 15',
      imei: '356938035643809',
      carrier: 'T-Mobile',
      registration: null,
    });
    const reuse = await api('/api/agent/enroll', {
      method: 'POST',
      body: { enrollmentToken: verified.body.enrollmentToken, device: ANDROID },
    });
    expect(reuse.status).toBe(401);
  });

  it('the password works at /go where the settings allow it, and not where they do not', async () => {
    const user = await newUser();
    await registered(user, { method: 'INVITATION', delivery: ['EMAIL'] });
    expect((await verify({ username: user.email, password: 'wrong password' })).status).toBe(401);
    await putSettings({
      goAttemptsPerAddress: 10_000,
      registrationMethods: { invitation: true, pin: true, qr: true, passwordAtGo: false },
    });
    const refused = await verify({ username: user.email, password: 'Passw0rd!demo' });
    expect(refused.status).toBe(403);
    await putSettings({ goAttemptsPerAddress: 10_000 });
    expect((await verify({ username: user.email, password: 'Passw0rd!demo' })).status).toBe(200);
  });
});

describe('bad input', () => {
  const raw = async (path: string, method: string, body: string, token?: string) => {
    const response = await fetch(`${portalUrl()}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
    return { status: response.status, body: (await response.json()) as ApiErrorBody };
  };

  it.each([
    ['malformed JSON', '{"platform":'],
    ['a JSON array', '[1,2]'],
    ['null', 'null'],
    ['wrong types', '{"platform":1,"method":true,"delivery":"EMAIL"}'],
    ['an unknown field', '{"platform":"IOS","method":"PIN","delivery":[],"admin":true}'],
    [
      'a phone number that is not E.164',
      '{"platform":"IOS","method":"PIN","delivery":["SMS"],"phoneNumber":"555-0101"}',
    ],
    [
      'a body over 64 KiB',
      JSON.stringify({ platform: 'IOS', method: 'PIN', delivery: [], x: 'a'.repeat(70_000) }),
    ],
  ])('a registration with %s gets a 4xx that says what to fix', async (_what, body) => {
    const user = await newUser();
    const answer = await raw('/api/registrations', 'POST', body, user.accessToken);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body.error.message.length).toBeGreaterThan(10);
  });

  it.each([
    ['/api/enroll/verify', '{"username":"alice@example.com","pin":"12ab"}'],
    ['/api/enroll/verify', '{"username":"","pin":"12345678"}'],
    ['/api/agent/enroll', '{"enrollmentToken":"short","device":{}}'],
    ['/api/agent/checkin', '{"device":{"imei":"not digits"}}'],
    ['/api/registrations/%E0%A4%A/resend', '{}'],
    ['/api/registrations/not-a-device-id/resend', '{}'],
  ])('%s with %s gets a 4xx, never a 500', async (path, body) => {
    const user = await newUser();
    const answer = await raw(path, 'POST', body, user.accessToken);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body.error.code).toBeTruthy();
  });

  it('a malformed Host header gets a 400 and the server keeps serving', async () => {
    const { request } = await import('node:http');
    const url = new URL(portalUrl());
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: '/api/me', headers: { host: 'a b' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect((await api('/config.json')).status).toBe(200);
  });
});
