import type { AuditEvent, Clock, RandomSource } from './ports.ts';

/** The deviceId of an event about the account, not a device (profile, settings, certificates). */
export const ACCOUNT_DEVICE_ID = '-';

/** Where the request came from, for links and the audit trail. */
export interface RequestOrigin {
  /** https://host the request reached, used when no external host is set. */
  origin: string;
  sourceIp: string;
  userAgent: string;
}

export function auditEvent(
  ports: { clock: Clock; random: RandomSource },
  request: RequestOrigin,
  fields: Pick<AuditEvent, 'userSub' | 'deviceId' | 'action'> &
    Partial<Pick<AuditEvent, 'result' | 'detail'>>,
): AuditEvent {
  return {
    id: ports.random.uuid(),
    result: 'SUCCESS',
    sourceIp: request.sourceIp,
    userAgent: request.userAgent.slice(0, 256),
    at: ports.clock.now().toISOString(),
    ...fields,
  };
}
