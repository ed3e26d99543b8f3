/** Words for the device page and the activity feed: actions, commands, management modes. */
import type {
  ActivityEvent,
  CommandStatus,
  CommandSummary,
  DeviceAction,
  ManagementMode,
} from '../../../functions/core/api-types.ts';
import { COMMAND_WORDS } from '../../../functions/core/command-words.ts';
import type { IconName } from '../ui/icons.tsx';

export const MANAGEMENT_MODE_LABEL: Record<ManagementMode, string> = {
  SUPERVISED: 'Supervised: the company manages the whole device',
  DEVICE_ENROLLMENT: 'Device enrollment: the company manages the device (not supervised)',
  USER_ENROLLMENT: 'User enrollment: the company manages a separate work area only',
  FULLY_MANAGED: 'Fully managed: the company manages the whole device',
  WORK_PROFILE_COMPANY: 'Work profile on a company-owned device',
  WORK_PROFILE_PERSONAL: 'Work profile on a personal device: the company manages the work profile only',
};

export const ACTION_LABEL: Record<DeviceAction, string> = {
  LOCK: 'Lock',
  LOST_MODE: 'Lost mode',
  UNLOCK: 'Unlock',
  LOCATE: 'Locate',
  WIPE: 'Wipe',
  RETIRE: 'Retire',
  SECURE_APPS_PASSCODE: 'Reset secure apps passcode',
};

export const ACTION_ICON: Record<DeviceAction, IconName> = {
  LOCK: 'lock',
  LOST_MODE: 'lostMode',
  UNLOCK: 'unlock',
  LOCATE: 'locate',
  WIPE: 'wipe',
  RETIRE: 'retire',
  SECURE_APPS_PASSCODE: 'key',
};

/** The server's own words for commands (the activity feed uses the same table). */
export const COMMAND_LABEL = COMMAND_WORDS;

/** A command in words, naming the certificate it installs or removes: Install certificate “Alice S/MIME”. */
export function commandLabel(command: Pick<CommandSummary, 'action' | 'certificate'>): string {
  const base = COMMAND_LABEL[command.action];
  return command.certificate ? `${base} “${command.certificate.name}”` : base;
}

export const COMMAND_STATUS_LABEL: Record<CommandStatus, string> = {
  QUEUED: 'Queued',
  SENT: 'Sent to the device',
  DONE: 'Done',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  EXPIRED: 'Expired',
};

export const ACTOR_LABEL: Record<ActivityEvent['actor'], string> = {
  USER: 'You',
  DEVICE: 'The device',
  PORTAL: 'The portal',
};

/** The command is still on its way: QUEUED or SENT. */
export function isWaiting(status: CommandStatus): boolean {
  return status === 'QUEUED' || status === 'SENT';
}
