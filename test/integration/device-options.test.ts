/**
 * Issue 12 against the emulators: ownership changes on the device's version, the secure-apps
 * one-time PIN (parallel verifications and guesses against DynamoDB Local), the Entrust derived
 * credential round trip with the local stand-in, and object-level authorization on each route.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AgentEnrollResponse,
  ApiErrorBody,
  DerivedCredentialCompleted,
  DerivedCredentialStart,
  DeviceDetailResponse,
  DeviceListResponse,
  RegistrationResponse,
  SecureAppsPasscodeResponse,
} from '../../functions/core/api-types.ts';
import { MAX_PIN_TRIES } from '../../functions/core/one-time-pin.ts';
import { ROLES } from '../../functions/routes.ts';
import { api, cognitoLocalPrivateKey, decodeJwt, nowSeconds, portalUrl, signJwt } from './helpers.ts';
import { newUser, putSettings, resetSettings, storedDevice, type TestUser } from './local-table.ts';

interface Enrolled {
  user: TestUser;
  deviceId: string;
  credential: string;
}

const ALL_ROLES = { defaultRoles: [...ROLES], goAttemptsPerAddress: 10_000, deviceLimitPerUser: 20 };

async function registration(
  user: TestUser,
  body: Record<string, unknown> = {},
): Promise<RegistrationResponse> {
  const created = await api<RegistrationResponse>('/api/registrations', {
    method: 'POST',
    token: user.accessToken,
    body: { platform: 'ANDROID', method: 'PIN', delivery: [], ...body },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

async function enrolled(
  options: { secureApps?: boolean; ownership?: 'EMPLOYEE' | 'COMPANY' } = {},
): Promise<Enrolled> {
  const user = await newUser();
  const created = await registration(user, options.ownership ? { ownership: options.ownership } : {});
  const answer = await api<AgentEnrollResponse>('/api/agent/enroll', {
    method: 'POST',
    body: {
      username: user.email,
      pin: created.pin,
      managementMode: 'FULLY_MANAGED',
      secureAppsContainer: options.secureApps ?? true,
      device: { platform: 'ANDROID', deviceType: 'Pixel 9', manufacturer: 'Google', osVersion: 'Android 15' },
    },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return { user, deviceId: answer.body.deviceId, credential: answer.body.deviceCredential };
}

const detail = (device: Enrolled) =>
  api<DeviceDetailResponse>(`/api/devices/${device.deviceId}`, { token: device.user.accessToken });

const changeOwnership = (
  device: Enrolled,
  ownership: string,
  version: number,
  token = device.user.accessToken,
) =>
  api<DeviceDetailResponse & ApiErrorBody>(`/api/devices/${device.deviceId}/ownership`, {
    method: 'PUT',
    token,
    body: { ownership, version },
  });

const rename = (device: Enrolled, name: string, token = device.user.accessToken) =>
  api<DeviceDetailResponse & ApiErrorBody>(`/api/devices/${device.deviceId}/name`, {
    method: 'PUT',
    token,
    body: { name },
  });

const checkIn = (device: Enrolled) =>
  api<{ deviceId: string }>('/api/agent/checkin', {
    method: 'POST',
    headers: { authorization: `Device ${device.credential}` },
    body: { device: {} },
  });

const newSecureAppsPin = (device: Enrolled) =>
  api<SecureAppsPasscodeResponse & ApiErrorBody>(`/api/devices/${device.deviceId}/secure-apps-passcode`, {
    method: 'POST',
    token: device.user.accessToken,
  });

const verify = (device: Enrolled, username: string, pin: string) =>
  api<ApiErrorBody>('/api/agent/secure-apps-passcode/verify', {
    method: 'POST',
    headers: { authorization: `Device ${device.credential}` },
    body: { username, pin },
  });

const otherPin = (pin: string) => (pin === '00000000' ? '11111111' : '00000000');

beforeEach(async () => {
  await putSettings(ALL_ROLES);
});

afterEach(async () => {
  await resetSettings();
});

describe('change ownership (12.1)', () => {
  it('changes Employee to Company on the version read, tells the agent, and re-evaluates the actions', async () => {
    const device = await enrolled({ ownership: 'EMPLOYEE' });
    const before = await detail(device);
    expect(before.body.actions.find((a) => a.action === 'WIPE')?.reason?.code).toBe('POLICY');
    const changed = await changeOwnership(device, 'COMPANY', before.body.device.version);
    expect(changed.status).toBe(200);
    expect(changed.body.device.ownership).toBe('COMPANY');
    expect(changed.body.actions.find((a) => a.action === 'WIPE')?.available).toBe(true);
    const checkin = await api<{ ownership: string }>('/api/agent/checkin', {
      method: 'POST',
      headers: { authorization: `Device ${device.credential}` },
      body: { device: {} },
    });
    expect(checkin.body.ownership).toBe('COMPANY');
  });

  it('lets one of two changes made at once win; the other is told someone changed it first', async () => {
    const device = await enrolled({ ownership: 'EMPLOYEE' });
    const { version } = (await detail(device)).body.device;
    const [a, b] = await Promise.all([
      changeOwnership(device, 'COMPANY', version),
      changeOwnership(device, 'COMPANY', version),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error.code).toBe('OWNERSHIP_CHANGED');
    expect(loser.body.error.message).toMatch(/changed meanwhile/);
  });

  it('needs a sign-in within the last 5 minutes', async () => {
    const device = await enrolled();
    const stale = signJwt(
      { ...decodeJwt(device.user.accessToken), auth_time: nowSeconds() - 600 },
      cognitoLocalPrivateKey(),
    );
    const answer = await changeOwnership(
      device,
      'COMPANY',
      (await detail(device)).body.device.version,
      stale,
    );
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('RECENT_SIGN_IN_REQUIRED');
  });

  it('says so when the administrator does not let users change it', async () => {
    await putSettings({ ...ALL_ROLES, usersMayChooseOwnership: false });
    const device = await enrolled();
    const page = await detail(device);
    expect(page.body.ownershipChange).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/administrator/),
    });
    const answer = await changeOwnership(device, 'COMPANY', page.body.device.version);
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('OWNERSHIP_LOCKED');
  });
});

describe('rename a device', () => {
  it('keeps the new name: the device page, the list and the activity feed show it', async () => {
    const device = await enrolled();
    const renamed = await rename(device, 'Field phone');
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.device.name).toBe('Field phone');
    expect((await detail(device)).body.device.name).toBe('Field phone');
    const list = await api<DeviceListResponse>('/api/devices', { token: device.user.accessToken });
    expect(list.body.devices.find((d) => d.deviceId === device.deviceId)?.name).toBe('Field phone');
    const feed = await api<{ events: { summary: string }[] }>(`/api/devices/${device.deviceId}/activity`, {
      token: device.user.accessToken,
    });
    expect(feed.body.events[0]?.summary).toBe('Renamed: “Pixel 9” → “Field phone”');
  });

  it('succeeds while the device checks in at the same moment: 8 rounds of a rename raced against a check-in', async () => {
    const device = await enrolled();
    for (let round = 0; round < 8; round++) {
      const [renamed, checkedIn] = await Promise.all([rename(device, `Phone ${round}`), checkIn(device)]);
      expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
      expect(checkedIn.status).toBe(200);
      expect((await storedDevice(device.user.sub, device.deviceId))?.name).toBe(`Phone ${round}`);
    }
  });
});

describe('reset the secure-apps passcode (12.2, rule 3)', () => {
  it('shows 8 digits once, stored only as a keyed hash, and the agent checks them once for that user', async () => {
    const device = await enrolled();
    const { body } = await newSecureAppsPin(device);
    expect(body.pin).toMatch(/^\d{8}$/);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    expect(JSON.stringify(await storedDevice(device.user.sub, device.deviceId))).not.toContain(body.pin);
    expect((await verify(device, device.user.email, body.pin)).status).toBe(200);
    expect((await verify(device, device.user.email, body.pin)).status).toBe(401);
  });

  it('works only for the device owner and only on that device', async () => {
    const device = await enrolled();
    const other = await enrolled();
    const { body } = await newSecureAppsPin(device);
    expect((await verify(device, other.user.email, body.pin)).status).toBe(401);
    expect((await verify(other, device.user.email, body.pin)).status).toBe(401);
    expect((await verify(device, device.user.email, body.pin)).status).toBe(200);
  });

  it('invalidates the old PIN when a new one is asked for', async () => {
    const device = await enrolled();
    const first = (await newSecureAppsPin(device)).body.pin;
    const second = (await newSecureAppsPin(device)).body.pin;
    expect((await verify(device, device.user.email, first)).status).toBe(401);
    expect((await verify(device, device.user.email, second)).status).toBe(200);
  });

  it('of 50 parallel verifications of one PIN, exactly one succeeds', async () => {
    const device = await enrolled();
    const { body } = await newSecureAppsPin(device);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => verify(device, device.user.email, body.pin)),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(49);
  });

  it(`of 40 parallel wrong guesses at most ${MAX_PIN_TRIES} are compared, and the right PIN is refused after`, async () => {
    const device = await enrolled();
    const { body } = await newSecureAppsPin(device);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => verify(device, device.user.email, otherPin(body.pin))),
    );
    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect((await storedDevice(device.user.sub, device.deviceId)).secureAppsPin?.tries).toBe(MAX_PIN_TRIES);
    expect((await verify(device, device.user.email, body.pin)).status).toBe(401);
  });

  it('is not offered for a device whose agent has no secure-apps container', async () => {
    const device = await enrolled({ secureApps: false });
    const page = await detail(device);
    expect(page.body.actions.find((a) => a.action === 'SECURE_APPS_PASSCODE')?.reason?.code).toBe(
      'NOT_SUPPORTED',
    );
    expect((await newSecureAppsPin(device)).status).toBe(409);
  });
});

describe('request an Entrust derived credential (12.3, rule 4)', () => {
  const entrust = () => `${portalUrl()}/_local/entrust`;

  beforeEach(async () => {
    await putSettings({ ...ALL_ROLES, derivedCredential: { enabled: true, entrustUrl: entrust() } });
  });

  async function started(user: TestUser) {
    const { device } = await registration(user);
    const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
    expect(list.body.devices.find((d) => d.deviceId === device.deviceId)?.derivedCredential.canRequest).toBe(
      true,
    );
    const start = await api<DerivedCredentialStart>(`/api/devices/${device.deviceId}/derived-credential`, {
      method: 'POST',
      token: user.accessToken,
    });
    expect(start.status).toBe(200);
    return { deviceId: device.deviceId, redirect: new URL(start.body.redirectUrl) };
  }

  const complete = (user: TestUser, state: string, result = 'SUCCESS', credentialName?: string) =>
    api<DerivedCredentialCompleted & ApiErrorBody>('/api/derived-credential/complete', {
      method: 'POST',
      token: user.accessToken,
      body: { state, result, ...(credentialName ? { credentialName } : {}) },
    });

  it('sends the user to the configured Entrust address with a state and the portal return address', async () => {
    const user = await newUser();
    const { redirect } = await started(user);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(entrust());
    expect(redirect.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(redirect.searchParams.get('return')).toBe(`${portalUrl()}/derived-credential`);
  });

  it('goes through the Entrust stand-in and back: the device shows the credential as requested, once', async () => {
    const user = await newUser();
    const { deviceId, redirect } = await started(user);
    const state = redirect.searchParams.get('state') ?? '';
    const back = await fetch(
      `${redirect.toString()}&step=done&name=${encodeURIComponent('Work PIV-D')}&recorded=yes`,
      { redirect: 'manual' },
    );
    const returned = new URL(back.headers.get('location') ?? '', portalUrl());
    expect(returned.pathname).toBe('/derived-credential');
    expect(returned.searchParams.get('result')).toBe('success');
    const done = await complete(
      user,
      returned.searchParams.get('state') ?? '',
      'SUCCESS',
      returned.searchParams.get('name') ?? '',
    );
    expect(done.body).toEqual({ deviceId, status: 'REQUESTED' });
    const list = await api<DeviceListResponse>('/api/devices', { token: user.accessToken });
    expect(list.body.devices.find((d) => d.deviceId === deviceId)?.derivedCredential).toMatchObject({
      status: 'REQUESTED',
      name: 'Work PIV-D',
      canRequest: false,
    });
    expect((await complete(user, state)).status).toBe(410);
  });

  it('records a failure sent back by Entrust', async () => {
    const user = await newUser();
    const { deviceId, redirect } = await started(user);
    const done = await complete(user, redirect.searchParams.get('state') ?? '', 'FAILURE');
    expect(done.body).toEqual({ deviceId, status: 'FAILED' });
  });

  it("refuses another user's state, and a made-up one, with a clear message", async () => {
    const owner = await newUser();
    const other = await newUser();
    const { redirect } = await started(owner);
    const foreign = await complete(other, redirect.searchParams.get('state') ?? '');
    expect(foreign.status).toBe(410);
    expect(foreign.body.error.message).toMatch(/Request the derived credential again/);
    expect((await complete(owner, 'A'.repeat(22))).status).toBe(410);
  });
});

describe("object-level authorization (12.5): bob and alice's devices", () => {
  it("answers 404 from each route for another user's device", async () => {
    await putSettings({
      ...ALL_ROLES,
      derivedCredential: { enabled: true, entrustUrl: `${portalUrl()}/_local/entrust` },
    });
    const device = await enrolled();
    const bob = await newUser();
    const pending = await registration(device.user);
    const answers = [
      await changeOwnership(device, 'COMPANY', 1, bob.accessToken),
      await api(`/api/devices/${device.deviceId}/secure-apps-passcode`, {
        method: 'POST',
        token: bob.accessToken,
      }),
      await api(`/api/devices/${pending.device.deviceId}/derived-credential`, {
        method: 'POST',
        token: bob.accessToken,
      }),
      await rename(device, 'Bob was here', bob.accessToken),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404]);
    expect((await storedDevice(device.user.sub, device.deviceId))?.name).not.toBe('Bob was here');
  });
});
