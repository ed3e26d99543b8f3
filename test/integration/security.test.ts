/**
 * The security rules of issue 7 as they hold against the real engines: parallel requests against
 * DynamoDB Local (the in-memory fakes cannot show a race), forged headers through the local
 * CloudFront twin, and the answers a stranger at /go gets.
 */
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type {
  AgentEnrollResponse,
  ApiErrorBody,
  DeviceFacts,
  DeviceListResponse,
  EnrollVerifyResponse,
  RegistrationResponse,
} from '../../functions/core/api-types.ts';
import { FAILURE_FLOOR_MS } from '../../functions/core/enrollment.ts';
import { MAX_PIN_TRIES } from '../../functions/core/one-time-pin.ts';
import { api, portalUrl } from './helpers.ts';
import {
  newUser,
  putSettings,
  resetSettings,
  setCounter,
  storedDevice,
  type TestUser,
} from './local-table.ts';

const ANDROID: DeviceFacts = {
  platform: 'ANDROID',
  deviceType: 'Pixel 9',
  manufacturer: 'Google',
  osVersion: 'Android 15',
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

const verify = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api<EnrollVerifyResponse & ApiErrorBody>('/api/enroll/verify', { method: 'POST', body, headers });

const wrongPinFor = (pin: string | undefined) => (pin === '00000000' ? '11111111' : '00000000');

interface Outbox {
  emails: { to: string[]; text: string; html: string }[];
  sms: { phoneNumber: string; message: string }[];
}
const outbox = async () => (await api<Outbox>('/_local/outbox.json')).body;

beforeEach(async () => {
  await putSettings({
    goAttemptsPerAddress: 10_000,
    deviceLimitPerUser: 50,
    invitationsPerUserPerHour: 1000,
  });
});

afterEach(async () => {
  await resetSettings();
});

describe('links never come from a request header (issue 7.1)', () => {
  it('sends the configured /go link whatever Host, X-Forwarded-Host or Forwarded say', async () => {
    const user = await newUser('+15555550177');
    const answer = await api<RegistrationResponse>('/api/registrations', {
      method: 'POST',
      token: user.accessToken,
      body: { platform: 'ANDROID', method: 'INVITATION', delivery: ['EMAIL', 'SMS'] },
      headers: {
        'x-forwarded-host': 'evil.example',
        forwarded: 'host=evil.example;proto=https',
        'x-forwarded-proto': 'http',
      },
    });
    expect(answer.status).toBe(201);
    expect(answer.body.goUrl).toBe(`${portalUrl()}/go`);
    const sent = await outbox();
    const mail = sent.emails.find((e) => e.to.includes(user.email));
    const sms = sent.sms.find((s) => s.phoneNumber === '+15555550177');
    for (const body of [mail?.text, mail?.html, sms?.message]) {
      expect(body).toContain(`${portalUrl()}/go`);
      expect(body).not.toContain('evil.example');
    }
  });
});

describe('limits see the real client (issue 7.3)', () => {
  it('counts /go attempts by the connection, not by a forged X-Forwarded-For or CloudFront-Viewer-Address', async () => {
    await putSettings({ goAttemptsPerAddress: 3 });
    // Every test here comes from 127.0.0.1: start this one with the address's window at zero.
    const quarter = 15 * 60_000;
    await setCounter(
      'GO#127.0.0.1',
      'ATTEMPTS',
      new Date(Math.floor(Date.now() / quarter) * quarter + quarter),
      0,
    );
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(
        await verify(
          { username: `nobody${i}@example.com`, pin: '12345678' },
          { 'x-forwarded-for': `203.0.113.${i}`, 'cloudfront-viewer-address': `198.51.100.${i}:443` },
        ),
      );
    }
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429]);
    expect(answers[3]?.body.error.code).toBe('TOO_MANY_ATTEMPTS');
  });
});

describe('tries are taken before the comparison (issue 7.4)', () => {
  it(`of 40 parallel wrong PINs at most ${MAX_PIN_TRIES} are compared, and the right PIN is refused after`, async () => {
    const user = await newUser();
    const { pin, device } = await registered(user);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => verify({ username: user.email, pin: wrongPinFor(pin) })),
    );
    expect(answers.every((a) => a.status === 401 && a.body.error.code === 'BAD_CREDENTIALS')).toBe(true);
    const stored = await storedDevice(user.sub, device.deviceId);
    expect(stored.registration?.pin?.tries).toBe(MAX_PIN_TRIES);
    const right = await verify({ username: user.email, pin });
    expect(right.status).toBe(401);
  });
});

describe('limits hold under concurrency (issue 7.5)', () => {
  it('of 20 parallel registrations with a device limit of 1, exactly one creates a device', async () => {
    await putSettings({
      deviceLimitPerUser: 1,
      invitationsPerUserPerHour: 1000,
      goAttemptsPerAddress: 10_000,
    });
    const user = await newUser();
    const answers = await Promise.all(Array.from({ length: 20 }, () => register(user)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
    expect(list.body.devices).toHaveLength(1);
  });

  it('of 20 parallel /go verifications of 20 registrations with a limit of 1, exactly one gets a token', async () => {
    const user = await newUser();
    const pins: string[] = [];
    for (let i = 0; i < 20; i++) pins.push((await registered(user)).pin ?? '');
    await putSettings({ deviceLimitPerUser: 1, goAttemptsPerAddress: 10_000 });
    const answers = await Promise.all(pins.map((pin) => verify({ username: user.email, pin })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    // The rest are refused: by the limit, or because each PIN's tries went to the parallel others.
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expect([answer.status, answer.body.error.code]).toSatisfy(
        ([status, code]) =>
          (status === 409 && code === 'DEVICE_LIMIT_REACHED') ||
          (status === 401 && code === 'BAD_CREDENTIALS'),
      );
    }
    const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
    expect(list.body.devices.filter((d) => d.status === 'PENDING')).toHaveLength(20);
  });

  it('of 20 parallel agent enrollments with a limit of 1, exactly one device becomes Active', async () => {
    const user = await newUser();
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { pin } = await registered(user);
      const verified = await verify({ username: user.email, pin });
      tokens.push(verified.body.enrollmentToken ?? '');
    }
    await putSettings({ deviceLimitPerUser: 1, goAttemptsPerAddress: 10_000 });
    const answers = await Promise.all(
      tokens.map((enrollmentToken) =>
        api<AgentEnrollResponse & ApiErrorBody>('/api/agent/enroll', {
          method: 'POST',
          body: { enrollmentToken, device: ANDROID },
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
    expect(list.body.devices.filter((d) => d.status === 'ACTIVE')).toHaveLength(1);
  });

  it('of 20 parallel registrations with 5 invitations an hour allowed, exactly 5 are made', async () => {
    await putSettings({ invitationsPerUserPerHour: 5, deviceLimitPerUser: 50, goAttemptsPerAddress: 10_000 });
    const user = await newUser();
    const answers = await Promise.all(Array.from({ length: 20 }, () => register(user)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(15);
  });
});

describe('/go does not reveal who has an account or a registration (issue 7.6)', () => {
  it('answers an unknown user, a user without a registration and a wrong PIN alike, none sooner than the floor', async () => {
    const withRegistration = await newUser();
    const { pin } = await registered(withRegistration);
    const withoutRegistration = await newUser();
    const cases = [
      { username: 'no-such-user@example.com', pin: '12345678' },
      { username: withoutRegistration.email, pin: '12345678' },
      { username: withRegistration.email, pin: wrongPinFor(pin) },
    ];
    const answers = [];
    for (const body of cases) {
      const started = Date.now();
      const answer = await verify(body);
      answers.push({ status: answer.status, body: answer.body, ms: Date.now() - started });
    }
    expect(new Set(answers.map((a) => JSON.stringify([a.status, a.body])))).toHaveProperty('size', 1);
    expect(answers[0]?.status).toBe(401);
    for (const answer of answers) expect(answer.ms).toBeGreaterThanOrEqual(FAILURE_FLOOR_MS - 5);
  });

  it("lets the user register after a stranger spent the day's failures: a resend gives a PIN that works", async () => {
    const user = await newUser();
    const first = await registered(user);
    const dayEnd = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 + 86_400_000);
    await setCounter(`USER#${user.sub}`, 'GO_FAILURES', dayEnd, 100);
    expect((await verify({ username: user.email, pin: first.pin })).status).toBe(429);
    const resent = await api<RegistrationResponse>(`/api/registrations/${first.device.deviceId}/resend`, {
      method: 'POST',
      token: user.accessToken,
      body: {},
    });
    expect(resent.status).toBe(200);
    expect((await verify({ username: user.email, pin: resent.body.pin })).status).toBe(200);
  });
});

describe('the /go password check fails closed (issue 7.8)', () => {
  it('refuses the right temporary password of an account that must choose a new one first', async () => {
    const cognito = new CognitoIdentityProviderClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoint: inject('cognitoEndpoint'),
    });
    const user = await newUser();
    await registered(user, { method: 'INVITATION' });
    const email = `temp${Date.now()}@example.com`;
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: inject('userPoolId'),
        Username: email,
        TemporaryPassword: 'Temporary-Passw0rd',
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    const answer = await verify({ username: email, password: 'Temporary-Passw0rd' });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('BAD_CREDENTIALS');
  });
});

describe('bad input never reaches a 5xx (issue 7.10)', () => {
  it('answers 415 to a body that is not JSON where JSON is expected', async () => {
    const response = await fetch(`${portalUrl()}/api/enroll/verify`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'username=alice',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as ApiErrorBody).error.code).toBe('JSON_REQUIRED');
  });

  it('answers 413 with a JSON error to a body over 10 MB, as API Gateway does', async () => {
    const response = await fetch(`${portalUrl()}/api/enroll/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as ApiErrorBody).error.code).toBe('BODY_TOO_LARGE');
  });
});
