/**
 * The one rule for what a device action may do now (issue 11.2, reference/device-actions.md): the
 * user's role, the device's status, its platform and management mode, its ownership and the
 * administrator's policy, a command of the same kind already waiting. The device page shows it and
 * the action routes enforce it: the first reason that applies is the one given.
 */
import type { Role } from '../routes.ts';
import type {
  ActionAvailability,
  ActionReason,
  CommandAction,
  DeviceAction,
  ManagementMode,
  Platform,
} from './api-types.ts';
import type { CommandRecord } from './commands.ts';
import type { DeviceRecord } from './device.ts';
import type { PortalSettings } from './settings.ts';

export const DEVICE_ACTIONS: readonly DeviceAction[] = [
  'LOCK',
  'LOST_MODE',
  'UNLOCK',
  'LOCATE',
  'WIPE',
  'RETIRE',
  'SECURE_APPS_PASSCODE',
];

/** The role each action needs (lost mode is a lock with a message: the lock role). */
export const ACTION_ROLE: Record<DeviceAction, Role> = {
  LOCK: 'lock',
  LOST_MODE: 'lock',
  UNLOCK: 'unlock',
  LOCATE: 'locate',
  WIPE: 'wipe',
  RETIRE: 'retire',
  SECURE_APPS_PASSCODE: 'reset-secure-apps-passcode',
};

/** The commands that count as "this action already waiting". */
const COMMANDS_OF: Record<DeviceAction, readonly CommandAction[]> = {
  LOCK: ['LOCK'],
  LOST_MODE: ['LOST_MODE_ON', 'LOST_MODE_OFF'],
  UNLOCK: ['UNLOCK'],
  LOCATE: ['LOCATE'],
  WIPE: ['WIPE'],
  RETIRE: ['RETIRE'],
  // A one-time PIN is answered at once: nothing waits for the device.
  SECURE_APPS_PASSCODE: [],
};

/** A device enrolled before it reported its mode is treated as the least managed kind. */
export function managementModeOf(device: Pick<DeviceRecord, 'platform' | 'managementMode'>): ManagementMode {
  return device.managementMode ?? (device.platform === 'IOS' ? 'USER_ENROLLMENT' : 'WORK_PROFILE_PERSONAL');
}

const MODE_WORDS: Record<ManagementMode, string> = {
  SUPERVISED: 'a supervised iPhone or iPad (company-owned, Automated Device Enrollment)',
  DEVICE_ENROLLMENT: 'an iPhone or iPad enrolled with a profile, unsupervised',
  USER_ENROLLMENT:
    'an iPhone or iPad enrolled by its owner (User Enrollment), where the company manages only a work volume',
  FULLY_MANAGED: 'a fully managed Android device',
  WORK_PROFILE_COMPANY: 'a company-owned Android device with a work profile',
  WORK_PROFILE_PERSONAL:
    'a personal Android device with a work profile, where the company manages only that profile',
};

/** What each platform and mode allows (device-actions.md "Actions"). */
function supported(
  action: DeviceAction,
  platform: Platform,
  mode: ManagementMode,
  lost: boolean,
): string | null {
  const ios = platform === 'IOS';
  const androidCompany = mode === 'FULLY_MANAGED' || mode === 'WORK_PROFILE_COMPANY';
  const says = `this is ${MODE_WORDS[mode]}`;
  switch (action) {
    case 'LOCK':
      return ios && mode === 'USER_ENROLLMENT'
        ? `Locking needs a device the company manages as a whole; ${says}.`
        : null;
    case 'LOST_MODE':
      if (ios) return mode === 'SUPERVISED' ? null : `Lost mode needs a supervised iPhone or iPad; ${says}.`;
      return androidCompany ? null : `Lost mode needs a company-owned Android device; ${says}.`;
    case 'UNLOCK':
      if (lost) return 'A device in lost mode is never unlocked from the portal: turn lost mode off first.';
      if (ios) {
        return mode === 'SUPERVISED' || mode === 'DEVICE_ENROLLMENT'
          ? null
          : `Clearing the passcode needs a device the company manages as a whole; ${says}.`;
      }
      return androidCompany ? null : `Clearing the passcode needs a company-owned Android device; ${says}.`;
    case 'LOCATE':
      if (ios) {
        if (mode !== 'SUPERVISED') return `Locating needs a supervised iPhone or iPad; ${says}.`;
        return lost ? null : 'An iPhone or iPad can be located only in lost mode: turn lost mode on first.';
      }
      return androidCompany ? null : `Locating needs a company-owned Android device; ${says}.`;
    case 'WIPE':
      if (ios)
        return mode === 'USER_ENROLLMENT'
          ? `A full wipe needs a device the company manages as a whole; ${says}.`
          : null;
      return androidCompany
        ? null
        : `A full wipe needs a company-owned Android device; ${says}: retire removes the work profile.`;
    case 'RETIRE':
    case 'SECURE_APPS_PASSCODE':
      return null;
  }
}

/** What the action will do to this device, said before it runs. */
export function consequenceOf(action: DeviceAction, device: DeviceRecord): string {
  const mode = managementModeOf(device);
  const profileOnly =
    mode === 'USER_ENROLLMENT' || mode === 'WORK_PROFILE_PERSONAL' || mode === 'WORK_PROFILE_COMPANY';
  switch (action) {
    case 'LOCK':
      return mode.startsWith('WORK_PROFILE')
        ? 'The work profile locks at once; opening work apps again needs the work passcode.'
        : 'The device locks at once; it needs its passcode to open.';
    case 'LOST_MODE':
      return 'The device locks, and your message and phone number stay on its lock screen until lost mode is turned off.';
    case 'UNLOCK':
      return 'The passcode is cleared: anyone holding the device can then open it.';
    case 'LOCATE':
      return 'The device reports where it is; the company sees the position.';
    case 'WIPE':
      return 'Everything on the device is erased for good, your own photos, messages and apps included, and it is reset to factory settings. Back up what you want to keep first. The device then leaves this portal.';
    case 'SECURE_APPS_PASSCODE':
      return 'A one-time PIN is shown once. In the agent app choose Forgot passcode, enter your user name and the PIN, then set a new secure-apps passcode.';
    case 'RETIRE':
      return profileOnly
        ? 'The work part is removed: work apps, mail, Wi-Fi and certificates the company installed. Your own apps and data stay. The device then leaves this portal.'
        : 'Only what the company put on the device is removed: work apps, mail, Wi-Fi and certificates. Your own apps and data stay. The device then leaves this portal.';
  }
}

/** Why the action cannot run now, or null when it can (the first reason that applies). */
export function actionBlocker(
  action: DeviceAction,
  context: {
    device: DeviceRecord;
    roles: readonly Role[];
    settings: Pick<PortalSettings, 'actionPolicy'>;
    waiting: readonly CommandRecord[];
  },
): ActionReason | null {
  const { device, roles, settings, waiting } = context;
  if (!roles.includes(ACTION_ROLE[action])) {
    return {
      code: 'ROLE_REQUIRED',
      message: `Your portal role does not allow this (needs "${ACTION_ROLE[action]}"). Ask your helpdesk if you need it.`,
    };
  }
  if (device.status !== 'ACTIVE') {
    return {
      code: 'NOT_ACTIVE',
      message: `This device is ${device.status.toLowerCase()}; only an active device takes commands.`,
    };
  }
  if (action === 'SECURE_APPS_PASSCODE' && !device.secureAppsContainer) {
    return {
      code: 'NOT_SUPPORTED',
      message:
        'The agent on this device has no secure-apps container, so there is no secure-apps passcode to reset.',
    };
  }
  // Lost mode on its way counts as lost: an unlock queued behind it would open a lost device.
  const lost = !!device.lostMode || waiting.some((command) => command.action === 'LOST_MODE_ON');
  const unsupported = supported(action, device.platform, managementModeOf(device), lost);
  if (unsupported) return { code: 'NOT_SUPPORTED', message: unsupported };
  if (action === 'WIPE' && device.ownership === 'EMPLOYEE' && !settings.actionPolicy.wipeEmployeeOwned) {
    return {
      code: 'POLICY',
      message:
        'Your administrator does not allow a full wipe of an employee-owned device. Retire it instead: that removes only what the company put there.',
    };
  }
  if (action === 'LOST_MODE' && device.lostMode) {
    return { code: 'IN_LOST_MODE', message: 'Lost mode is on. Turn it off first to change its message.' };
  }
  if (waiting.some((command) => COMMANDS_OF[action].includes(command.action))) {
    return {
      code: 'ALREADY_WAITING',
      message: 'This is already waiting for the device: it runs when the device next checks in.',
    };
  }
  return null;
}

/**
 * Every action, with whether it can run now and why not (the device page). One the user's roles do
 * not include is listed too, with that reason: when an administrator takes a role away, the icon
 * says why it no longer works instead of vanishing.
 */
export function actionsFor(context: {
  device: DeviceRecord;
  roles: readonly Role[];
  settings: Pick<PortalSettings, 'actionPolicy'>;
  waiting: readonly CommandRecord[];
}): ActionAvailability[] {
  return DEVICE_ACTIONS.map((action) => {
    const reason = actionBlocker(action, context);
    return {
      action,
      available: reason === null,
      reason,
      needsRecentSignIn: action === 'WIPE' || action === 'RETIRE',
      consequence: consequenceOf(action, context.device),
    };
  });
}
