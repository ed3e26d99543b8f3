/**
 * The user's activity feed (issue 11.9): their audit trail, newest first, across all devices or for
 * one, a page at a time with an opaque cursor that can only ever continue the caller's own feed.
 */
import type { ActivityEvent, ActivityResponse } from './api-types.ts';
import { COMMAND_WORDS } from './command-words.ts';
import { PortalError } from './errors.ts';
import type { AuditEvent } from './ports.ts';

/** Where a page ended: the last event's sort position (never a raw table key). */
export interface AuditPosition {
  at: string;
  id: string;
}

export interface AuditReader {
  /** The user's events newest first, after `after` when given; one more than `limit` says there is more. */
  listAudit(
    userSub: string,
    options: { deviceId?: string; limit: number; after?: AuditPosition },
  ): Promise<AuditEvent[]>;
  /** The device, to answer 404 for one that is not the caller's. */
  getDevice(userSub: string, deviceId: string): Promise<unknown>;
}

export const ACTIVITY_PAGE_SIZE = 25;

const ACTIONS: Record<string, { summary: (detail: string) => string; actor: ActivityEvent['actor'] }> = {
  REGISTRATION_CREATED: { summary: (d) => `Registration started (${d || 'PIN'})`, actor: 'USER' },
  REGISTRATION_RESENT: { summary: () => 'New PIN, QR code or invitation sent', actor: 'USER' },
  REGISTRATION_CANCELLED: { summary: () => 'Registration cancelled', actor: 'USER' },
  REGISTRATION_VERIFIED: { summary: (d) => `Verified at /go (${d || 'PIN'})`, actor: 'DEVICE' },
  REGISTRATION_PIN_REJECTED: {
    summary: () => 'A wrong registration PIN was entered at /go',
    actor: 'DEVICE',
  },
  DEVICE_ENROLLED: { summary: (d) => `Device registered${d ? `: ${d}` : ''}`, actor: 'DEVICE' },
  DEVICE_REMOVED: { summary: () => 'Removed from the list', actor: 'USER' },
  COMMAND_QUEUED: { summary: (d) => `${commandWords(d)} requested`, actor: 'USER' },
  COMMAND_CANCELLED: {
    summary: (d) => `${commandWords(d)} cancelled before the device picked it up`,
    actor: 'USER',
  },
  COMMAND_SENT: { summary: (d) => `${commandWords(d)} picked up by the device`, actor: 'DEVICE' },
  COMMAND_DONE: { summary: (d) => `${commandWords(d)} done`, actor: 'DEVICE' },
  COMMAND_FAILED: { summary: (d) => `${commandWords(d)} failed${errorOf(d)}`, actor: 'DEVICE' },
  NOTICE_FAILED: { summary: () => 'The email notice could not be sent', actor: 'PORTAL' },
  OWNERSHIP_CHANGED: {
    summary: (d) =>
      `Ownership changed${d ? ` (${d.replace('EMPLOYEE', 'Employee').replace('COMPANY', 'Company')})` : ''}`,
    actor: 'USER',
  },
  DEVICE_RENAMED: { summary: (d) => `Renamed${d ? `: ${d}` : ''}`, actor: 'USER' },
  SECURE_APPS_PIN_ISSUED: { summary: () => 'One-time PIN for the secure-apps passcode shown', actor: 'USER' },
  SECURE_APPS_PIN_REJECTED: {
    summary: () => 'A wrong one-time PIN for the secure-apps passcode was entered on the device',
    actor: 'DEVICE',
  },
  SECURE_APPS_PIN_USED: { summary: () => 'Secure-apps passcode reset on the device', actor: 'DEVICE' },
  DERIVED_CREDENTIAL_STARTED: { summary: () => 'Derived credential: sent to Entrust', actor: 'USER' },
  DERIVED_CREDENTIAL_REQUESTED: { summary: () => 'Derived credential requested', actor: 'USER' },
  CERTIFICATE_UPLOADED: { summary: (d) => `Certificate uploaded${d ? `: ${d}` : ''}`, actor: 'USER' },
  CERTIFICATE_REPLACED: { summary: (d) => `Certificate replaced${d ? `: ${d}` : ''}`, actor: 'USER' },
  CERTIFICATE_DELETED: { summary: (d) => `Certificate deleted${d ? `: ${d}` : ''}`, actor: 'USER' },
  SETTINGS_CHANGED: { summary: (d) => `Portal settings changed${d ? `: ${d}` : ''}`, actor: 'USER' },
  DERIVED_CREDENTIAL_FAILED: {
    summary: () => 'Derived credential not requested: Entrust reported a failure',
    actor: 'USER',
  },
};

/** "LOCK 0f1e…" → "Lock"; "INSTALL_CERTIFICATE 0f1e… “Alice”" → "Install certificate “Alice”". */
function commandWords(detail: string): string {
  const action = detail.split(' ')[0] ?? '';
  const words = Object.hasOwn(COMMAND_WORDS, action)
    ? COMMAND_WORDS[action as keyof typeof COMMAND_WORDS]
    : 'A command';
  const name = /^\S+ \S+ (“[^”]*”)/.exec(detail)?.[1];
  return name ? `${words} ${name}` : words;
}

function errorOf(detail: string): string {
  const cut = detail.indexOf(': ');
  return cut > 0 ? `: ${detail.slice(cut + 2)}` : '';
}

export function toActivityEvent(event: AuditEvent): ActivityEvent {
  const known = ACTIONS[event.action];
  return {
    id: event.id,
    at: event.at,
    deviceId: event.deviceId,
    action: event.action,
    result: event.result,
    summary: known ? known.summary(event.detail ?? '') : event.action,
    actor: known?.actor ?? 'PORTAL',
  };
}

const BAD_CURSOR = () =>
  new PortalError(
    'INVALID',
    'CURSOR_INVALID',
    'This page link is damaged or old: start again from the first page.',
  );

function decodeCursor(cursor: string | undefined): AuditPosition | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<AuditPosition>;
    if (
      typeof value.at === 'string' &&
      typeof value.id === 'string' &&
      value.at.length <= 40 &&
      value.id.length <= 64
    ) {
      return { at: value.at, id: value.id };
    }
  } catch {
    // fall through
  }
  throw BAD_CURSOR();
}

const encodeCursor = (position: AuditPosition) => Buffer.from(JSON.stringify(position)).toString('base64url');

/** GET /api/activity and GET /api/devices/{deviceId}/activity. */
export async function listActivity(
  ports: { store: AuditReader },
  userSub: string,
  options: { deviceId?: string; cursor?: string },
): Promise<ActivityResponse> {
  if (options.deviceId && !(await ports.store.getDevice(userSub, options.deviceId))) {
    throw new PortalError('NOT_FOUND', 'DEVICE_NOT_FOUND', 'There is no such device in your list.');
  }
  const after = decodeCursor(options.cursor);
  const events = await ports.store.listAudit(userSub, {
    ...(options.deviceId ? { deviceId: options.deviceId } : {}),
    limit: ACTIVITY_PAGE_SIZE + 1,
    ...(after ? { after } : {}),
  });
  const page = events.slice(0, ACTIVITY_PAGE_SIZE);
  const last = page.at(-1);
  return {
    events: page.map(toActivityEvent),
    nextCursor:
      events.length > ACTIVITY_PAGE_SIZE && last ? encodeCursor({ at: last.at, id: last.id }) : null,
  };
}
