/**
 * Device actions through the agent (issue 11) against the emulators: queue, hand over at check-in,
 * results, the cancel/pickup race, wipe and retire ending the device and its credential, the rule
 * for what is allowed, recent sign-in, activity, notices, and object-level authorization.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ActivityResponse,
  AgentCheckinResponse,
  AgentEnrollResponse,
  ApiErrorBody,
  CommandResponse,
  DeviceDetailResponse,
  ManagementMode,
  Ownership,
  RegistrationResponse,
} from '../../functions/core/api-types.ts';
import { ROLES } from '../../functions/routes.ts';
import { api, cognitoLocalPrivateKey, decodeJwt, nowSeconds, signJwt } from './helpers.ts';
import { newUser, putSettings, resetSettings, type TestUser } from './local-table.ts';

interface Enrolled {
  user: TestUser;
  deviceId: string;
  credential: string;
}

async function enrolledDevice(
  options: {
    mode?: ManagementMode;
    platform?: 'IOS' | 'ANDROID';
    ownership?: Ownership;
    user?: TestUser;
  } = {},
): Promise<Enrolled> {
  const user = options.user ?? (await newUser());
  const platform = options.platform ?? 'ANDROID';
  const created = await api<RegistrationResponse>('/api/registrations', {
    method: 'POST',
    token: user.accessToken,
    body: {
      platform,
      method: 'PIN',
      delivery: [],
      ...(options.ownership ? { ownership: options.ownership } : {}),
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const enrolled = await api<AgentEnrollResponse>('/api/agent/enroll', {
    method: 'POST',
    body: {
      username: user.email,
      pin: created.body.pin,
      managementMode: options.mode ?? (platform === 'IOS' ? 'SUPERVISED' : 'FULLY_MANAGED'),
      device: {
        platform,
        deviceType: platform === 'IOS' ? 'iPhone 15' : 'Pixel 9',
        manufacturer: platform === 'IOS' ? 'Apple' : 'Google',
        osVersion: platform === 'IOS' ? 'iOS 18.1.1' : 'Android 15',
      },
    },
  });
  expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
  return { user, deviceId: enrolled.body.deviceId, credential: enrolled.body.deviceCredential };
}

const detail = (device: Enrolled, token = device.user.accessToken) =>
  api<DeviceDetailResponse & ApiErrorBody>(`/api/devices/${device.deviceId}`, { token });

const act = (
  device: Enrolled,
  path: string,
  body?: unknown,
  method = 'POST',
  token = device.user.accessToken,
) =>
  api<CommandResponse & ApiErrorBody>(`/api/devices/${device.deviceId}/${path}`, {
    method,
    token,
    ...(body === undefined ? {} : { body }),
  });

const checkIn = (device: Enrolled) =>
  api<AgentCheckinResponse & ApiErrorBody>('/api/agent/checkin', {
    method: 'POST',
    headers: { authorization: `Device ${device.credential}` },
    body: { device: {} },
  });

const report = (device: Enrolled, commandId: string, body: Record<string, unknown>) =>
  api<CommandResponse & ApiErrorBody>(`/api/agent/commands/${commandId}/result`, {
    method: 'POST',
    headers: { authorization: `Device ${device.credential}` },
    body,
  });

/** A token like the user's, but with the sign-in `minutesAgo` (signed by the emulator's own key). */
function tokenSignedInAgo(user: TestUser, minutesAgo: number): string {
  const claims = decodeJwt(user.accessToken);
  return signJwt({ ...claims, auth_time: nowSeconds() - minutesAgo * 60 }, cognitoLocalPrivateKey());
}

interface Outbox {
  emails: { to: string[]; subject: string; text: string }[];
}

beforeEach(async () => {
  await putSettings({
    goAttemptsPerAddress: 10_000,
    deviceLimitPerUser: 20,
    invitationsPerUserPerHour: 1000,
  });
});

afterEach(async () => {
  await resetSettings();
});

describe('the device page (11.1, 11.2)', () => {
  it('lists an icon for each action, with why an unavailable one is unavailable (a role, the mode)', async () => {
    const device = await enrolledDevice({ platform: 'IOS', mode: 'USER_ENROLLMENT' });
    const answer = await detail(device);
    expect(answer.status).toBe(200);
    expect(answer.body.device).toMatchObject({
      status: 'ACTIVE',
      managementMode: 'USER_ENROLLMENT',
      deviceType: 'iPhone 15',
    });
    // Default roles: self-service, register-device, lock, locate.
    expect(answer.body.actions.map((a) => a.action)).toEqual([
      'LOCK',
      'LOST_MODE',
      'UNLOCK',
      'LOCATE',
      'WIPE',
      'RETIRE',
      'SECURE_APPS_PASSCODE',
    ]);
    expect(answer.body.actions.find((a) => a.action === 'WIPE')?.reason?.code).toBe('ROLE_REQUIRED');
    const lock = answer.body.actions.find((a) => a.action === 'LOCK');
    expect(lock).toMatchObject({ available: false, reason: { code: 'NOT_SUPPORTED' } });
    expect(lock?.reason?.message).toMatch(/enrolled by its owner/);
  });

  it('refuses an unsupported action with the same reason the page shows (409)', async () => {
    const device = await enrolledDevice({ platform: 'IOS', mode: 'USER_ENROLLMENT' });
    const page = await detail(device);
    const refused = await act(device, 'lock', {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      page.body.actions.find((a) => a.action === 'LOCK')?.reason?.message,
    );
  });

  it('answers 403 for an action the roles do not include', async () => {
    const device = await enrolledDevice();
    const refused = await act(device, 'unlock');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ROLE_REQUIRED');
  });
});

describe('a lock through the agent (11.3, 11.4)', () => {
  it('queues, returns the waiting one to a second request, hands it over at check-in and records DONE', async () => {
    const device = await enrolledDevice();
    const first = await act(device, 'lock', { message: 'Found it? Call me', phoneNumber: '+1 415 555 0123' });
    expect(first.status).toBe(202);
    expect(first.body.command).toMatchObject({ action: 'LOCK', status: 'QUEUED', canCancel: true });
    const second = await act(device, 'lock', {});
    expect(second.body.command.commandId).toBe(first.body.command.commandId);
    expect((await detail(device)).body.actions.find((a) => a.action === 'LOCK')?.reason?.code).toBe(
      'ALREADY_WAITING',
    );

    const handed = await checkIn(device);
    expect(handed.body.commands).toEqual([
      {
        commandId: first.body.command.commandId,
        action: 'LOCK',
        lockScreen: { message: 'Found it? Call me', phoneNumber: '+1 415 555 0123' },
      },
    ]);
    expect((await checkIn(device)).body.commands).toEqual([]);
    const done = await report(device, first.body.command.commandId, { status: 'DONE' });
    expect(done.body.command.status).toBe('DONE');
    const page = await detail(device);
    expect(page.body.commands[0]).toMatchObject({ commandId: first.body.command.commandId, status: 'DONE' });
  });

  it("records the agent's error for FAILED", async () => {
    const device = await enrolledDevice();
    const { body } = await act(device, 'lock', {});
    await checkIn(device);
    await report(device, body.command.commandId, { status: 'FAILED', error: 'PASSCODE_NOT_SET' });
    expect((await detail(device)).body.commands[0]).toMatchObject({
      status: 'FAILED',
      error: 'PASSCODE_NOT_SET',
    });
  });

  it('turns lost mode on with its message, then off', async () => {
    const device = await enrolledDevice();
    const on = await act(device, 'lost-mode', { message: 'Lost. Please call', phoneNumber: '+14155550123' });
    await checkIn(device);
    await report(device, on.body.command.commandId, { status: 'DONE' });
    expect((await detail(device)).body.device.lostMode).toMatchObject({ message: 'Lost. Please call' });
    const off = await act(device, 'lost-mode', undefined, 'DELETE');
    expect(off.status).toBe(202);
    await checkIn(device);
    await report(device, off.body.command.commandId, { status: 'DONE' });
    expect((await detail(device)).body.device.lostMode).toBeNull();
  });

  it("keeps a locate's position on the device", async () => {
    const device = await enrolledDevice();
    const { body } = await act(device, 'locate');
    await checkIn(device);
    const position = { latitude: 52.52, longitude: 13.405, accuracy: 12, at: new Date().toISOString() };
    await report(device, body.command.commandId, { status: 'DONE', position });
    expect((await detail(device)).body.device.lastPosition).toEqual(position);
  });
});

describe('cancel (11.6)', () => {
  it('cancels a command the device has not picked up; the device then never gets it', async () => {
    const device = await enrolledDevice();
    const { body } = await act(device, 'locate');
    const cancelled = await act(device, `commands/${body.command.commandId}`, undefined, 'DELETE');
    expect(cancelled.body.command.status).toBe('CANCELLED');
    expect((await checkIn(device)).body.commands).toEqual([]);
  });

  it('ends a cancel racing the pickup with exactly one of them winning, every time', async () => {
    const device = await enrolledDevice();
    for (let round = 0; round < 15; round++) {
      const { body } = await act(device, 'locate');
      const [cancel, pickup] = await Promise.all([
        act(device, `commands/${body.command.commandId}`, undefined, 'DELETE'),
        checkIn(device),
      ]);
      const handedOver = pickup.body.commands.some((c) => c.commandId === body.command.commandId);
      const cancelWon = cancel.status === 200;
      expect(
        cancelWon !== handedOver,
        `round ${round}: cancel ${cancel.status}, handed over ${handedOver}`,
      ).toBe(true);
      if (!cancelWon) expect(cancel.body.error.code).toBe('ALREADY_PICKED_UP');
      if (handedOver)
        await report(device, body.command.commandId, {
          status: 'DONE',
          position: { latitude: 1, longitude: 1, accuracy: 5, at: new Date().toISOString() },
        });
    }
  });
});

describe('wipe and retire (11.4, 11.7)', () => {
  beforeEach(async () => {
    await putSettings({
      defaultRoles: [...ROLES],
      goAttemptsPerAddress: 10_000,
      deviceLimitPerUser: 20,
      invitationsPerUserPerHour: 1000,
    });
  });

  it('needs a sign-in within the last 5 minutes, with a code the web app understands', async () => {
    const device = await enrolledDevice();
    const stale = await act(device, 'retire', undefined, 'POST', tokenSignedInAgo(device.user, 10));
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('RECENT_SIGN_IN_REQUIRED');
    expect(stale.headers.get('www-authenticate')).toContain('insufficient_user_authentication');
  });

  it('refuses to wipe an employee-owned device by the default policy, and says to retire it', async () => {
    const device = await enrolledDevice({ ownership: 'EMPLOYEE' });
    const refused = await act(device, 'wipe');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('POLICY');
    expect(refused.body.error.message).toMatch(/Retire it instead/);
  });

  it('retires: the device becomes RETIRED and its credential stops working', async () => {
    const device = await enrolledDevice();
    const { body } = await act(device, 'retire');
    expect(body.command.status).toBe('QUEUED');
    await checkIn(device);
    expect((await report(device, body.command.commandId, { status: 'DONE' })).status).toBe(200);
    expect((await detail(device)).body.device.status).toBe('RETIRED');
    const after = await checkIn(device);
    expect([401, 403]).toContain(after.status);
  });

  it('wipes a company-owned device: WIPED, credential revoked', async () => {
    const device = await enrolledDevice({ ownership: 'COMPANY' });
    const { body } = await act(device, 'wipe');
    await checkIn(device);
    await report(device, body.command.commandId, { status: 'DONE' });
    expect((await detail(device)).body.device.status).toBe('WIPED');
    expect([401, 403]).toContain((await checkIn(device)).status);
  });
});

describe('activity and notices (11.9, 11.10)', () => {
  it('lists every action and result newest first, per device and for all devices, page by page', async () => {
    const device = await enrolledDevice();
    for (let i = 0; i < 14; i++) {
      const { body } = await act(device, 'lock', {});
      await act(device, `commands/${body.command.commandId}`, undefined, 'DELETE');
    }
    const first = await api<ActivityResponse>(`/api/devices/${device.deviceId}/activity`, {
      token: device.user.accessToken,
    });
    expect(first.status).toBe(200);
    expect(first.body.events[0]?.summary).toBe('Lock cancelled before the device picked it up');
    expect(first.body.nextCursor).not.toBeNull();
    const ats = first.body.events.map((e) => e.at);
    expect([...ats].sort().reverse()).toEqual(ats);
    const second = await api<ActivityResponse>(
      `/api/devices/${device.deviceId}/activity?cursor=${first.body.nextCursor}`,
      { token: device.user.accessToken },
    );
    const ids = new Set(first.body.events.map((e) => e.id));
    expect(second.body.events.length).toBeGreaterThan(0);
    expect(second.body.events.some((e) => ids.has(e.id))).toBe(false);
    // All devices: page on until the enrollment, the oldest event.
    const seen: string[] = [];
    let cursor: string | null = '';
    for (let page = 0; page < 4 && cursor !== null; page++) {
      const all: { body: ActivityResponse } = await api<ActivityResponse>(
        `/api/activity${cursor ? `?cursor=${cursor}` : ''}`,
        { token: device.user.accessToken },
      );
      seen.push(...all.body.events.map((e) => e.action));
      cursor = all.body.nextCursor;
    }
    expect(seen.at(-1)).toBe('REGISTRATION_CREATED');
    expect(seen).toContain('DEVICE_ENROLLED');
  });

  it('mails the owner a notice when an action is requested and when it is done', async () => {
    const device = await enrolledDevice();
    const { body } = await act(device, 'lock', {});
    await checkIn(device);
    await report(device, body.command.commandId, { status: 'DONE' });
    const sent = (await api<Outbox>('/_local/outbox.json')).body.emails.filter((e) =>
      e.to.includes(device.user.email),
    );
    expect(sent.map((e) => e.text.split('\n')[0])).toEqual(
      expect.arrayContaining([
        'Lock was requested for your Pixel 9.',
        'Lock was carried out on your Pixel 9.',
      ]),
    );
  });
});

describe("object-level authorization: bob and alice's devices (11.12)", () => {
  it("answers 404 on every device route for another user's device and command, and keeps activity apart", async () => {
    const device = await enrolledDevice();
    const bob = await newUser();
    const { body } = await act(device, 'lock', {});
    const paths: [string, string][] = [
      ['GET', ''],
      ['POST', '/lock'],
      ['POST', '/lost-mode'],
      ['DELETE', '/lost-mode'],
      ['POST', '/locate'],
      ['GET', '/activity'],
      ['DELETE', `/commands/${body.command.commandId}`],
    ];
    for (const [method, path] of paths) {
      const answer = await api(`/api/devices/${device.deviceId}${path}`, {
        method,
        token: bob.accessToken,
        ...(path === '/lost-mode' && method === 'POST' ? { body: { message: 'x' } } : {}),
        ...(path === '/lock' ? { body: {} } : {}),
      });
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    const bobs = await api<ActivityResponse>('/api/activity', { token: bob.accessToken });
    expect(bobs.body.events.some((e) => e.deviceId === device.deviceId)).toBe(false);
  });

  it("answers 404 to unlock, wipe and retire of another user's device when the roles allow them", async () => {
    await putSettings({ defaultRoles: [...ROLES], goAttemptsPerAddress: 10_000, deviceLimitPerUser: 20 });
    const device = await enrolledDevice();
    const bob = await newUser();
    for (const path of ['unlock', 'wipe', 'retire']) {
      const answer = await api(`/api/devices/${device.deviceId}/${path}`, {
        method: 'POST',
        token: bob.accessToken,
      });
      expect(answer.status, path).toBe(404);
    }
    const result = await api(`/api/agent/commands/${device.deviceId}/result`, {
      method: 'POST',
      headers: { authorization: 'Device dc1.x' },
      body: { status: 'DONE' },
    });
    expect(result.status).toBe(401);
  });
});
