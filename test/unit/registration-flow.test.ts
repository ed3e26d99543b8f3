/**
 * The registration use-cases driven directly with in-memory ports: a scripted random source makes
 * PINs known in advance, a hand-moved clock makes expiry testable, and the store keeps state from
 * one step to the next (portal → /go → agent → check-in).
 */
import { describe, expect, it } from 'vitest';
import type { DeviceFacts } from '../../functions/core/api-types.ts';
import type { RequestOrigin } from '../../functions/core/audit.ts';
import {
  badCredentials,
  checkIn,
  enrollAgent,
  FAILURE_FLOOR_MS,
  MAX_DAILY_FAILURES,
  verifyAtGo,
} from '../../functions/core/enrollment.ts';
import { PortalError } from '../../functions/core/errors.ts';
import { listDevices } from '../../functions/core/list-devices.ts';
import { MAX_PIN_TRIES, pinMatches } from '../../functions/core/one-time-pin.ts';
import type { Caller } from '../../functions/core/ports.ts';
import {
  cancelRegistration,
  createRegistration,
  removeDevice,
  resendRegistration,
} from '../../functions/core/registration.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { ALICE_EMAIL, ALICE_SUB, NOW } from './fixtures.ts';
import { memoryPorts } from './memory-ports.ts';

const ORIGIN: RequestOrigin = {
  origin: 'https://portal.example.com',
  sourceIp: '203.0.113.7',
  userAgent: 'vitest',
};
const ALICE: Caller = { sub: ALICE_SUB, username: ALICE_SUB, groups: [], authTime: 0 };
const FACTS: DeviceFacts = {
  platform: 'ANDROID',
  deviceType: 'Pixel 8',
  manufacturer: 'Google',
  osVersion: '14',
};

/** The code of the PortalError the promise rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PortalError) return error.code;
    throw error;
  }
  throw new Error('expected a PortalError, but the call succeeded');
}

async function registerAndroid(m: ReturnType<typeof memoryPorts>) {
  return createRegistration(
    m.registration,
    ALICE,
    { platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] },
    ORIGIN,
  );
}

describe('registration PINs from the random source', () => {
  it('is the PIN the random source drew, of the length the settings ask for', async () => {
    const m = memoryPorts(['135791']);
    m.store.settings.pinLength = 6;

    const response = await registerAndroid(m);

    expect(response.pin).toBe('135791');
    expect(m.random.drawnDigits).toEqual([6]);
    const stored = m.store.device(response.device.deviceId)?.registration?.pin;
    const owner = { userSub: ALICE_SUB, deviceId: response.device.deviceId };
    expect(stored && (await pinMatches(m.hasher, 'REGISTRATION', owner, stored, '135791'))).toBe(true);
  });

  it('expires after the lifetime the settings give PINs', async () => {
    const m = memoryPorts();
    m.store.settings.pinLifetimeMinutes = 15;

    const response = await registerAndroid(m);

    expect(response.expiresAt).toBe('2025-06-02T10:15:00.000Z');
  });

  it('never puts the PIN in the invitation', async () => {
    const m = memoryPorts(['90817263']);

    await createRegistration(
      m.registration,
      ALICE,
      { platform: 'IOS', method: 'PIN', delivery: ['EMAIL', 'SMS'] },
      ORIGIN,
    );

    expect(m.emails).toHaveLength(1);
    expect(m.texts).toHaveLength(1);
    expect(JSON.stringify([m.emails, m.texts])).not.toContain('90817263');
  });
});

describe('from the portal to an enrolled device', () => {
  it('registers, verifies at /go, enrolls the agent and checks in', async () => {
    const m = memoryPorts(['11223344']);
    const { device } = await registerAndroid(m);

    const go = await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN);
    const agent = await enrollAgent(
      m.enrollment,
      { enrollmentToken: go.enrollmentToken, device: FACTS },
      ORIGIN,
    );
    m.clock.advanceMinutes(5);
    const checkin = await checkIn(m.agent, `Device ${agent.deviceCredential}`, { osVersion: '14.1' }, ORIGIN);

    expect(go.deviceId).toBe(device.deviceId);
    expect(agent.deviceId).toBe(device.deviceId);
    expect(checkin).toEqual({
      deviceId: device.deviceId,
      status: 'ACTIVE',
      lastCheckInAt: '2025-06-02T10:05:00.000Z',
      commands: [],
      ownership: 'EMPLOYEE',
      checkInIntervalSeconds: 900,
    });
    expect(m.store.device(device.deviceId)).toMatchObject({
      status: 'ACTIVE',
      registration: null,
      facts: { ...FACTS, osVersion: '14.1' },
    });
    expect(m.store.audit.map((e) => e.action)).toEqual([
      'REGISTRATION_CREATED',
      'REGISTRATION_VERIFIED',
      'DEVICE_ENROLLED',
    ]);
  });

  it('uses a PIN once: the second /go with it answers BAD_CREDENTIALS', async () => {
    const m = memoryPorts(['11223344']);
    await registerAndroid(m);
    await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN);

    expect(await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN))).toBe(
      'BAD_CREDENTIALS',
    );
  });

  it('uses an enrollment token once: a second agent gets ENROLLMENT_TOKEN_INVALID', async () => {
    const m = memoryPorts(['11223344']);
    await registerAndroid(m);
    const go = await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN);
    await enrollAgent(m.enrollment, { enrollmentToken: go.enrollmentToken, device: FACTS }, ORIGIN);

    expect(
      await codeOf(enrollAgent(m.enrollment, { enrollmentToken: go.enrollmentToken, device: FACTS }, ORIGIN)),
    ).toBe('ENROLLMENT_TOKEN_INVALID');
  });

  it('uses a QR token once, and only together with the PIN', async () => {
    const m = memoryPorts(['11223344']);
    const response = await createRegistration(
      m.registration,
      ALICE,
      { platform: 'IOS', method: 'QR', delivery: [] },
      ORIGIN,
    );
    const qrToken = new URLSearchParams(new URL(response.qr?.url ?? '').hash.slice(1)).get('t') ?? '';

    expect(await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, qrToken }, ORIGIN))).toBe(
      'PIN_OR_PASSWORD',
    );
    await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344', qrToken }, ORIGIN);
    expect(
      await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344', qrToken }, ORIGIN)),
    ).toBe('QR_CODE_INVALID');
  });

  it('lets the agent enroll with the user name and PIN instead of a token, once', async () => {
    const m = memoryPorts(['11223344']);
    const { device } = await registerAndroid(m);

    const agent = await enrollAgent(
      m.enrollment,
      { username: ALICE_EMAIL, pin: '11223344', device: FACTS },
      ORIGIN,
    );

    expect(agent.deviceId).toBe(device.deviceId);
    expect(
      await codeOf(
        enrollAgent(m.enrollment, { username: ALICE_EMAIL, pin: '11223344', device: FACTS }, ORIGIN),
      ),
    ).toBe('BAD_CREDENTIALS');
  });
});

describe('PIN limits', () => {
  it('takes a try per wrong PIN and, after five, refuses even the right PIN with the same answer', async () => {
    const m = memoryPorts(['11223344']);
    const { device } = await registerAndroid(m);
    const wrong = () => verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '99999999' }, ORIGIN);

    const refusals: { code: string; message: string }[] = [];
    for (let i = 0; i < MAX_PIN_TRIES; i++) {
      try {
        await wrong();
      } catch (error) {
        if (!(error instanceof PortalError)) throw error;
        refusals.push({ code: error.code, message: error.message });
      }
    }

    const expected = { code: 'BAD_CREDENTIALS', message: badCredentials({}).message };
    expect(refusals).toEqual(Array(MAX_PIN_TRIES).fill(expected));
    expect(m.store.device(device.deviceId)?.registration?.pin?.tries).toBe(MAX_PIN_TRIES);
    expect(await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN))).toBe(
      'BAD_CREDENTIALS',
    );
    expect(m.store.device(device.deviceId)?.registration?.pin?.tries).toBe(MAX_PIN_TRIES);
    expect(m.store.device(device.deviceId)?.registration?.usedAt).toBeUndefined();
  });

  it('records each wrong PIN in the audit trail and counts it as a WrongPin metric', async () => {
    const m = memoryPorts(['11223344']);
    await registerAndroid(m);

    await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '99999999' }, ORIGIN));
    await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '99999998' }, ORIGIN));

    expect(m.store.audit.filter((e) => e.action === 'REGISTRATION_PIN_REJECTED')).toHaveLength(2);
    expect(m.metrics.counts.WrongPin).toBe(2);
  });

  it('expires the PIN at the end of its lifetime', async () => {
    const m = memoryPorts(['11223344']);
    await registerAndroid(m);
    m.clock.advanceMinutes(60);

    expect(await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN))).toBe(
      'BAD_CREDENTIALS',
    );
  });

  it(`refuses even the right PIN after ${MAX_DAILY_FAILURES} failures on the account in a day`, async () => {
    const m = memoryPorts(['11223344']);
    m.store.settings.goAttemptsPerAddress = 1000;
    await registerAndroid(m);
    for (let i = 0; i < MAX_DAILY_FAILURES; i++) {
      await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, password: 'wrong' }, ORIGIN));
    }

    expect(await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN))).toBe(
      'TOO_MANY_FAILURES',
    );
  });

  it('limits /go attempts per source address per 15 minutes', async () => {
    const m = memoryPorts(['11223344']);
    m.store.settings.goAttemptsPerAddress = 2;
    await registerAndroid(m);
    await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, password: 'wrong' }, ORIGIN));
    await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, password: 'wrong' }, ORIGIN));

    expect(await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN))).toBe(
      'TOO_MANY_ATTEMPTS',
    );
    m.clock.advanceMinutes(15);
    await expect(
      verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN),
    ).resolves.toBeDefined();
  });
});

describe('device limit', () => {
  it('counts a registration verified at /go as pending while its enrollment token works, past its own expiry', async () => {
    const m = memoryPorts(['11223344', '55667788']);
    m.store.settings.deviceLimitPerUser = 1;
    const { device } = await registerAndroid(m);
    m.clock.advanceMinutes(59);
    await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN);
    m.clock.advanceMinutes(5); // the registration's 60 minutes are over; the token's are not

    const listed = await listDevices({ devices: m.store, clock: m.clock }, ALICE.sub);
    expect(listed.devices.find((d) => d.deviceId === device.deviceId)?.status).toBe('PENDING');
    expect(await codeOf(registerAndroid(m))).toBe('DEVICE_LIMIT_REACHED');
  });

  it('is checked again when the agent enrolls with a token from /go', async () => {
    const m = memoryPorts(['11111111', '22222222']);
    m.store.settings.deviceLimitPerUser = 2;
    await registerAndroid(m);
    await registerAndroid(m);
    const first = await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11111111' }, ORIGIN);
    const second = await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '22222222' }, ORIGIN);
    await enrollAgent(m.enrollment, { enrollmentToken: first.enrollmentToken, device: FACTS }, ORIGIN);
    m.store.settings.deviceLimitPerUser = 1;

    expect(
      await codeOf(
        enrollAgent(m.enrollment, { enrollmentToken: second.enrollmentToken, device: FACTS }, ORIGIN),
      ),
    ).toBe('DEVICE_LIMIT_REACHED');
  });
});

describe('resend and cancel', () => {
  it('resend replaces the PIN: the old one is wrong, the new one works', async () => {
    const m = memoryPorts(['11223344', '55667788']);
    const { device } = await registerAndroid(m);

    const renewed = await resendRegistration(m.registration, ALICE, device.deviceId, {}, ORIGIN);

    expect(renewed.pin).toBe('55667788');
    expect(await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN))).toBe(
      'BAD_CREDENTIALS',
    );
    await expect(
      verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '55667788' }, ORIGIN),
    ).resolves.toMatchObject({
      deviceId: device.deviceId,
    });
  });

  it('resend unlocks a locked registration with a fresh PIN and tries', async () => {
    const m = memoryPorts(['11223344', '55667788']);
    const { device } = await registerAndroid(m);
    for (let i = 0; i < 5; i++) {
      await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '99999999' }, ORIGIN));
    }

    await resendRegistration(m.registration, ALICE, device.deviceId, {}, ORIGIN);

    expect(m.store.device(device.deviceId)?.registration?.pin?.tries).toBe(0);
    await expect(
      verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '55667788' }, ORIGIN),
    ).resolves.toBeDefined();
  });

  it('resend replaces the QR token: the old one answers QR_CODE_INVALID', async () => {
    const m = memoryPorts(['11223344', '55667788']);
    const first = await createRegistration(
      m.registration,
      ALICE,
      { platform: 'IOS', method: 'QR', delivery: [] },
      ORIGIN,
    );
    const oldToken = new URLSearchParams(new URL(first.qr?.url ?? '').hash.slice(1)).get('t') ?? '';

    const renewed = await resendRegistration(m.registration, ALICE, first.device.deviceId, {}, ORIGIN);

    expect(renewed.qr?.url).not.toBe(first.qr?.url);
    expect(
      await codeOf(
        verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '55667788', qrToken: oldToken }, ORIGIN),
      ),
    ).toBe('QR_CODE_INVALID');
  });

  it('cancel ends the registration: the PIN and an enrollment token stop working', async () => {
    const m = memoryPorts(['11223344']);
    const { device } = await registerAndroid(m);
    const go = await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN);

    await cancelRegistration(m.registration, ALICE, device.deviceId, ORIGIN);

    expect(m.store.device(device.deviceId)?.status).toBe('CANCELLED');
    expect(
      await codeOf(enrollAgent(m.enrollment, { enrollmentToken: go.enrollmentToken, device: FACTS }, ORIGIN)),
    ).toBe('ENROLLMENT_TOKEN_INVALID');
  });

  it('resend makes an enrollment token that /go already handed out stop working', async () => {
    const m = memoryPorts(['11223344', '55667788']);
    const { device } = await registerAndroid(m);
    const go = await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN);

    await resendRegistration(m.registration, ALICE, device.deviceId, {}, ORIGIN);

    expect(
      await codeOf(enrollAgent(m.enrollment, { enrollmentToken: go.enrollmentToken, device: FACTS }, ORIGIN)),
    ).toBe('ENROLLMENT_TOKEN_INVALID');
    expect(m.store.device(device.deviceId)?.status).toBe('PENDING');
  });

  it('a failure to record the delivery outcome still answers with the one-time PIN', async () => {
    const m = memoryPorts(['11223344']);
    const save = m.store.saveDevice.bind(m.store);
    let writes = 0;
    m.store.saveDevice = async (change) => {
      writes += 1;
      // The first write creates the device; the second records the deliveries, and fails.
      if (writes === 2) throw new Error('ProvisionedThroughputExceededException');
      return save(change);
    };

    const response = await registerAndroid(m);

    expect(response.pin).toBe('11223344');
    expect(response.device.registration?.deliveries).toEqual([
      expect.objectContaining({ channel: 'EMAIL', status: 'SENT' }),
    ]);
    expect(m.store.device(response.device.deviceId)?.status).toBe('PENDING');
  });

  it('the invitation rate limit counts creates and resends together', async () => {
    const m = memoryPorts();
    m.store.settings.invitationsPerUserPerHour = 2;
    const { device } = await registerAndroid(m);
    await resendRegistration(m.registration, ALICE, device.deviceId, {}, ORIGIN);

    expect(await codeOf(resendRegistration(m.registration, ALICE, device.deviceId, {}, ORIGIN))).toBe(
      'TOO_MANY_INVITATIONS',
    );
  });
});

describe('/go tells a stranger nothing (rule 15)', () => {
  /** The refusal a call ends in, and the moments the use-case waited for before answering. */
  async function refusal(m: ReturnType<typeof memoryPorts>, username: string, pin: string) {
    const before = m.sleep.deadlines.length;
    try {
      await verifyAtGo(m.enrollment, { username, pin }, ORIGIN);
    } catch (error) {
      if (!(error instanceof PortalError)) throw error;
      return {
        error: { kind: error.kind, code: error.code, message: error.message },
        waited: m.sleep.deadlines.slice(before),
      };
    }
    throw new Error('expected a refusal, but /go succeeded');
  }

  it('answers an unknown user, a user without a registration and a wrong PIN identically, after the same floor', async () => {
    const m = memoryPorts(['11223344']);
    const [alice] = m.directory.users;
    if (!alice) throw new Error('no user in the directory');
    m.directory.users.push({
      ...alice,
      sub: '22222222-2222-4333-8444-555555555555',
      username: '22222222-2222-4333-8444-555555555555',
      email: 'bob@example.com',
    });
    await registerAndroid(m);
    const floor = new Date(NOW.getTime() + FAILURE_FLOOR_MS);

    const unknown = await refusal(m, 'nobody@example.com', '11223344');
    const withoutRegistration = await refusal(m, 'bob@example.com', '11223344');
    const wrongPin = await refusal(m, ALICE_EMAIL, '99999999');

    expect(unknown.error).toEqual({
      kind: 'UNAUTHORIZED',
      code: 'BAD_CREDENTIALS',
      message: badCredentials({}).message,
    });
    expect(withoutRegistration.error).toEqual(unknown.error);
    expect(wrongPin.error).toEqual(unknown.error);
    expect(unknown.waited).toEqual([floor]);
    expect(withoutRegistration.waited).toEqual([floor]);
    expect(wrongPin.waited).toEqual([floor]);
  });

  it('counts the failures of an unknown account under GO#NAME#{sha256 of the lowercased name}', async () => {
    const m = memoryPorts();

    await refusal(m, 'Nobody@Example.com', '11223344');

    expect(m.store.counter(`GO#NAME#${sha256Hex('nobody@example.com')}`, 'GO_FAILURES')).toBe(1);
  });

  it("gives the account's failures back in the portal: a new registration resets USER#{sub} GO_FAILURES", async () => {
    const m = memoryPorts(['11223344', '55667788']);
    await registerAndroid(m);
    await codeOf(verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '99999999' }, ORIGIN));
    expect(m.store.counter(`USER#${ALICE_SUB}`, 'GO_FAILURES')).toBe(1);

    await registerAndroid(m);

    expect(m.store.counter(`USER#${ALICE_SUB}`, 'GO_FAILURES')).toBe(0);
  });
});

describe('the device-limit lock', () => {
  it('refuses a write that counted the devices under a lock version another write has moved on', async () => {
    const m = memoryPorts();
    const read = await m.store.listDevicesForLimit(ALICE_SUB);
    await registerAndroid(m); // takes a place: the lock moves on

    const device = m.store.device((await m.store.listDevices(ALICE_SUB))[0]?.deviceId ?? '');
    if (!device) throw new Error('no device');
    await expect(
      m.store.saveDevice({
        device: { ...device, deviceId: 'f0000000-0000-4000-8000-0000000000ff' },
        expectedVersion: null,
        limitLock: { version: read.lockVersion },
      }),
    ).rejects.toThrow('device-limit lock');
  });

  it('counts again after losing the lock race, and refuses the create that would pass the limit', async () => {
    const m = memoryPorts();
    m.store.settings.deviceLimitPerUser = 1;
    const list = m.store.listDevicesForLimit.bind(m.store);
    let raced = false;
    m.store.listDevicesForLimit = async (userSub) => {
      const answer = await list(userSub);
      if (!raced) {
        raced = true;
        // A parallel create lands between this count and this write.
        await createRegistration(
          m.registration,
          ALICE,
          { platform: 'IOS', method: 'PIN', delivery: [] },
          ORIGIN,
        );
      }
      return answer;
    };

    expect(await codeOf(registerAndroid(m))).toBe('DEVICE_LIMIT_REACHED');
    expect(await m.store.listDevices(ALICE_SUB)).toHaveLength(1);
    expect(m.metrics.counts.LostRace).toBe(1);
  });
});

describe("/go and the phone's platform", () => {
  it('answers PLATFORM_MISMATCH to the right PIN on an iPhone, and the PIN still works on the Android device', async () => {
    const m = memoryPorts(['11223344']);
    const { device } = await registerAndroid(m);

    const wrongPhone = verifyAtGo(
      m.enrollment,
      { username: ALICE_EMAIL, pin: '11223344', platform: 'IOS' },
      ORIGIN,
    );

    expect(await codeOf(wrongPhone)).toBe('PLATFORM_MISMATCH');
    expect(m.store.device(device.deviceId)?.registration).toMatchObject({ pin: { tries: 1 } });
    expect(m.store.device(device.deviceId)?.registration?.usedAt).toBeUndefined();
    expect(m.store.counter(`USER#${ALICE_SUB}`, 'GO_FAILURES')).toBe(0);
    await expect(
      verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344', platform: 'ANDROID' }, ORIGIN),
    ).resolves.toMatchObject({ deviceId: device.deviceId, platform: 'ANDROID' });
  });

  it('asks which registration when the password fits several for this phone, then completes the one chosen', async () => {
    const m = memoryPorts();
    const create = (name: string) =>
      createRegistration(
        m.registration,
        ALICE,
        { platform: 'ANDROID', method: 'INVITATION', delivery: [], name },
        ORIGIN,
      );
    const work = await create('Work phone');
    m.clock.advanceMinutes(1);
    const spare = await create('Spare phone');
    const proof = { username: ALICE_EMAIL, password: 'correct horse', platform: 'ANDROID' } as const;

    let choices: unknown;
    try {
      await verifyAtGo(m.enrollment, proof, ORIGIN);
    } catch (error) {
      expect(error).toMatchObject({ code: 'CHOOSE_REGISTRATION' });
      choices = (error as PortalError).details;
    }
    const chosen = await verifyAtGo(m.enrollment, { ...proof, deviceId: work.device.deviceId }, ORIGIN);

    expect(choices).toEqual({
      choices: [
        {
          deviceId: spare.device.deviceId,
          name: 'Spare phone',
          platform: 'ANDROID',
          createdAt: '2025-06-02T10:01:00.000Z',
        },
        {
          deviceId: work.device.deviceId,
          name: 'Work phone',
          platform: 'ANDROID',
          createdAt: '2025-06-02T10:00:00.000Z',
        },
      ],
    });
    expect(chosen.deviceId).toBe(work.device.deviceId);
    expect(m.store.device(spare.device.deviceId)?.registration?.usedAt).toBeUndefined();
  });

  it("refuses a chosen registration that is not one of this phone's, instead of completing another", async () => {
    const m = memoryPorts();
    const android = await createRegistration(
      m.registration,
      ALICE,
      { platform: 'ANDROID', method: 'INVITATION', delivery: [] },
      ORIGIN,
    );
    const ios = await createRegistration(
      m.registration,
      ALICE,
      { platform: 'IOS', method: 'INVITATION', delivery: [] },
      ORIGIN,
    );

    await expect(
      verifyAtGo(
        m.enrollment,
        {
          username: ALICE_EMAIL,
          password: 'correct horse',
          platform: 'ANDROID',
          deviceId: ios.device.deviceId,
        },
        ORIGIN,
      ),
    ).rejects.toMatchObject({ code: 'BAD_CREDENTIALS' });
    expect(m.store.device(android.device.deviceId)?.registration?.usedAt).toBeUndefined();
  });

  it('keeps the name the user gave the registration when the device enrolls', async () => {
    const m = memoryPorts(['11223344']);
    const { device } = await createRegistration(
      m.registration,
      ALICE,
      { platform: 'ANDROID', method: 'PIN', delivery: [], name: 'Work phone' },
      ORIGIN,
    );
    const go = await verifyAtGo(m.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN);

    await enrollAgent(m.enrollment, { enrollmentToken: go.enrollmentToken, device: FACTS }, ORIGIN);

    const [listed] = (await listDevices({ devices: m.store, clock: m.clock }, ALICE_SUB)).devices;
    expect(listed).toMatchObject({ deviceId: device.deviceId, status: 'ACTIVE', name: 'Work phone' });
  });

  it('finds the account by the email typed in capitals, looked up again in lower case', async () => {
    const m = memoryPorts(['11223344']);
    const { device } = await registerAndroid(m);

    const go = await verifyAtGo(m.enrollment, { username: 'Alice@Example.com', pin: '11223344' }, ORIGIN);

    expect(go.deviceId).toBe(device.deviceId);
  });
});

describe('delivery failures for the helpdesk', () => {
  it("logs the provider's error name, and keeps it out of the reason the user sees", async () => {
    const m = memoryPorts();
    const logged: { message: string; fields: Record<string, unknown> }[] = [];
    m.registration.log = (message, fields) => logged.push({ message, fields });
    m.registration.mailer = {
      send: async () => {
        throw Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' });
      },
    };

    const { device } = await registerAndroid(m);

    expect(logged).toEqual([
      {
        message: 'Invitation delivery failed',
        fields: { channel: 'EMAIL', deviceId: device.deviceId, providerError: 'MessageRejected' },
      },
    ]);
    const [delivery] = device.registration?.deliveries ?? [];
    expect(delivery).toMatchObject({ channel: 'EMAIL', status: 'FAILED' });
    expect(delivery?.reason).not.toContain('MessageRejected');
    expect(JSON.stringify(m.store.device(device.deviceId))).not.toContain('MessageRejected');
  });
});

describe('removing a cancelled registration', () => {
  it('takes the device out of the list and keeps its audit trail, with DEVICE_REMOVED last', async () => {
    const m = memoryPorts();
    const { device } = await registerAndroid(m);
    await cancelRegistration(m.registration, ALICE, device.deviceId, ORIGIN);

    await removeDevice(m.registration, ALICE, device.deviceId, ORIGIN);

    expect(m.store.device(device.deviceId)).toBeUndefined();
    expect((await listDevices({ devices: m.store, clock: m.clock }, ALICE_SUB)).devices).toEqual([]);
    expect(m.store.audit.map((e) => `${e.action} ${e.deviceId}`)).toEqual([
      `REGISTRATION_CREATED ${device.deviceId}`,
      `REGISTRATION_CANCELLED ${device.deviceId}`,
      `DEVICE_REMOVED ${device.deviceId}`,
    ]);
  });

  it('refuses a pending registration with NOT_REMOVABLE, and keeps it', async () => {
    const m = memoryPorts();
    const { device } = await registerAndroid(m);

    expect(await codeOf(removeDevice(m.registration, ALICE, device.deviceId, ORIGIN))).toBe('NOT_REMOVABLE');
    expect(m.store.device(device.deviceId)?.status).toBe('PENDING');
  });
});
