/**
 * The one availability rule (functions/core/device-actions.ts) against the platform × management
 * mode table of reference/device-actions.md. The expected answers are built here from the
 * document's rows, independently of the product's switch, and compared over every action,
 * platform, management mode, ownership, status, lost mode, policy, roles and waiting command.
 */
import { describe, expect, it } from 'vitest';
import type {
  CommandAction,
  DeviceAction,
  DeviceStatus,
  ManagementMode,
  Ownership,
  Platform,
} from '../../functions/core/api-types.ts';
import type { CommandRecord } from '../../functions/core/commands.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import {
  ACTION_ROLE,
  actionBlocker,
  actionsFor,
  consequenceOf,
  managementModeOf,
} from '../../functions/core/device-actions.ts';
import { ROLES, type Role } from '../../functions/routes.ts';
import { ALICE_SUB, deviceRecord } from './fixtures.ts';

/** Every action of the rule: the six commands and the secure-apps passcode reset (issue 12). */
const ACTIONS: DeviceAction[] = [
  'LOCK',
  'LOST_MODE',
  'UNLOCK',
  'LOCATE',
  'WIPE',
  'RETIRE',
  'SECURE_APPS_PASSCODE',
];
const STATUSES: DeviceStatus[] = ['ACTIVE', 'PENDING', 'RETIRED', 'WIPED', 'CANCELLED', 'EXPIRED'];
const OWNERSHIPS: Ownership[] = ['EMPLOYEE', 'COMPANY'];
const COMMAND_ACTIONS: CommandAction[] = [
  'LOCK',
  'LOST_MODE_ON',
  'LOST_MODE_OFF',
  'UNLOCK',
  'LOCATE',
  'WIPE',
  'RETIRE',
];

/** The modes of each platform (device-actions.md "Management modes"); undefined: not reported yet. */
const MODES: Record<Platform, (ManagementMode | undefined)[]> = {
  IOS: ['SUPERVISED', 'DEVICE_ENROLLMENT', 'USER_ENROLLMENT', undefined],
  ANDROID: ['FULLY_MANAGED', 'WORK_PROFILE_COMPANY', 'WORK_PROFILE_PERSONAL', undefined],
};

/** The role each action needs (DESIGN §7: lost mode is a lock with a message). */
const ROLE_OF: Record<DeviceAction, Role> = {
  LOCK: 'lock',
  LOST_MODE: 'lock',
  UNLOCK: 'unlock',
  LOCATE: 'locate',
  WIPE: 'wipe',
  RETIRE: 'retire',
  SECURE_APPS_PASSCODE: 'reset-secure-apps-passcode',
};

/** The commands of the same kind as each action. */
const SAME_KIND: Record<DeviceAction, CommandAction[]> = {
  LOCK: ['LOCK'],
  LOST_MODE: ['LOST_MODE_ON', 'LOST_MODE_OFF'],
  UNLOCK: ['UNLOCK'],
  LOCATE: ['LOCATE'],
  WIPE: ['WIPE'],
  RETIRE: ['RETIRE'],
  // A one-time PIN is answered at once: nothing of its kind ever waits for the device.
  SECURE_APPS_PASSCODE: [],
};

/** device-actions.md "Actions", row by row: does the platform and mode allow it (lost or not)? */
function documentedSupport(
  action: DeviceAction,
  platform: Platform,
  mode: ManagementMode,
  lost: boolean,
): boolean {
  const ios = platform === 'IOS';
  const androidCompany = mode === 'FULLY_MANAGED' || mode === 'WORK_PROFILE_COMPANY';
  switch (action) {
    case 'LOCK': // iOS: not in USER_ENROLLMENT; Android: all modes
      return ios ? mode !== 'USER_ENROLLMENT' : true;
    case 'LOST_MODE': // iOS: SUPERVISED only; Android: FULLY_MANAGED, WORK_PROFILE_COMPANY
      return ios ? mode === 'SUPERVISED' : androidCompany;
    case 'UNLOCK': // iOS: SUPERVISED, DEVICE_ENROLLMENT; Android: company; never on a device reported lost
      if (lost) return false;
      return ios ? mode === 'SUPERVISED' || mode === 'DEVICE_ENROLLMENT' : androidCompany;
    case 'LOCATE': // iOS: SUPERVISED in lost mode; Android: company
      return ios ? mode === 'SUPERVISED' && lost : androidCompany;
    case 'WIPE': // iOS: not in USER_ENROLLMENT; Android: company
      return ios ? mode !== 'USER_ENROLLMENT' : androidCompany;
    case 'RETIRE': // all modes
      return true;
    case 'SECURE_APPS_PASSCODE': // all modes, on a device whose agent reports the secure-apps container
      return true;
  }
}

interface Case {
  action: DeviceAction;
  platform: Platform;
  mode: ManagementMode | undefined;
  ownership: Ownership;
  status: DeviceStatus;
  lost: boolean;
  /** The agent reports a secure-apps container. */
  container: boolean;
  wipeEmployeeOwned: boolean;
  hasRole: boolean;
  waitingAction: CommandAction | null;
}

/** The expected reason code (null: available), the first that applies. */
function expectedCode(c: Case): string | null {
  if (!c.hasRole) return 'ROLE_REQUIRED';
  if (c.status !== 'ACTIVE') return 'NOT_ACTIVE';
  if (c.action === 'SECURE_APPS_PASSCODE' && !c.container) return 'NOT_SUPPORTED';
  const mode = c.mode ?? (c.platform === 'IOS' ? 'USER_ENROLLMENT' : 'WORK_PROFILE_PERSONAL');
  // Lost mode on its way counts as lost for what follows it (an unlock must not open a lost device).
  const lostOrGoing = c.lost || c.waitingAction === 'LOST_MODE_ON';
  if (!documentedSupport(c.action, c.platform, mode, lostOrGoing)) return 'NOT_SUPPORTED';
  if (c.action === 'WIPE' && c.ownership === 'EMPLOYEE' && !c.wipeEmployeeOwned) return 'POLICY';
  if (c.action === 'LOST_MODE' && c.lost) return 'IN_LOST_MODE';
  if (c.waitingAction && SAME_KIND[c.action].includes(c.waitingAction)) return 'ALREADY_WAITING';
  return null;
}

function command(action: CommandAction, overrides: Partial<CommandRecord> = {}): CommandRecord {
  return {
    commandId: `c-${action}`,
    userSub: ALICE_SUB,
    deviceId: 'dev-active-1',
    action,
    status: 'QUEUED',
    createdAt: '2025-06-02T09:00:00.000Z',
    expiresAt: '2025-06-05T09:00:00.000Z',
    ...overrides,
  };
}

function device(
  c: Pick<Case, 'platform' | 'mode' | 'ownership' | 'status' | 'lost' | 'container'>,
): DeviceRecord {
  return deviceRecord({
    platform: c.platform,
    secureAppsContainer: c.container,
    ownership: c.ownership,
    status: c.status,
    ...(c.mode ? { managementMode: c.mode } : {}),
    lostMode: c.lost
      ? { message: 'Call me', phoneNumber: '+15555550100', since: '2025-06-01T00:00:00Z' }
      : null,
  });
}

const allRoles: Role[] = [...ROLES];
const withoutRole = (role: Role): Role[] => allRoles.filter((r) => r !== role);

function* casesFor(action: DeviceAction, platform: Platform, mode: ManagementMode | undefined) {
  for (const ownership of OWNERSHIPS)
    for (const status of STATUSES)
      for (const lost of [false, true])
        for (const container of [false, true])
          for (const wipeEmployeeOwned of [false, true])
            for (const hasRole of [true, false])
              for (const waitingAction of [null, ...COMMAND_ACTIONS])
                yield {
                  action,
                  platform,
                  mode,
                  ownership,
                  status,
                  lost,
                  container,
                  wipeEmployeeOwned,
                  hasRole,
                  waitingAction,
                } satisfies Case;
}

const GRID = ACTIONS.flatMap((action) =>
  (['IOS', 'ANDROID'] as const).flatMap((platform) =>
    MODES[platform].map((mode) => [action, platform, mode ?? 'no reported mode'] as const),
  ),
);

describe('actionBlocker: the documented table', () => {
  it.each(GRID)(
    '%s on %s (%s) gives the documented reason for every ownership, status, lost mode, policy, role and waiting command',
    (action, platform, modeName) => {
      const mode = modeName === 'no reported mode' ? undefined : (modeName as ManagementMode);
      const mismatches: string[] = [];
      let checked = 0;
      for (const c of casesFor(action, platform, mode)) {
        const reason = actionBlocker(c.action, {
          device: device(c),
          roles: c.hasRole ? allRoles : withoutRole(ROLE_OF[c.action]),
          settings: { actionPolicy: { wipeEmployeeOwned: c.wipeEmployeeOwned } },
          waiting: c.waitingAction ? [command(c.waitingAction)] : [],
        });
        checked += 1;
        const expected = expectedCode(c);
        if ((reason?.code ?? null) !== expected) {
          mismatches.push(`${JSON.stringify(c)}: expected ${expected}, got ${reason?.code ?? null}`);
        }
        if (reason && reason.message.length === 0) mismatches.push(`${JSON.stringify(c)}: empty message`);
      }
      expect(checked).toBe(2 * STATUSES.length * 2 * 2 * 2 * 2 * (COMMAND_ACTIONS.length + 1));
      expect(mismatches).toEqual([]);
    },
  );
});

describe('actionBlocker: single rules', () => {
  const context = (overrides: Partial<DeviceRecord> = {}, roles: Role[] = allRoles) => ({
    device: deviceRecord({
      platform: 'IOS',
      managementMode: 'SUPERVISED',
      ownership: 'COMPANY',
      ...overrides,
    }),
    roles,
    settings: { actionPolicy: { wipeEmployeeOwned: false } },
    waiting: [] as CommandRecord[],
  });

  it('gives every action on a company-owned, active, supervised iPhone in lost mode but UNLOCK and LOST_MODE', () => {
    const lost = { lostMode: { message: 'Lost', since: '2025-06-01T00:00:00Z' } };
    const available = ACTIONS.filter((a) => actionBlocker(a, context(lost)) === null);
    expect(available).toEqual(['LOCK', 'LOCATE', 'WIPE', 'RETIRE']);
  });

  it('never unlocks a device in lost mode, not even a supervised company iPhone', () => {
    const reason = actionBlocker('UNLOCK', context({ lostMode: { since: '2025-06-01T00:00:00Z' } }));
    expect(reason?.code).toBe('NOT_SUPPORTED');
    expect(actionBlocker('UNLOCK', context())).toBeNull();
  });

  it('locates a supervised iPhone only in lost mode', () => {
    expect(actionBlocker('LOCATE', context())?.code).toBe('NOT_SUPPORTED');
    expect(actionBlocker('LOCATE', context({ lostMode: { since: '2025-06-01T00:00:00Z' } }))).toBeNull();
  });

  it('locates a fully managed Android device without lost mode', () => {
    expect(
      actionBlocker('LOCATE', context({ platform: 'ANDROID', managementMode: 'FULLY_MANAGED' })),
    ).toBeNull();
  });

  it('refuses a wipe of an employee-owned device with POLICY unless the policy allows it', () => {
    const employee = context({ ownership: 'EMPLOYEE' });
    expect(actionBlocker('WIPE', employee)?.code).toBe('POLICY');
    expect(
      actionBlocker('WIPE', { ...employee, settings: { actionPolicy: { wipeEmployeeOwned: true } } }),
    ).toBeNull();
  });

  it('gives IN_LOST_MODE to lost mode on a device already in lost mode', () => {
    expect(actionBlocker('LOST_MODE', context({ lostMode: { since: '2025-06-01T00:00:00Z' } }))?.code).toBe(
      'IN_LOST_MODE',
    );
  });

  it('gives NOT_ACTIVE before the platform rule on a retired user-enrolled iPhone', () => {
    expect(
      actionBlocker('LOCK', context({ status: 'RETIRED', managementMode: 'USER_ENROLLMENT' }))?.code,
    ).toBe('NOT_ACTIVE');
  });

  it('gives ROLE_REQUIRED before NOT_ACTIVE, naming the role in the message', () => {
    const reason = actionBlocker('UNLOCK', context({ status: 'WIPED' }, withoutRole('unlock')));
    expect(reason?.code).toBe('ROLE_REQUIRED');
    expect(reason?.message).toContain('"unlock"');
  });

  it('never queues an unlock behind a waiting lost-mode-on: the device is about to be lost', () => {
    const reason = actionBlocker('UNLOCK', { ...context(), waiting: [command('LOST_MODE_ON')] });

    expect(reason?.code).toBe('NOT_SUPPORTED');
    expect(reason?.message).toMatch(/lost mode/);
  });

  it('gives ALREADY_WAITING for a lost-mode-off command waiting when lost mode is asked for again', () => {
    const reason = actionBlocker('LOST_MODE', { ...context(), waiting: [command('LOST_MODE_OFF')] });
    expect(reason?.code).toBe('ALREADY_WAITING');
  });

  it('does not count a waiting command of another kind', () => {
    expect(actionBlocker('LOCK', { ...context(), waiting: [command('UNLOCK')] })).toBeNull();
  });

  it('offers the secure-apps passcode reset on an active device reporting the container, with the role', () => {
    expect(actionBlocker('SECURE_APPS_PASSCODE', context({ secureAppsContainer: true }))).toBeNull();
  });

  it('gives NOT_SUPPORTED to the secure-apps passcode reset on a device without the container', () => {
    const reason = actionBlocker('SECURE_APPS_PASSCODE', context({ secureAppsContainer: false }));
    expect(reason?.code).toBe('NOT_SUPPORTED');
    expect(reason?.message).toMatch(/secure-apps container/);
  });

  it('gives NOT_ACTIVE to the secure-apps passcode reset on a retired device, container or not', () => {
    expect(
      actionBlocker('SECURE_APPS_PASSCODE', context({ status: 'RETIRED', secureAppsContainer: true }))?.code,
    ).toBe('NOT_ACTIVE');
  });

  it('gives ROLE_REQUIRED to the secure-apps passcode reset without its role, naming the role', () => {
    const reason = actionBlocker(
      'SECURE_APPS_PASSCODE',
      context({ secureAppsContainer: true }, withoutRole('reset-secure-apps-passcode')),
    );
    expect(reason?.code).toBe('ROLE_REQUIRED');
    expect(reason?.message).toContain('"reset-secure-apps-passcode"');
  });

  it('never gives ALREADY_WAITING to the secure-apps passcode reset, whatever command waits', () => {
    for (const waitingAction of COMMAND_ACTIONS) {
      expect(
        actionBlocker('SECURE_APPS_PASSCODE', {
          ...context({ secureAppsContainer: true }),
          waiting: [command(waitingAction)],
        }),
      ).toBeNull();
    }
  });

  it('maps every action to the documented role', () => {
    expect(ACTION_ROLE).toEqual(ROLE_OF);
  });
});

describe('managementModeOf', () => {
  it('treats an iPhone that reported no mode as user-enrolled', () => {
    expect(managementModeOf({ platform: 'IOS' })).toBe('USER_ENROLLMENT');
  });

  it('treats an Android device that reported no mode as a personal work profile', () => {
    expect(managementModeOf({ platform: 'ANDROID' })).toBe('WORK_PROFILE_PERSONAL');
  });

  it('keeps the mode the agent reported', () => {
    expect(managementModeOf({ platform: 'IOS', managementMode: 'SUPERVISED' })).toBe('SUPERVISED');
  });
});

describe('actionsFor', () => {
  const base = {
    device: deviceRecord({ platform: 'ANDROID', managementMode: 'FULLY_MANAGED', ownership: 'COMPANY' }),
    settings: { actionPolicy: { wipeEmployeeOwned: false } },
    waiting: [] as CommandRecord[],
  };

  it('lists every action in order; those the roles do not include say so (ROLE_REQUIRED)', () => {
    const listed = actionsFor({ ...base, roles: ['self-service', 'register-device', 'lock', 'locate'] });
    expect(listed.map((a) => a.action)).toEqual(ACTIONS);
    expect(listed.filter((a) => a.reason?.code === 'ROLE_REQUIRED').map((a) => a.action)).toEqual([
      'UNLOCK',
      'WIPE',
      'RETIRE',
      'SECURE_APPS_PASSCODE',
    ]);
  });

  it('lists all seven actions for a caller with every role, the secure-apps passcode reset last', () => {
    expect(actionsFor({ ...base, roles: allRoles }).map((a) => a.action)).toEqual(ACTIONS);
  });

  it('lists the secure-apps passcode reset as available on a device reporting the container', () => {
    const device = { ...base.device, secureAppsContainer: true };
    const entry = actionsFor({ ...base, device, roles: ['reset-secure-apps-passcode'] }).filter(
      (a) => a.action === 'SECURE_APPS_PASSCODE',
    );
    expect(entry).toEqual([
      {
        action: 'SECURE_APPS_PASSCODE',
        available: true,
        reason: null,
        needsRecentSignIn: false,
        consequence: consequenceOf('SECURE_APPS_PASSCODE', device),
      },
    ]);
  });

  it('gives a caller with no action role every action as unavailable for the role', () => {
    const listed = actionsFor({ ...base, roles: ['self-service'] });
    expect(listed.every((a) => !a.available && a.reason?.code === 'ROLE_REQUIRED')).toBe(true);
  });

  it('marks only WIPE and RETIRE as needing a recent sign-in', () => {
    const needs = actionsFor({ ...base, roles: allRoles })
      .filter((a) => a.needsRecentSignIn)
      .map((a) => a.action);
    expect(needs).toEqual(['WIPE', 'RETIRE']);
  });

  it('gives each action the consequence consequenceOf states for this device', () => {
    for (const entry of actionsFor({ ...base, roles: allRoles })) {
      expect(entry.consequence).toBe(consequenceOf(entry.action, base.device));
      expect(entry.consequence?.length).toBeGreaterThan(20);
    }
  });

  it('marks an action available exactly when the rule gives no reason, with that reason', () => {
    const device = deviceRecord({
      platform: 'IOS',
      managementMode: 'USER_ENROLLMENT',
      ownership: 'EMPLOYEE',
    });
    const listed = actionsFor({ ...base, device, roles: allRoles, waiting: [command('RETIRE')] });
    expect(listed.map((a) => [a.action, a.available, a.reason?.code ?? null])).toEqual([
      ['LOCK', false, 'NOT_SUPPORTED'],
      ['LOST_MODE', false, 'NOT_SUPPORTED'],
      ['UNLOCK', false, 'NOT_SUPPORTED'],
      ['LOCATE', false, 'NOT_SUPPORTED'],
      ['WIPE', false, 'NOT_SUPPORTED'],
      ['RETIRE', false, 'ALREADY_WAITING'],
      ['SECURE_APPS_PASSCODE', false, 'NOT_SUPPORTED'],
    ]);
  });
});

describe('consequenceOf', () => {
  it('warns that a wipe erases personal data too', () => {
    expect(consequenceOf('WIPE', deviceRecord())).toMatch(/erased for good.*own photos/);
  });

  it('says a lock of a work profile locks the work profile only', () => {
    const d = deviceRecord({ platform: 'ANDROID', managementMode: 'WORK_PROFILE_PERSONAL' });
    expect(consequenceOf('LOCK', d)).toMatch(/^The work profile locks/);
  });

  it('says retiring a user-enrolled iPhone removes the work part and keeps own data', () => {
    const d = deviceRecord({ platform: 'IOS', managementMode: 'USER_ENROLLMENT' });
    expect(consequenceOf('RETIRE', d)).toMatch(/^The work part is removed.*Your own apps and data stay/);
  });
});
