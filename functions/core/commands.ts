/**
 * Device commands (issue 11): queued in the portal, handed to the agent at check-in (QUEUED → SENT by
 * a conditional write), reported DONE or FAILED by the agent; a QUEUED one can be cancelled, and one
 * not picked up in time is EXPIRED. A command's state change and its audit event are one write.
 */
import type { Role } from '../routes.ts';
import type {
  AgentCommand,
  AgentCommandResultRequest,
  CommandAction,
  CommandCertificate,
  CommandStatus,
  CommandSummary,
  DeviceAction,
  DeviceDetailResponse,
  LockScreen,
  Position,
} from './api-types.ts';
import { auditEvent, type RequestOrigin } from './audit.ts';
import { type CertificateRecord, deliveryResult, type StoredDelivery } from './certificates.ts';
import { type DeviceRecord, toDeviceSummary } from './device.ts';
import { ACTION_ROLE, actionBlocker, actionsFor } from './device-actions.ts';
import { PortalError } from './errors.ts';
import type { AuditEvent, Caller, Clock, Metrics, RandomSource, SettingsStore } from './ports.ts';
import { ConcurrentUpdateError } from './ports.ts';
import { derivedCredentialOffered, type PortalSettings } from './settings.ts';

/** A command as stored next to its device (pk USER#{sub}, sk DEVICE#{deviceId}#CMD#{commandId}). */
export interface CommandRecord {
  commandId: string;
  userSub: string;
  deviceId: string;
  action: CommandAction;
  /** Stored states; EXPIRED is worked out from expiresAt (effectiveCommandStatus). */
  status: Exclude<CommandStatus, 'EXPIRED'>;
  createdAt: string;
  expiresAt: string;
  sentAt?: string;
  completedAt?: string;
  lockScreen?: LockScreen;
  error?: string;
  position?: Position;
  /** INSTALL_CERTIFICATE, REMOVE_CERTIFICATE. */
  certificate?: CommandCertificate;
}

/** Reads and conditional writes of commands (the DynamoDB adapter, or the in-memory fake). */
export interface CommandStore {
  /** The device and its commands, read together (one Query on DEVICE#{deviceId}). */
  getDeviceWithCommands(
    userSub: string,
    deviceId: string,
  ): Promise<{ device: DeviceRecord; commands: CommandRecord[] } | null>;
  /**
   * Puts the new command, bumps the device's version (so a parallel identical request loses and sees
   * this one waiting) and writes the audit event, in one transaction.
   */
  putCommand(device: DeviceRecord, command: CommandRecord, audit: AuditEvent): Promise<void>;
  /**
   * Moves each command from `from` to `command.status` (only if it still is `from`), with the device
   * written at its next version and the audit events, in one transaction.
   */
  updateCommands(change: CommandsChange): Promise<void>;
  /** The certificate an INSTALL_CERTIFICATE names, to record the device's result on it. */
  getCertificate(userSub: string, certificateId: string): Promise<CertificateRecord | null>;
}

export interface CommandsChange {
  device?: { record: DeviceRecord; expectedVersion: number };
  commands: { command: CommandRecord; from: CommandRecord['status'] }[];
  audit: AuditEvent[];
  /** An install's result, kept on the certificate (only while it still is that file). */
  certificateDelivery?: {
    userSub: string;
    certificateId: string;
    fingerprintSha256: string;
    deviceId: string;
    delivery: StoredDelivery;
  };
}

export interface CommandPorts {
  store: CommandStore & SettingsStore;
  clock: Clock;
  random: RandomSource;
  metrics: Metrics;
  /** Wakes the device so it checks in now (SNS mobile push); never throws. */
  wakeUp(device: DeviceRecord): Promise<void>;
  /** Tells the user by email what was done to their device; never throws. */
  notify?(event: ActionNotice): Promise<void>;
}

export interface ActionNotice {
  userSub: string;
  username: string;
  device: DeviceRecord;
  command: CommandRecord;
  what: 'QUEUED' | 'DONE' | 'FAILED';
}

/** How often an agent checks in when no wake-up comes. */
export const CHECK_IN_INTERVAL_S = 15 * 60;

/** Finished commands are kept this long (the device page shows recent ones). */
const COMMAND_RETENTION_DAYS = 90;
const MAX_RACE_RETRIES = 5;

const COMMAND_OF: Record<Exclude<DeviceAction, 'LOST_MODE' | 'SECURE_APPS_PASSCODE'>, CommandAction> = {
  LOCK: 'LOCK',
  UNLOCK: 'UNLOCK',
  LOCATE: 'LOCATE',
  WIPE: 'WIPE',
  RETIRE: 'RETIRE',
};

/** The certificate deliveries, which follow the Certificates page rather than a device action. */
export type CertificateCommandAction = 'INSTALL_CERTIFICATE' | 'REMOVE_CERTIFICATE';

export function isCertificateCommand(action: CommandAction): action is CertificateCommandAction {
  return action === 'INSTALL_CERTIFICATE' || action === 'REMOVE_CERTIFICATE';
}

/**
 * The audit detail of a command: "LOCK <id>", and for a certificate its name in quotes, so the
 * activity feed says which one ("Install certificate “Alice S/MIME” done"). An error follows ": ".
 */
export function commandDetail(command: Pick<CommandRecord, 'action' | 'commandId' | 'certificate'>): string {
  const name = command.certificate?.name.replace(/[“”:]/g, ' ').replace(/\s+/g, ' ').trim();
  return `${command.action} ${command.commandId}${name ? ` “${name}”` : ''}`;
}

/** The device action a command belongs to; null for certificate deliveries. */
export function deviceActionOf(action: CommandAction): Exclude<DeviceAction, 'SECURE_APPS_PASSCODE'> | null {
  if (isCertificateCommand(action)) return null;
  return action === 'LOST_MODE_ON' || action === 'LOST_MODE_OFF' ? 'LOST_MODE' : action;
}

export function commandRetentionTtl(command: CommandRecord): number {
  return Math.floor(Date.parse(command.createdAt) / 1000) + COMMAND_RETENTION_DAYS * 24 * 3600;
}

export function effectiveCommandStatus(command: CommandRecord, now: Date): CommandStatus {
  return command.status === 'QUEUED' && Date.parse(command.expiresAt) <= now.getTime()
    ? 'EXPIRED'
    : command.status;
}

export function isWaiting(command: CommandRecord, now: Date): boolean {
  const status = effectiveCommandStatus(command, now);
  return status === 'QUEUED' || status === 'SENT';
}

export function toCommandSummary(command: CommandRecord, now: Date): CommandSummary {
  const status = effectiveCommandStatus(command, now);
  return {
    commandId: command.commandId,
    action: command.action,
    status,
    createdAt: command.createdAt,
    expiresAt: command.expiresAt,
    sentAt: command.sentAt ?? null,
    completedAt: command.completedAt ?? null,
    lockScreen: command.lockScreen ?? null,
    error: command.error ?? null,
    position: command.position ?? null,
    certificate: command.certificate ?? null,
    canCancel: status === 'QUEUED' && !isCertificateCommand(command.action),
  };
}

/** Waiting first, then the rest; newest first within each. */
function byRelevance(now: Date) {
  return (a: CommandRecord, b: CommandRecord) =>
    Number(isWaiting(b, now)) - Number(isWaiting(a, now)) || b.createdAt.localeCompare(a.createdAt);
}

/** Whether the user may change Employee ↔ Company, and why not (the administrator's settings). */
export function ownershipChangeFor(
  roles: readonly Role[],
  settings: Pick<PortalSettings, 'usersMayChooseOwnership'>,
  device: DeviceRecord,
): DeviceDetailResponse['ownershipChange'] {
  const reason = !roles.includes('change-ownership')
    ? 'Your portal role does not allow changing the ownership. Ask your helpdesk if it is wrong.'
    : !settings.usersMayChooseOwnership
      ? 'Your administrator sets the ownership of devices. Ask your helpdesk if it is wrong.'
      : device.status !== 'ACTIVE' && device.status !== 'PENDING'
        ? `This device is ${device.status.toLowerCase()}; its ownership no longer changes.`
        : null;
  return { allowed: reason === null, reason, needsRecentSignIn: true };
}

const NOT_FOUND = () =>
  new PortalError('NOT_FOUND', 'DEVICE_NOT_FOUND', 'There is no such device in your list.');

/** GET /api/devices/{deviceId}: the device, what each action allows now, its commands. */
export async function getDeviceDetail(
  ports: Pick<CommandPorts, 'store' | 'clock'>,
  caller: Caller & { roles: Role[] },
  deviceId: string,
  /** The settings the request already read (the shared stack's), else they are read here. */
  known?: PortalSettings,
  /** The device read already started for this caller and id (the handler's prefetch), else read here. */
  reading?: Promise<{ device: DeviceRecord; commands: CommandRecord[] } | null>,
): Promise<DeviceDetailResponse> {
  const [found, settings] = await Promise.all([
    reading ?? ports.store.getDeviceWithCommands(caller.sub, deviceId),
    known ?? ports.store.getSettings(),
  ]);
  if (!found) throw NOT_FOUND();
  const now = ports.clock.now();
  const { device, commands } = found;
  const waiting = commands.filter((c) => isWaiting(c, now));
  const nextDue =
    device.status === 'ACTIVE' && device.lastCheckInAt
      ? new Date(Date.parse(device.lastCheckInAt) + CHECK_IN_INTERVAL_S * 1000).toISOString()
      : null;
  return {
    device: {
      ...toDeviceSummary(device, now, derivedCredentialOffered(settings)),
      managementMode: device.managementMode ?? null,
      lostMode: device.lostMode ?? null,
      lastPosition: device.lastPosition ?? null,
      nextCheckInDueAt: nextDue,
      secureAppsContainer: device.secureAppsContainer === true,
    },
    actions: actionsFor({ device, roles: caller.roles, settings, waiting }),
    ownershipChange: ownershipChangeFor(caller.roles, settings, device),
    commands: [...commands]
      .sort(byRelevance(now))
      .slice(0, 20)
      .map((c) => toCommandSummary(c, now)),
  };
}

/**
 * POST /api/devices/{deviceId}/lock, …/lost-mode, …/unlock, …/locate, …/wipe, …/retire and DELETE
 * …/lost-mode: queues the command, or answers the one of the same kind already waiting. Refused with
 * the rule's own reason (409) when the device or the policy does not allow it.
 */
export async function requestAction(
  ports: CommandPorts,
  caller: Caller & { roles: Role[] },
  deviceId: string,
  request: {
    action: Exclude<DeviceAction, 'SECURE_APPS_PASSCODE'>;
    lostMode?: 'ON' | 'OFF';
    lockScreen?: LockScreen;
  },
  origin: RequestOrigin,
): Promise<{ command: CommandSummary; queued: boolean }> {
  const settings = await ports.store.getSettings();
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const found = await ports.store.getDeviceWithCommands(caller.sub, deviceId);
    if (!found) throw NOT_FOUND();
    const now = ports.clock.now();
    const { device } = found;
    const waiting = found.commands.filter((c) => isWaiting(c, now));
    const commandAction: CommandAction =
      request.action === 'LOST_MODE'
        ? request.lostMode === 'OFF'
          ? 'LOST_MODE_OFF'
          : 'LOST_MODE_ON'
        : COMMAND_OF[request.action];
    const same = waiting.find((c) => c.action === commandAction);
    if (same) return { command: toCommandSummary(same, now), queued: false };
    if (waiting.some((c) => deviceActionOf(c.action) === request.action)) {
      // Lost mode on while "off" still waits (or the reverse): one change of lost mode at a time.
      throw new PortalError(
        'CONFLICT',
        'ALREADY_WAITING',
        'Lost mode is already being changed: wait until the device has done it, or cancel the waiting command.',
      );
    }
    if (commandAction === 'LOST_MODE_OFF') {
      if (device.status !== 'ACTIVE')
        throw new PortalError(
          'CONFLICT',
          'NOT_ACTIVE',
          `This device is ${device.status.toLowerCase()}; only an active device takes commands.`,
        );
      if (!device.lostMode && !waiting.some((c) => c.action === 'LOST_MODE_ON')) {
        throw new PortalError('CONFLICT', 'NOT_IN_LOST_MODE', 'Lost mode is not on for this device.');
      }
    } else {
      // The waiting commands count (lost mode on its way blocks an unlock), except the kind asked for.
      const others = waiting.filter((c) => deviceActionOf(c.action) !== request.action);
      const reason = actionBlocker(request.action, {
        device,
        roles: caller.roles,
        settings,
        waiting: others,
      });
      if (reason)
        throw new PortalError(
          reason.code === 'ROLE_REQUIRED' ? 'FORBIDDEN' : 'CONFLICT',
          reason.code,
          reason.message,
        );
    }
    const command: CommandRecord = {
      commandId: ports.random.uuid(),
      userSub: caller.sub,
      deviceId,
      action: commandAction,
      status: 'QUEUED',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + settings.commandLifetimeHours * 3600_000).toISOString(),
      ...(request.lockScreen && (request.lockScreen.message || request.lockScreen.phoneNumber)
        ? { lockScreen: request.lockScreen }
        : {}),
    };
    try {
      await ports.store.putCommand(
        device,
        command,
        auditEvent(ports, origin, {
          userSub: caller.sub,
          deviceId,
          action: 'COMMAND_QUEUED',
          detail: commandDetail(command),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      ports.metrics.count('LostRace');
      continue; // a parallel request (or the device) changed it: look again
    }
    await ports.wakeUp(device);
    await ports.notify?.({ userSub: caller.sub, username: caller.username, device, command, what: 'QUEUED' });
    return { command: toCommandSummary(command, now), queued: true };
  }
  throw new PortalError('CONFLICT', 'BUSY', 'The device changed several times meanwhile. Try again.');
}

/** DELETE /api/devices/{deviceId}/commands/{commandId}: only while the device has not picked it up. */
export async function cancelCommand(
  ports: Pick<CommandPorts, 'store' | 'clock' | 'random'>,
  caller: Caller & { roles: Role[] },
  deviceId: string,
  commandId: string,
  origin: RequestOrigin,
): Promise<CommandSummary> {
  const found = await ports.store.getDeviceWithCommands(caller.sub, deviceId);
  const command = found?.commands.find((c) => c.commandId === commandId);
  if (!found || !command) {
    throw new PortalError('NOT_FOUND', 'COMMAND_NOT_FOUND', 'There is no such command for this device.');
  }
  const deviceAction = deviceActionOf(command.action);
  if (deviceAction === null) {
    throw new PortalError(
      'CONFLICT',
      'FOLLOWS_CERTIFICATES',
      'Certificates reach your devices as you keep them on the Certificates page: delete the certificate there instead.',
    );
  }
  // Cancelling takes the role the action itself needs.
  const role = ACTION_ROLE[deviceAction];
  if (!caller.roles.includes(role)) {
    throw new PortalError(
      'FORBIDDEN',
      'ROLE_REQUIRED',
      `Your portal role does not allow this (needs "${role}"). Ask your helpdesk if you need it.`,
    );
  }
  const now = ports.clock.now();
  const tooLate = () =>
    new PortalError(
      'CONFLICT',
      'ALREADY_PICKED_UP',
      'The device has already picked this up, so it can no longer be cancelled.',
    );
  const status = effectiveCommandStatus(command, now);
  if (status === 'EXPIRED') {
    throw new PortalError(
      'CONFLICT',
      'COMMAND_EXPIRED',
      'This command expired: the device never picked it up, so there is nothing to cancel.',
    );
  }
  if (status !== 'QUEUED') throw tooLate();
  const cancelled: CommandRecord = { ...command, status: 'CANCELLED', completedAt: now.toISOString() };
  try {
    await ports.store.updateCommands({
      commands: [{ command: cancelled, from: 'QUEUED' }],
      audit: [
        auditEvent(ports, origin, {
          userSub: caller.sub,
          deviceId,
          action: 'COMMAND_CANCELLED',
          detail: commandDetail(command),
        }),
      ],
    });
  } catch (error) {
    if (error instanceof ConcurrentUpdateError) throw tooLate(); // the device took it first
    throw error;
  }
  return toCommandSummary(cancelled, now);
}

/**
 * The check-in's handover: the waiting commands go QUEUED → SENT in the same transaction as the
 * device's check-in write, so a cancel racing it either wins (the command is not handed over) or
 * loses (409), never both. Expired ones are left behind.
 */
export function handOver(
  commands: readonly CommandRecord[],
  now: Date,
): { sent: CommandRecord[]; forAgent: AgentCommand[] } {
  const due = commands
    .filter((c) => effectiveCommandStatus(c, now) === 'QUEUED')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const sent = due.map((c) => ({ ...c, status: 'SENT' as const, sentAt: now.toISOString() }));
  return {
    sent,
    forAgent: sent.map((c) => ({
      commandId: c.commandId,
      action: c.action,
      lockScreen: c.lockScreen ?? null,
      ...(c.certificate ? { certificate: c.certificate } : {}),
    })),
  };
}

/**
 * POST /api/agent/commands/{commandId}/result: DONE or FAILED. A DONE wipe or retire ends the device
 * (WIPED, RETIRED) and revokes its credential in the same transaction; lost mode and locate update
 * what the device page shows.
 */
export async function recordResult(
  ports: CommandPorts,
  device: DeviceRecord,
  commandId: string,
  result: AgentCommandResultRequest,
  origin: RequestOrigin,
): Promise<CommandSummary> {
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const found = await ports.store.getDeviceWithCommands(device.userSub, device.deviceId);
    const command = found?.commands.find((c) => c.commandId === commandId);
    if (!found || !command) {
      throw new PortalError('NOT_FOUND', 'COMMAND_NOT_FOUND', 'This device has no such command.');
    }
    if (command.status !== 'SENT') {
      throw new PortalError(
        'CONFLICT',
        'NOT_SENT',
        `This command is ${command.status.toLowerCase()}; its result was taken already or it was never handed over.`,
      );
    }
    if (result.status === 'DONE' && command.action === 'LOCATE' && !result.position) {
      throw new PortalError('INVALID', 'POSITION_REQUIRED', 'A locate result needs the position.');
    }
    const now = ports.clock.now().toISOString();
    const done = result.status === 'DONE';
    const finished: CommandRecord = {
      ...command,
      status: result.status,
      completedAt: now,
      ...(result.error ? { error: result.error } : {}),
      ...(done && result.position ? { position: result.position } : {}),
    };
    const current = found.device;
    let next: DeviceRecord | null = null;
    if (done) {
      switch (command.action) {
        case 'WIPE':
        case 'RETIRE': {
          const { credentialHash: _revoked, ...rest } = current;
          next = { ...rest, status: command.action === 'WIPE' ? 'WIPED' : 'RETIRED', lostMode: null };
          break;
        }
        case 'LOST_MODE_ON':
          next = { ...current, lostMode: { ...(command.lockScreen ?? {}), since: now } };
          break;
        case 'LOST_MODE_OFF':
          next = { ...current, lostMode: null };
          break;
        case 'LOCATE':
          next = result.position ? { ...current, lastPosition: result.position } : null;
          break;
        default:
          next = null;
      }
    }
    const certificateId =
      command.action === 'INSTALL_CERTIFICATE' ? command.certificate?.certificateId : undefined;
    const certificateDelivery = certificateId
      ? deliveryResult(await ports.store.getCertificate(device.userSub, certificateId), command, result, now)
      : null;
    try {
      await ports.store.updateCommands({
        ...(next ? { device: { record: next, expectedVersion: current.version } } : {}),
        ...(certificateDelivery
          ? { certificateDelivery: { userSub: device.userSub, ...certificateDelivery } }
          : {}),
        commands: [{ command: finished, from: 'SENT' }],
        audit: [
          auditEvent(ports, origin, {
            userSub: device.userSub,
            deviceId: device.deviceId,
            action: done ? 'COMMAND_DONE' : 'COMMAND_FAILED',
            result: done ? 'SUCCESS' : 'FAILURE',
            detail: `${commandDetail(command)}${result.error ? `: ${result.error.slice(0, 200)}` : ''}`,
          }),
        ],
      });
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      ports.metrics.count('LostRace');
      continue;
    }
    // Certificates come and go as the user keeps them: no mail for each device that installed one.
    if (!isCertificateCommand(command.action))
      await ports.notify?.({
        userSub: device.userSub,
        username: '',
        device: next ?? current,
        command: finished,
        what: done ? 'DONE' : 'FAILED',
      });
    return toCommandSummary(finished, ports.clock.now());
  }
  throw new PortalError('CONFLICT', 'BUSY', 'The device record is busy. Send the result again in a moment.');
}
