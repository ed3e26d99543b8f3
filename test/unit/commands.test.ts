/** The command use-cases (functions/core/commands.ts) over the in-memory ports. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { RequestOrigin } from '../../functions/core/audit.ts';
import {
  type CommandRecord,
  cancelCommand,
  effectiveCommandStatus,
  getDeviceDetail,
  handOver,
  recordResult,
  requestAction,
  toCommandSummary,
} from '../../functions/core/commands.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { PortalError } from '../../functions/core/errors.ts';
import { ConcurrentUpdateError } from '../../functions/core/ports.ts';
import { ROLES, type Role } from '../../functions/routes.ts';
import { ALICE_SUB, deviceRecord, NOW } from './fixtures.ts';
import { memoryPorts } from './memory-ports.ts';

const DEVICE_ID = 'b0000000-0000-4000-8000-000000000001';
const ORIGIN: RequestOrigin = {
  origin: 'https://portal.example.com',
  sourceIp: '203.0.113.7',
  userAgent: 'vitest',
};
const ALL_ROLES: Role[] = [...ROLES];
const DEFAULT_ROLES: Role[] = ['self-service', 'register-device', 'lock', 'locate'];
const caller = (roles: Role[] = ALL_ROLES) => ({
  sub: ALICE_SUB,
  username: ALICE_SUB,
  groups: [],
  authTime: Math.floor(NOW.getTime() / 1000),
  roles,
});

/** A company-owned, fully managed Android device: every action is available. */
const companyDevice = (overrides: Partial<DeviceRecord> = {}) =>
  deviceRecord({
    deviceId: DEVICE_ID,
    platform: 'ANDROID',
    managementMode: 'FULLY_MANAGED',
    ownership: 'COMPANY',
    version: 5,
    ...overrides,
  });

const at = (minutesFromNow: number) => new Date(NOW.getTime() + minutesFromNow * 60_000).toISOString();

function commandRecord(overrides: Partial<CommandRecord> = {}): CommandRecord {
  return {
    commandId: 'c0000000-0000-4000-8000-000000000001',
    userSub: ALICE_SUB,
    deviceId: DEVICE_ID,
    action: 'LOCK',
    status: 'QUEUED',
    createdAt: at(-10),
    expiresAt: at(60),
    ...overrides,
  };
}

/** The PortalError a call rejects with, as { kind, code }. */
async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PortalError);
  const { kind, code } = error as PortalError;
  return { kind, code };
}

let ports: ReturnType<typeof memoryPorts>;

function storeDevice(device: DeviceRecord) {
  ports.store.devices.set(`${device.userSub}|${device.deviceId}`, structuredClone(device));
}
function storeCommand(command: CommandRecord) {
  ports.store.commands.set(command.commandId, structuredClone(command));
}

beforeEach(() => {
  ports = memoryPorts();
  storeDevice(companyDevice());
});

describe('requestAction', () => {
  it('queues the command with the lifetime from the settings and wakes the device once', async () => {
    const { command, queued } = await requestAction(
      ports.commands,
      caller(),
      DEVICE_ID,
      { action: 'LOCK' },
      ORIGIN,
    );

    expect(queued).toBe(true);
    expect(command).toMatchObject({
      action: 'LOCK',
      status: 'QUEUED',
      canCancel: true,
      createdAt: NOW.toISOString(),
    });
    expect(command.expiresAt).toBe(new Date(NOW.getTime() + 72 * 3600_000).toISOString());
    expect([...ports.store.commands.values()]).toEqual([
      expect.objectContaining({ commandId: command.commandId, action: 'LOCK', status: 'QUEUED' }),
    ]);
    expect(ports.wakeUps.map((d) => d.deviceId)).toEqual([DEVICE_ID]);
  });

  it('bumps the device version and writes a COMMAND_QUEUED audit event with the queuing', async () => {
    const { command } = await requestAction(ports.commands, caller(), DEVICE_ID, { action: 'LOCK' }, ORIGIN);

    expect(ports.store.device(DEVICE_ID)?.version).toBe(6);
    expect(ports.store.audit).toEqual([
      expect.objectContaining({
        action: 'COMMAND_QUEUED',
        deviceId: DEVICE_ID,
        detail: `LOCK ${command.commandId}`,
      }),
    ]);
  });

  it('answers a second identical request with the waiting command, without queuing or waking again', async () => {
    const first = await requestAction(ports.commands, caller(), DEVICE_ID, { action: 'LOCK' }, ORIGIN);
    const second = await requestAction(ports.commands, caller(), DEVICE_ID, { action: 'LOCK' }, ORIGIN);

    expect(second.queued).toBe(false);
    expect(second.command.commandId).toBe(first.command.commandId);
    expect(ports.store.commands.size).toBe(1);
    expect(ports.wakeUps).toHaveLength(1);
  });

  it('retries after a lost race and queues on the next try', async () => {
    const put = ports.store.putCommand.bind(ports.store);
    let calls = 0;
    ports.store.putCommand = async (...args) => {
      calls += 1;
      if (calls === 1) throw new ConcurrentUpdateError('a parallel request won');
      return put(...args);
    };

    const { queued } = await requestAction(ports.commands, caller(), DEVICE_ID, { action: 'LOCK' }, ORIGIN);

    expect(queued).toBe(true);
    expect(calls).toBe(2);
    expect(ports.metrics.counts.LostRace).toBe(1);
    expect(ports.store.commands.size).toBe(1);
    expect(ports.wakeUps).toHaveLength(1);
  });

  it('answers BUSY after five lost races in a row', async () => {
    ports.store.putCommand = async () => {
      throw new ConcurrentUpdateError('always');
    };

    expect(
      await failure(requestAction(ports.commands, caller(), DEVICE_ID, { action: 'LOCK' }, ORIGIN)),
    ).toEqual({ kind: 'CONFLICT', code: 'BUSY' });
    expect(ports.wakeUps).toEqual([]);
  });

  it('keeps the lock screen of a lost-mode request', async () => {
    const { command } = await requestAction(
      ports.commands,
      caller(),
      DEVICE_ID,
      {
        action: 'LOST_MODE',
        lostMode: 'ON',
        lockScreen: { message: 'Call me', phoneNumber: '+15555550100' },
      },
      ORIGIN,
    );

    expect(command).toMatchObject({
      action: 'LOST_MODE_ON',
      lockScreen: { message: 'Call me', phoneNumber: '+15555550100' },
    });
  });

  it('refuses an action the rule blocks with its reason, as 409, queuing nothing', async () => {
    storeDevice(companyDevice({ platform: 'IOS', managementMode: 'USER_ENROLLMENT' }));

    expect(
      await failure(requestAction(ports.commands, caller(), DEVICE_ID, { action: 'LOCK' }, ORIGIN)),
    ).toEqual({ kind: 'CONFLICT', code: 'NOT_SUPPORTED' });
    expect(ports.store.commands.size).toBe(0);
    expect(ports.wakeUps).toEqual([]);
  });

  it('refuses an action without its role as FORBIDDEN ROLE_REQUIRED', async () => {
    expect(
      await failure(
        requestAction(ports.commands, caller(DEFAULT_ROLES), DEVICE_ID, { action: 'UNLOCK' }, ORIGIN),
      ),
    ).toEqual({ kind: 'FORBIDDEN', code: 'ROLE_REQUIRED' });
  });

  it('answers NOT_FOUND for a device that is not the caller’s', async () => {
    ports.store.devices.clear();
    storeDevice(companyDevice({ userSub: '99999999-8888-4777-8666-555555555555' }));

    expect(
      await failure(requestAction(ports.commands, caller(), DEVICE_ID, { action: 'LOCK' }, ORIGIN)),
    ).toEqual({ kind: 'NOT_FOUND', code: 'DEVICE_NOT_FOUND' });
  });

  it('refuses lost mode off with NOT_IN_LOST_MODE when lost mode is neither on nor waiting', async () => {
    expect(
      await failure(
        requestAction(ports.commands, caller(), DEVICE_ID, { action: 'LOST_MODE', lostMode: 'OFF' }, ORIGIN),
      ),
    ).toEqual({ kind: 'CONFLICT', code: 'NOT_IN_LOST_MODE' });
  });

  it('queues lost mode off for a device in lost mode', async () => {
    storeDevice(companyDevice({ lostMode: { message: 'Lost', since: at(-60) } }));

    const { command } = await requestAction(
      ports.commands,
      caller(),
      DEVICE_ID,
      { action: 'LOST_MODE', lostMode: 'OFF' },
      ORIGIN,
    );

    expect(command).toMatchObject({ action: 'LOST_MODE_OFF', status: 'QUEUED' });
  });

  it('refuses lost mode on while lost mode off still waits: one change of lost mode at a time', async () => {
    storeDevice(companyDevice({ lostMode: { message: 'Lost', since: at(-60) } }));
    storeCommand(commandRecord({ action: 'LOST_MODE_OFF' }));

    expect(
      await failure(
        requestAction(
          ports.commands,
          caller(),
          DEVICE_ID,
          { action: 'LOST_MODE', lostMode: 'ON', lockScreen: { message: 'Again' } },
          ORIGIN,
        ),
      ),
    ).toEqual({ kind: 'CONFLICT', code: 'ALREADY_WAITING' });
  });

  it('refuses an unlock while lost mode on waits for the device', async () => {
    storeCommand(commandRecord({ action: 'LOST_MODE_ON' }));

    expect(
      await failure(requestAction(ports.commands, caller(), DEVICE_ID, { action: 'UNLOCK' }, ORIGIN)),
    ).toEqual({ kind: 'CONFLICT', code: 'NOT_SUPPORTED' });
  });

  it('queues a new command once the waiting one of the same kind has expired', async () => {
    storeCommand(commandRecord({ expiresAt: at(-1) }));

    const { command, queued } = await requestAction(
      ports.commands,
      caller(),
      DEVICE_ID,
      { action: 'LOCK' },
      ORIGIN,
    );

    expect(queued).toBe(true);
    expect(command.commandId).not.toBe(commandRecord().commandId);
  });
});

describe('cancelCommand', () => {
  it('cancels a QUEUED command, with its completion time and audit event', async () => {
    storeCommand(commandRecord());

    const summary = await cancelCommand(
      ports.commands,
      caller(),
      DEVICE_ID,
      commandRecord().commandId,
      ORIGIN,
    );

    expect(summary).toMatchObject({ status: 'CANCELLED', completedAt: NOW.toISOString(), canCancel: false });
    expect(ports.store.commands.get(commandRecord().commandId)?.status).toBe('CANCELLED');
    expect(ports.store.audit.map((e) => e.action)).toEqual(['COMMAND_CANCELLED']);
  });

  it('answers ALREADY_PICKED_UP once the check-in handed the command over', async () => {
    storeCommand(commandRecord());
    const { sent } = handOver([...ports.store.commands.values()], NOW);
    for (const c of sent) storeCommand(c);

    expect(
      await failure(cancelCommand(ports.commands, caller(), DEVICE_ID, commandRecord().commandId, ORIGIN)),
    ).toEqual({ kind: 'CONFLICT', code: 'ALREADY_PICKED_UP' });
    expect(ports.store.commands.get(commandRecord().commandId)?.status).toBe('SENT');
  });

  it('answers ALREADY_PICKED_UP when the check-in wins the race after the cancel read the command', async () => {
    storeCommand(commandRecord());
    const update = ports.store.updateCommands.bind(ports.store);
    ports.store.updateCommands = async (change) => {
      storeCommand(commandRecord({ status: 'SENT', sentAt: NOW.toISOString() }));
      return update(change);
    };

    expect(
      await failure(cancelCommand(ports.commands, caller(), DEVICE_ID, commandRecord().commandId, ORIGIN)),
    ).toEqual({ kind: 'CONFLICT', code: 'ALREADY_PICKED_UP' });
  });

  it('answers COMMAND_EXPIRED, not "picked up", for a command the device never picked up in time', async () => {
    storeCommand(commandRecord({ expiresAt: at(-1) }));

    expect(
      await failure(cancelCommand(ports.commands, caller(), DEVICE_ID, commandRecord().commandId, ORIGIN)),
    ).toEqual({ kind: 'CONFLICT', code: 'COMMAND_EXPIRED' });
  });

  it('needs the role of the command’s action (unlock) to cancel it', async () => {
    storeCommand(commandRecord({ action: 'UNLOCK' }));

    expect(
      await failure(
        cancelCommand(ports.commands, caller(DEFAULT_ROLES), DEVICE_ID, commandRecord().commandId, ORIGIN),
      ),
    ).toEqual({ kind: 'FORBIDDEN', code: 'ROLE_REQUIRED' });
    expect(ports.store.commands.get(commandRecord().commandId)?.status).toBe('QUEUED');
  });

  it('lets the lock role cancel a lost-mode command', async () => {
    storeCommand(commandRecord({ action: 'LOST_MODE_ON' }));

    const summary = await cancelCommand(
      ports.commands,
      caller(DEFAULT_ROLES),
      DEVICE_ID,
      commandRecord().commandId,
      ORIGIN,
    );

    expect(summary.status).toBe('CANCELLED');
  });

  it('answers COMMAND_NOT_FOUND for an unknown command id', async () => {
    expect(
      await failure(
        cancelCommand(ports.commands, caller(), DEVICE_ID, 'c0000000-0000-4000-8000-00000000ffff', ORIGIN),
      ),
    ).toEqual({ kind: 'NOT_FOUND', code: 'COMMAND_NOT_FOUND' });
  });
});

describe('handOver', () => {
  it('hands over QUEUED commands oldest first, as SENT at now', () => {
    const newer = commandRecord({ commandId: 'b', createdAt: at(-1) });
    const older = commandRecord({ commandId: 'a', createdAt: at(-5), lockScreen: { message: 'Hi' } });

    const { sent, forAgent } = handOver([newer, older], NOW);

    expect(sent.map((c) => [c.commandId, c.status, c.sentAt])).toEqual([
      ['a', 'SENT', NOW.toISOString()],
      ['b', 'SENT', NOW.toISOString()],
    ]);
    expect(forAgent).toEqual([
      { commandId: 'a', action: 'LOCK', lockScreen: { message: 'Hi' } },
      { commandId: 'b', action: 'LOCK', lockScreen: null },
    ]);
  });

  it('skips a command past its expiresAt', () => {
    expect(handOver([commandRecord({ expiresAt: at(-1) })], NOW).sent).toEqual([]);
  });

  it('skips a command expiring exactly now', () => {
    expect(handOver([commandRecord({ expiresAt: NOW.toISOString() })], NOW).sent).toEqual([]);
  });

  it('skips CANCELLED, SENT, DONE and FAILED commands', () => {
    const others = (['CANCELLED', 'SENT', 'DONE', 'FAILED'] as const).map((status) =>
      commandRecord({ status }),
    );
    expect(handOver(others, NOW)).toEqual({ sent: [], forAgent: [] });
  });
});

describe('recordResult', () => {
  const position = { latitude: 48.85, longitude: 2.35, accuracy: 25, at: at(-1) };

  function sentCommand(action: CommandRecord['action'], overrides: Partial<CommandRecord> = {}) {
    const command = commandRecord({ action, status: 'SENT', sentAt: at(-2), ...overrides });
    storeCommand(command);
    return command;
  }
  const device = () => ports.store.device(DEVICE_ID) as DeviceRecord;

  it.each([
    ['WIPE', 'WIPED'],
    ['RETIRE', 'RETIRED'],
  ] as const)('a DONE %s sets the device %s and removes its credential', async (action, status) => {
    storeDevice(companyDevice({ lostMode: { since: at(-60) } }));
    const command = sentCommand(action);

    const summary = await recordResult(
      ports.commands,
      device(),
      command.commandId,
      { status: 'DONE' },
      ORIGIN,
    );

    expect(summary).toMatchObject({ status: 'DONE', completedAt: NOW.toISOString() });
    expect(device().status).toBe(status);
    expect(device()).not.toHaveProperty('credentialHash');
    expect(device().lostMode).toBeNull();
    expect(device().version).toBe(6);
  });

  it('a DONE LOST_MODE_ON puts the device in lost mode with the lock screen', async () => {
    const command = sentCommand('LOST_MODE_ON', {
      lockScreen: { message: 'Call me', phoneNumber: '+15555550100' },
    });

    await recordResult(ports.commands, device(), command.commandId, { status: 'DONE' }, ORIGIN);

    expect(device().lostMode).toEqual({
      message: 'Call me',
      phoneNumber: '+15555550100',
      since: NOW.toISOString(),
    });
  });

  it('a DONE LOST_MODE_OFF clears lost mode', async () => {
    storeDevice(companyDevice({ lostMode: { message: 'Lost', since: at(-60) } }));
    const command = sentCommand('LOST_MODE_OFF');

    await recordResult(ports.commands, device(), command.commandId, { status: 'DONE' }, ORIGIN);

    expect(device().lostMode).toBeNull();
  });

  it('a DONE LOCATE stores the position on the device and the command', async () => {
    const command = sentCommand('LOCATE');

    const summary = await recordResult(
      ports.commands,
      device(),
      command.commandId,
      { status: 'DONE', position },
      ORIGIN,
    );

    expect(summary.position).toEqual(position);
    expect(device().lastPosition).toEqual(position);
  });

  it('refuses a DONE LOCATE without a position as INVALID POSITION_REQUIRED', async () => {
    const command = sentCommand('LOCATE');

    expect(
      await failure(recordResult(ports.commands, device(), command.commandId, { status: 'DONE' }, ORIGIN)),
    ).toEqual({ kind: 'INVALID', code: 'POSITION_REQUIRED' });
    expect(ports.store.commands.get(command.commandId)?.status).toBe('SENT');
  });

  it('a FAILED wipe keeps the device active with its credential, and records the error', async () => {
    const command = sentCommand('WIPE');

    const summary = await recordResult(
      ports.commands,
      device(),
      command.commandId,
      { status: 'FAILED', error: 'user cancelled' },
      ORIGIN,
    );

    expect(summary).toMatchObject({ status: 'FAILED', error: 'user cancelled' });
    expect(device()).toMatchObject({ status: 'ACTIVE', credentialHash: 'c0ffee', version: 5 });
    expect(ports.store.audit.map((e) => [e.action, e.result])).toEqual([['COMMAND_FAILED', 'FAILURE']]);
  });

  it.each(['QUEUED', 'DONE', 'CANCELLED'] as const)(
    'refuses a result for a %s command as CONFLICT NOT_SENT',
    async (status) => {
      const command = commandRecord({ status });
      storeCommand(command);

      expect(
        await failure(recordResult(ports.commands, device(), command.commandId, { status: 'DONE' }, ORIGIN)),
      ).toEqual({ kind: 'CONFLICT', code: 'NOT_SENT' });
    },
  );
});

describe('effectiveCommandStatus and toCommandSummary', () => {
  it('gives EXPIRED for a QUEUED command past its expiresAt', () => {
    expect(effectiveCommandStatus(commandRecord({ expiresAt: at(-1) }), NOW)).toBe('EXPIRED');
  });

  it('keeps QUEUED before expiresAt', () => {
    expect(effectiveCommandStatus(commandRecord({ expiresAt: at(1) }), NOW)).toBe('QUEUED');
  });

  it('never expires a SENT command', () => {
    expect(effectiveCommandStatus(commandRecord({ status: 'SENT', expiresAt: at(-1) }), NOW)).toBe('SENT');
  });

  it('offers cancel only for a QUEUED command, not an expired one', () => {
    expect(toCommandSummary(commandRecord(), NOW).canCancel).toBe(true);
    expect(toCommandSummary(commandRecord({ expiresAt: at(-1) }), NOW)).toMatchObject({
      status: 'EXPIRED',
      canCancel: false,
    });
  });
});

describe('getDeviceDetail', () => {
  it('lists waiting commands first and counts an expired one as not waiting', async () => {
    storeCommand(commandRecord({ commandId: 'old-expired', createdAt: at(-100), expiresAt: at(-1) }));
    storeCommand(commandRecord({ commandId: 'waiting', action: 'LOCATE', createdAt: at(-200) }));

    const detail = await getDeviceDetail(ports.commands, caller(), DEVICE_ID);

    expect(detail.commands.map((c) => [c.commandId, c.status])).toEqual([
      ['waiting', 'QUEUED'],
      ['old-expired', 'EXPIRED'],
    ]);
    expect(detail.actions.find((a) => a.action === 'LOCK')?.available).toBe(true);
    expect(detail.actions.find((a) => a.action === 'LOCATE')?.reason?.code).toBe('ALREADY_WAITING');
  });

  it('gives the next check-in 15 minutes after the last one', async () => {
    const detail = await getDeviceDetail(ports.commands, caller(), DEVICE_ID);
    expect(detail.device.nextCheckInDueAt).toBe('2025-06-02T09:45:00.000Z');
  });
});
