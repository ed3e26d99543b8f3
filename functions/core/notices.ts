/**
 * Email notices after each action on a user's device and when its result arrives (issue 11.10):
 * the owner hears of every lock, wipe or locate, including one they did not ask for. A notice that
 * cannot be sent never fails or undoes the action; the failure is recorded in the activity feed.
 */
import { auditEvent, type RequestOrigin } from './audit.ts';
import { COMMAND_WORDS } from './command-words.ts';
import type { ActionNotice } from './commands.ts';
import { deviceTitleOf } from './device.ts';
import type { AuditEvent, Clock, Mailer, OutgoingEmail, RandomSource, SettingsStore } from './ports.ts';

export interface NoticePorts {
  store: SettingsStore & { appendAudit(event: AuditEvent): Promise<void> };
  mailer: Mailer;
  clock: Clock;
  random: RandomSource;
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function noticeEmail(notice: ActionNotice, to: string, portalOrigin: string): OutgoingEmail {
  const what = COMMAND_WORDS[notice.command.action];
  const device = deviceTitleOf(notice.device);
  const link = `${portalOrigin}/devices/${notice.device.deviceId}`;
  const headline =
    notice.what === 'QUEUED'
      ? `${what} was requested for your ${device}.`
      : notice.what === 'DONE'
        ? `${what} was carried out on your ${device}.`
        : `${what} failed on your ${device}${notice.command.error ? `: ${notice.command.error}` : '.'}`;
  const text = `${headline}\n\nSee the details, or cancel what has not started yet: ${link}\n\nIf this was not you, call your helpdesk at once.`;
  return {
    to,
    subject: `${what}: ${device}`,
    text,
    html: `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;max-width:560px"><p>${escapeHtml(headline)}</p><p><a href="${escapeHtml(link)}">See the device in the portal</a></p><p>If this was not you, call your helpdesk at once.</p></body></html>`,
  };
}

/** Sends the notice when the administrator has them on; records a failure instead of throwing. */
export async function sendNotice(
  ports: NoticePorts,
  notice: ActionNotice,
  origin: RequestOrigin,
): Promise<void> {
  const to = notice.device.noticeEmail;
  try {
    const settings = await ports.store.getSettings();
    if (!settings.notifyActionsByEmail || !to) return;
    await ports.mailer.send(noticeEmail(notice, to, settings.publicOrigin || origin.origin));
  } catch (error) {
    await ports.store
      .appendAudit(
        auditEvent(ports, origin, {
          userSub: notice.userSub,
          deviceId: notice.device.deviceId,
          action: 'NOTICE_FAILED',
          result: 'FAILURE',
          detail: error instanceof Error ? error.name : 'unknown',
        }),
      )
      .catch(() => undefined);
  }
}
