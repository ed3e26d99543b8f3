/**
 * Issue 12's device options (functions/core/device-options.ts) over the in-memory ports: the
 * ownership change on the version the user saw, the secure-apps one-time PIN and the agent's check
 * of it, and the Entrust derived credential's start and return. One behaviour per test.
 */
import { createHash, createHmac } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DerivedCredentialStart } from '../../functions/core/api-types.ts';
import type { RequestOrigin } from '../../functions/core/audit.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { toDeviceSummary } from '../../functions/core/device.ts';
import {
  changeOwnership,
  completeDerivedCredential,
  DERIVED_CREDENTIAL_STATE_MINUTES,
  type DeviceOptionPorts,
  renameDevice,
  resetSecureAppsPasscode,
  startDerivedCredential,
  verifySecureAppsPasscode,
} from '../../functions/core/device-options.ts';
import { PortalError } from '../../functions/core/errors.ts';
import { ConcurrentUpdateError, type DirectoryUser } from '../../functions/core/ports.ts';
import { ROLES, type Role } from '../../functions/routes.ts';
import { ALICE_EMAIL, ALICE_SUB, deviceRecord, NOW, ONE_TIME_SECRET_KEY } from './fixtures.ts';
import { memoryPorts } from './memory-ports.ts';

const DEVICE_ID = 'b0000000-0000-4000-8000-000000000012';
const PENDING_ID = 'b0000000-0000-4000-8000-000000000013';
const BOB_SUB = '99999999-8888-4777-8666-555555555555';
const ENTRUST = 'https://entrust.example.com/IdentityGuardSelfService/derived';
const ORIGIN: RequestOrigin = {
  origin: 'https://portal.example.com',
  sourceIp: '203.0.113.7',
  userAgent: 'vitest',
};
const PIN = '12345678';
const NEXT_PIN = '87654321';

const BOB: DirectoryUser = {
  sub: BOB_SUB,
  username: BOB_SUB,
  email: 'bob@example.com',
  mfaEnabled: false,
  displayName: 'Bob Stone',
  phoneNumber: null,
  language: 'en',
  timeZone: null,
  emailVerified: true,
  enabled: true,
};

const caller = (roles: Role[] = [...ROLES], sub = ALICE_SUB) => ({
  sub,
  username: sub,
  groups: [],
  authTime: Math.floor(NOW.getTime() / 1000) - 60,
  roles,
});

/** A company-owned, fully managed Android device with the secure-apps container: every action runs. */
const activeDevice = (overrides: Partial<DeviceRecord> = {}) =>
  deviceRecord({
    deviceId: DEVICE_ID,
    platform: 'ANDROID',
    managementMode: 'FULLY_MANAGED',
    ownership: 'COMPANY',
    secureAppsContainer: true,
    version: 5,
    ...overrides,
  });

const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

/** A pending registration, waiting for the device, an hour to go. */
const pendingDevice = (overrides: Partial<DeviceRecord> = {}) =>
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
    ...overrides,
  });

/** The HMAC the secure-apps PIN is stored as, computed here independently of the product. */
const secureAppsHmac = (pin: string, deviceId = DEVICE_ID, userSub = ALICE_SUB) =>
  createHmac('sha256', ONE_TIME_SECRET_KEY)
    .update(['SECURE_APPS', userSub, deviceId, pin].join('\u001f'), 'utf8')
    .digest('hex');

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

let m: ReturnType<typeof memoryPorts>;
let ports: DeviceOptionPorts;

function put(device: DeviceRecord): DeviceRecord {
  m.store.devices.set(`${device.userSub}|${device.deviceId}`, structuredClone(device));
  return device;
}

const stored = (deviceId = DEVICE_ID, userSub = ALICE_SUB) => {
  const device = m.store.devices.get(`${userSub}|${deviceId}`);
  if (!device) throw new Error(`no device ${deviceId}`);
  return device;
};

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PortalError);
  const { kind, code } = error as PortalError;
  return { kind, code };
}

beforeEach(() => {
  m = memoryPorts([PIN, NEXT_PIN]);
  ports = { store: m.store, clock: m.clock, random: m.random, hasher: m.hasher, metrics: m.metrics };
  m.store.settings.actionPolicy = { ...m.store.settings.actionPolicy, wipeEmployeeOwned: false };
  m.store.settings.derivedCredential = { enabled: true, entrustUrl: ENTRUST };
  m.directory.users.push(BOB);
});

describe('changeOwnership', () => {
  it('answers the re-evaluated device page: a wipe turns POLICY once the device is employee-owned', async () => {
    put(activeDevice());

    const page = await changeOwnership(
      ports,
      caller(),
      DEVICE_ID,
      { ownership: 'EMPLOYEE', version: 5 },
      ORIGIN,
    );

    expect(page.device.ownership).toBe('EMPLOYEE');
    expect(page.device.version).toBe(6);
    const wipe = page.actions.find((a) => a.action === 'WIPE');
    expect(wipe).toMatchObject({ available: false, reason: { code: 'POLICY' } });
    expect(stored().ownership).toBe('EMPLOYEE');
  });

  it('writes an OWNERSHIP_CHANGED audit event naming the old and the new ownership', async () => {
    put(activeDevice());

    await changeOwnership(ports, caller(), DEVICE_ID, { ownership: 'EMPLOYEE', version: 5 }, ORIGIN);

    expect(m.store.audit).toEqual([
      expect.objectContaining({
        userSub: ALICE_SUB,
        deviceId: DEVICE_ID,
        action: 'OWNERSHIP_CHANGED',
        result: 'SUCCESS',
        detail: 'COMPANY → EMPLOYEE',
        sourceIp: '203.0.113.7',
      }),
    ]);
  });

  it('refuses a change on a stale version with 409 OWNERSHIP_CHANGED, writing nothing', async () => {
    put(activeDevice());

    expect(
      await refusal(
        changeOwnership(ports, caller(), DEVICE_ID, { ownership: 'EMPLOYEE', version: 4 }, ORIGIN),
      ),
    ).toEqual({ kind: 'CONFLICT', code: 'OWNERSHIP_CHANGED' });
    expect(stored()).toMatchObject({ ownership: 'COMPANY', version: 5 });
    expect(m.store.audit).toEqual([]);
  });

  it('answers 409 OWNERSHIP_CHANGED when another change wins the race to the write', async () => {
    put(activeDevice());
    vi.spyOn(m.store, 'saveDevice').mockRejectedValueOnce(new ConcurrentUpdateError('version'));

    expect(
      await refusal(
        changeOwnership(ports, caller(), DEVICE_ID, { ownership: 'EMPLOYEE', version: 5 }, ORIGIN),
      ),
    ).toEqual({ kind: 'CONFLICT', code: 'OWNERSHIP_CHANGED' });
  });

  it('refuses with 403 OWNERSHIP_LOCKED when the administrator sets the ownership', async () => {
    put(activeDevice());
    m.store.settings.usersMayChooseOwnership = false;

    expect(
      await refusal(
        changeOwnership(ports, caller(), DEVICE_ID, { ownership: 'EMPLOYEE', version: 5 }, ORIGIN),
      ),
    ).toEqual({ kind: 'FORBIDDEN', code: 'OWNERSHIP_LOCKED' });
    expect(stored().ownership).toBe('COMPANY');
  });
});

describe('renameDevice', () => {
  it('answers the device page with the new name, trimmed, and keeps it', async () => {
    put(activeDevice({ name: 'Work phone' }));

    const page = await renameDevice(
      ports,
      caller(),
      DEVICE_ID,
      { name: '  Field tablet ' },
      ORIGIN,
      m.store.settings,
    );

    expect(page.device.name).toBe('Field tablet');
    expect(stored()).toMatchObject({ name: 'Field tablet', version: 6 });
  });

  it('writes a DEVICE_RENAMED audit event naming the old and the new name', async () => {
    put(activeDevice({ name: 'Work phone' }));

    await renameDevice(ports, caller(), DEVICE_ID, { name: 'Field tablet' }, ORIGIN, m.store.settings);

    expect(m.store.audit).toEqual([
      expect.objectContaining({
        userSub: ALICE_SUB,
        deviceId: DEVICE_ID,
        action: 'DEVICE_RENAMED',
        result: 'SUCCESS',
        detail: '“Work phone” → “Field tablet”',
      }),
    ]);
  });

  it("gives back the model's name for an empty name, and says so in the audit event", async () => {
    put(activeDevice({ name: 'Work phone', facts: { ...activeDevice().facts, deviceType: 'Pixel 9' } }));

    const page = await renameDevice(ports, caller(), DEVICE_ID, { name: '   ' }, ORIGIN, m.store.settings);

    expect(page.device.name).toBeNull();
    expect(stored().name).toBeNull();
    expect(m.store.audit[0]?.detail).toBe('“Work phone” → “Pixel 9”');
  });

  it('writes nothing when the name is the one it has', async () => {
    put(activeDevice({ name: 'Work phone' }));

    await renameDevice(ports, caller(), DEVICE_ID, { name: 'Work phone' }, ORIGIN, m.store.settings);

    expect(stored().version).toBe(5);
    expect(m.store.audit).toEqual([]);
  });

  it('renames a pending registration too', async () => {
    put(pendingDevice({ name: null }));

    await renameDevice(ports, caller(), PENDING_ID, { name: 'New iPad' }, ORIGIN, m.store.settings);

    expect(stored(PENDING_ID).name).toBe('New iPad');
  });

  it('reads the device again and goes again when a check-in wins the race to the write', async () => {
    put(activeDevice({ name: 'Work phone' }));
    const save = vi.spyOn(m.store, 'saveDevice');
    save.mockImplementationOnce(async () => {
      // The check-in's write lands first: a new version, the name untouched.
      put({ ...stored(), version: 6, lastCheckInAt: NOW.toISOString() });
      throw new ConcurrentUpdateError('version');
    });

    const page = await renameDevice(
      ports,
      caller(),
      DEVICE_ID,
      { name: 'Field tablet' },
      ORIGIN,
      m.store.settings,
    );

    expect(page.device.name).toBe('Field tablet');
    expect(save).toHaveBeenCalledTimes(2);
    expect(save.mock.calls[1]?.[0].expectedVersion).toBe(6);
  });

  it("answers 404 DEVICE_NOT_FOUND for another user's device, writing nothing", async () => {
    put(activeDevice({ userSub: BOB_SUB }));

    expect(
      await refusal(renameDevice(ports, caller(), DEVICE_ID, { name: 'Mine now' }, ORIGIN, m.store.settings)),
    ).toEqual({
      kind: 'NOT_FOUND',
      code: 'DEVICE_NOT_FOUND',
    });
    expect(stored(DEVICE_ID, BOB_SUB).name).not.toBe('Mine now');
    expect(m.store.audit).toEqual([]);
  });
});

describe('resetSecureAppsPasscode', () => {
  it('answers 8 digits that expire after settings.secureAppsPinLifetimeMinutes', async () => {
    put(activeDevice());
    m.store.settings.secureAppsPinLifetimeMinutes = 30;

    const answer = await resetSecureAppsPasscode(ports, caller(), DEVICE_ID, ORIGIN);

    expect(answer).toEqual({ pin: PIN, expiresAt: at(30) });
    expect(answer.pin).toMatch(/^\d{8}$/);
    expect(m.random.drawnDigits).toEqual([8]);
  });

  it('stores only the HMAC of the PIN, bound to purpose, user and device, never the PIN', async () => {
    put(activeDevice());

    await resetSecureAppsPasscode(ports, caller(), DEVICE_ID, ORIGIN);

    expect(stored().secureAppsPin).toEqual({ hmac: secureAppsHmac(PIN), tries: 0, expiresAt: at(15) });
    expect(JSON.stringify([...m.store.devices.values(), m.store.audit])).not.toContain(PIN);
  });

  it('replaces the old PIN with a new one: the old one no longer verifies, the new one does', async () => {
    put(activeDevice());
    await resetSecureAppsPasscode(ports, caller(), DEVICE_ID, ORIGIN);
    await resetSecureAppsPasscode(ports, caller(), DEVICE_ID, ORIGIN);
    const verify = (pin: string) =>
      verifySecureAppsPasscode(
        { ...ports, directory: m.directory },
        stored(),
        { username: ALICE_SUB, pin },
        ORIGIN,
      );

    expect(await refusal(verify(PIN))).toEqual({ kind: 'UNAUTHORIZED', code: 'BAD_CREDENTIALS' });
    expect(await verify(NEXT_PIN)).toEqual({ verified: true });
  });

  it('refuses NOT_SUPPORTED on a device without the secure-apps container, issuing nothing', async () => {
    put(activeDevice({ secureAppsContainer: false }));

    expect(await refusal(resetSecureAppsPasscode(ports, caller(), DEVICE_ID, ORIGIN))).toEqual({
      kind: 'CONFLICT',
      code: 'NOT_SUPPORTED',
    });
    expect(stored().secureAppsPin).toBeUndefined();
  });
});

describe('verifySecureAppsPasscode', () => {
  const livePin = (overrides: Partial<NonNullable<DeviceRecord['secureAppsPin']>> = {}) => ({
    hmac: secureAppsHmac(PIN),
    tries: 0,
    expiresAt: at(15),
    ...overrides,
  });
  const verify = (request: { username: string; pin: string }, device: DeviceRecord = stored()) =>
    verifySecureAppsPasscode({ ...ports, directory: m.directory }, device, request, ORIGIN);
  const BAD = { kind: 'UNAUTHORIZED', code: 'BAD_CREDENTIALS' };

  it('verifies the right PIN for that user and device once, then refuses it', async () => {
    put(activeDevice({ secureAppsPin: livePin() }));

    expect(await verify({ username: ALICE_EMAIL, pin: PIN })).toEqual({ verified: true });
    expect(stored().secureAppsPin?.usedAt).toBe(NOW.toISOString());
    expect(await refusal(verify({ username: ALICE_EMAIL, pin: PIN }))).toEqual(BAD);
  });

  it('records the use of the PIN in the audit trail', async () => {
    put(activeDevice({ secureAppsPin: livePin() }));

    await verify({ username: ALICE_SUB, pin: PIN });

    expect(m.store.audit.map((e) => e.action)).toEqual(['SECURE_APPS_PIN_USED']);
  });

  it("refuses another user's name with the right PIN, taking no try", async () => {
    put(activeDevice({ secureAppsPin: livePin() }));

    expect(await refusal(verify({ username: 'bob@example.com', pin: PIN }))).toEqual(BAD);
    expect(stored().secureAppsPin).toEqual(livePin());
  });

  it('refuses the PIN on another device of the same user (it is bound to its device)', async () => {
    put(activeDevice({ secureAppsPin: livePin() }));
    const other = put(
      activeDevice({ deviceId: 'b0000000-0000-4000-8000-0000000000ff', secureAppsPin: livePin() }),
    );

    expect(await refusal(verify({ username: ALICE_SUB, pin: PIN }, other))).toEqual(BAD);
  });

  it('takes a try by the conditional update before it compares the PIN', async () => {
    put(activeDevice({ secureAppsPin: livePin() }));
    const order: string[] = [];
    const take = m.store.takePinTry.bind(m.store);
    vi.spyOn(m.store, 'takePinTry').mockImplementation(async (...args) => {
      order.push(`takePinTry:${args[2]}`);
      return take(...args);
    });
    const hash = ports.hasher.hash;
    ports.hasher = {
      hash: async (...parts) => {
        order.push('hash');
        return hash(...parts);
      },
    };

    expect(await refusal(verify({ username: ALICE_SUB, pin: '00000000' }))).toEqual(BAD);
    expect(order).toEqual(['takePinTry:secureApps', 'hash']);
    expect(stored().secureAppsPin?.tries).toBe(1);
    expect(m.metrics.counts.WrongPin).toBe(1);
  });

  it('refuses even the right PIN after five wrong tries', async () => {
    put(activeDevice({ secureAppsPin: livePin() }));
    for (let i = 0; i < 5; i++) {
      expect(await refusal(verify({ username: ALICE_SUB, pin: '00000000' }))).toEqual(BAD);
    }

    expect(stored().secureAppsPin?.tries).toBe(5);
    expect(await refusal(verify({ username: ALICE_SUB, pin: PIN }))).toEqual(BAD);
    expect(stored().secureAppsPin?.usedAt).toBeUndefined();
  });

  it('refuses the right PIN when it has expired', async () => {
    put(activeDevice({ secureAppsPin: livePin({ expiresAt: at(0) }) }));

    expect(await refusal(verify({ username: ALICE_SUB, pin: PIN }))).toEqual(BAD);
    expect(stored().secureAppsPin?.usedAt).toBeUndefined();
  });

  it('gives every refusal the same status, code and message', async () => {
    const messages = new Set<string>();
    const refused = async (device: DeviceRecord, request: { username: string; pin: string }) => {
      put(device);
      const error = (await verify(request, stored(device.deviceId)).catch((e: unknown) => e)) as PortalError;
      expect(error).toBeInstanceOf(PortalError);
      messages.add(JSON.stringify([error.kind, error.code, error.message]));
    };
    await refused(activeDevice({ secureAppsPin: livePin() }), { username: ALICE_SUB, pin: '00000000' });
    await refused(activeDevice({ secureAppsPin: livePin() }), { username: BOB_SUB, pin: PIN });
    await refused(activeDevice({ secureAppsPin: livePin() }), { username: 'nobody', pin: PIN });
    await refused(activeDevice({ secureAppsPin: livePin({ expiresAt: at(-1) }) }), {
      username: ALICE_SUB,
      pin: PIN,
    });
    await refused(activeDevice({ secureAppsPin: livePin({ tries: 5 }) }), { username: ALICE_SUB, pin: PIN });
    await refused(activeDevice({ secureAppsPin: livePin({ usedAt: at(-1) }) }), {
      username: ALICE_SUB,
      pin: PIN,
    });
    await refused(activeDevice(), { username: ALICE_SUB, pin: PIN });

    expect([...messages]).toHaveLength(1);
    expect(JSON.parse([...messages][0] ?? '[]').slice(0, 2)).toEqual(['UNAUTHORIZED', 'BAD_CREDENTIALS']);
  });
});

describe('startDerivedCredential', () => {
  const start = (deviceId = PENDING_ID) => startDerivedCredential(ports, caller(), deviceId, ORIGIN);
  const stateOf = (answer: DerivedCredentialStart) =>
    new URL(answer.redirectUrl).searchParams.get('state') ?? '';

  it('answers the configured Entrust address with a state and the portal return address', async () => {
    put(pendingDevice());

    const answer = await start();

    const url = new URL(answer.redirectUrl);
    expect(`${url.origin}${url.pathname}`).toBe(ENTRUST);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(url.searchParams.get('return')).toBe('https://portal.example.com/derived-credential');
    expect(answer.expiresAt).toBe(at(DERIVED_CREDENTIAL_STATE_MINUTES));
  });

  it('stores only the sha256 of the state, as a DERIVED_CREDENTIAL secret of 15 minutes for that user and device', async () => {
    put(pendingDevice());

    const state = stateOf(await start());

    expect([...m.store.secrets.values()]).toEqual([
      {
        hash: sha256(state),
        kind: 'DERIVED_CREDENTIAL',
        userSub: ALICE_SUB,
        deviceId: PENDING_ID,
        expiresAt: at(15),
      },
    ]);
    expect(JSON.stringify([...m.store.secrets.values(), ...m.store.devices.values()])).not.toContain(state);
  });

  it('refuses DERIVED_CREDENTIAL_OFF when the administrator has not turned it on', async () => {
    put(pendingDevice());
    m.store.settings.derivedCredential = { enabled: false, entrustUrl: ENTRUST };

    expect(await refusal(start())).toEqual({ kind: 'FORBIDDEN', code: 'DERIVED_CREDENTIAL_OFF' });
    expect(m.store.secrets.size).toBe(0);
  });

  it('refuses NOT_PENDING on a device that is already registered', async () => {
    put(activeDevice());

    expect(await refusal(start(DEVICE_ID))).toEqual({ kind: 'CONFLICT', code: 'NOT_PENDING' });
    expect(m.store.secrets.size).toBe(0);
  });

  it('refuses ALREADY_REQUESTED when a derived credential was requested for the device', async () => {
    put(pendingDevice({ derivedCredential: { status: 'REQUESTED', at: at(-5), name: 'Work' } }));

    expect(await refusal(start())).toEqual({ kind: 'CONFLICT', code: 'ALREADY_REQUESTED' });
    expect(m.store.secrets.size).toBe(0);
  });
});

describe('completeDerivedCredential', () => {
  let state: string;
  beforeEach(async () => {
    put(pendingDevice());
    const answer = await startDerivedCredential(ports, caller(), PENDING_ID, ORIGIN);
    state = new URL(answer.redirectUrl).searchParams.get('state') ?? '';
  });
  const complete = (
    request: { state: string; result: 'SUCCESS' | 'FAILURE'; credentialName?: string },
    who = caller(),
  ) => completeDerivedCredential(ports, who, request, ORIGIN);
  const GONE = { kind: 'GONE', code: 'STATE_INVALID' };

  it('records REQUESTED with the time and the credential name on success', async () => {
    m.clock.advanceMinutes(3);

    expect(await complete({ state, result: 'SUCCESS', credentialName: ' Work phone ' })).toEqual({
      deviceId: PENDING_ID,
      status: 'REQUESTED',
    });
    expect(stored(PENDING_ID).derivedCredential).toEqual({
      status: 'REQUESTED',
      at: at(3),
      name: 'Work phone',
    });
    expect(m.store.audit.at(-1)).toMatchObject({ action: 'DERIVED_CREDENTIAL_REQUESTED', result: 'SUCCESS' });
  });

  it('records FAILED on a failure', async () => {
    expect(await complete({ state, result: 'FAILURE' })).toEqual({ deviceId: PENDING_ID, status: 'FAILED' });
    expect(stored(PENDING_ID).derivedCredential).toEqual({ status: 'FAILED', at: at(0), name: null });
    expect(m.store.audit.at(-1)).toMatchObject({ action: 'DERIVED_CREDENTIAL_FAILED', result: 'FAILURE' });
  });

  it('uses the state up: a replay is 410 STATE_INVALID', async () => {
    await complete({ state, result: 'FAILURE' });

    expect(m.store.secrets.get(sha256(state))?.usedAt).toBe(NOW.toISOString());
    expect(await refusal(complete({ state, result: 'SUCCESS' }))).toEqual(GONE);
    expect(stored(PENDING_ID).derivedCredential?.status).toBe('FAILED');
  });

  it("refuses another user's state with 410, leaving it unused", async () => {
    expect(await refusal(complete({ state, result: 'SUCCESS' }, caller([...ROLES], BOB_SUB)))).toEqual(GONE);
    expect(m.store.secrets.get(sha256(state))?.usedAt).toBeUndefined();
    expect(stored(PENDING_ID).derivedCredential).toBeUndefined();
  });

  it('refuses an expired state with 410', async () => {
    m.clock.advanceMinutes(15);

    expect(await refusal(complete({ state, result: 'SUCCESS' }))).toEqual(GONE);
    expect(stored(PENDING_ID).derivedCredential).toBeUndefined();
  });

  it('refuses a malformed state with 410 without reading anything', async () => {
    const getSecret = vi.spyOn(m.store, 'getSecret');
    const getDevice = vi.spyOn(m.store, 'getDevice');

    for (const bad of ['', 'short', `${state}!`, 'x'.repeat(65), '../../etc/passwd-0123456789']) {
      expect(await refusal(complete({ state: bad, result: 'SUCCESS' }))).toEqual(GONE);
    }
    expect(getSecret).not.toHaveBeenCalled();
    expect(getDevice).not.toHaveBeenCalled();
  });
});

describe('DeviceSummary.derivedCredential.canRequest', () => {
  const canRequest = (device: DeviceRecord, offered: boolean) =>
    toDeviceSummary(device, NOW, offered).derivedCredential.canRequest;

  it('is true for a pending device when the derived credential is offered and not requested', () => {
    expect(canRequest(pendingDevice(), true)).toBe(true);
  });

  it('is true again after a failed request', () => {
    expect(
      canRequest(pendingDevice({ derivedCredential: { status: 'FAILED', at: at(-1), name: null } }), true),
    ).toBe(true);
  });

  it('is false when the derived credential is not offered', () => {
    expect(canRequest(pendingDevice(), false)).toBe(false);
  });

  it('is false for a device that is not pending (active or expired)', () => {
    expect(canRequest(activeDevice(), true)).toBe(false);
    const expired = pendingDevice();
    expired.registration = expired.registration && { ...expired.registration, expiresAt: at(-1) };
    expect(canRequest(expired, true)).toBe(false);
  });

  it('is false once a derived credential was requested', () => {
    expect(
      canRequest(
        pendingDevice({ derivedCredential: { status: 'REQUESTED', at: at(-1), name: 'Work' } }),
        true,
      ),
    ).toBe(false);
  });

  it('shows the recorded status, time and name', () => {
    const summary = toDeviceSummary(
      pendingDevice({ derivedCredential: { status: 'REQUESTED', at: at(-1), name: 'Work' } }),
      NOW,
      true,
    );
    expect(summary.derivedCredential).toEqual({
      status: 'REQUESTED',
      at: at(-1),
      name: 'Work',
      canRequest: false,
    });
  });
});
