/**
 * Invitation email and SMS, from the administrator's templates. An invitation never carries the
 * registration PIN (DESIGN §8 rule 1): it names where to go, not the secret.
 */
import type { DeliveryChannel, InvitationDelivery, Platform } from './api-types.ts';
import type { Clock, Mailer, SmsSender } from './ports.ts';
import type { PortalSettings } from './settings.ts';

export interface InvitationContext {
  displayName: string;
  username: string;
  email: string;
  emailVerified: boolean;
  phoneNumber: string | null;
  platform: Platform;
  goUrl: string;
  expiresAt: string;
}

const PLATFORM_NAMES: Record<Platform, string> = { IOS: 'iPhone or iPad', ANDROID: 'Android device' };

export function fillTemplate(template: string, context: InvitationContext): string {
  const values: Record<string, string> = {
    displayName: context.displayName,
    username: context.username,
    goUrl: context.goUrl,
    expiresAt: `${context.expiresAt.slice(0, 16).replace('T', ' ')} UTC`,
    platform: PLATFORM_NAMES[context.platform],
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? (values[name] ?? whole) : whole,
  );
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function invitationHtml(text: string, goUrl: string): string {
  const paragraphs = escapeHtml(text)
    .split(/\n{2,}/)
    .map((p) => `<p style="margin:0 0 14px">${p.replace(/\n/g, '<br>')}</p>`)
    .join('')
    .replaceAll(escapeHtml(goUrl), `<a href="${escapeHtml(goUrl)}">${escapeHtml(goUrl)}</a>`);
  return `<!doctype html><html><body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2330;line-height:1.5;max-width:560px">${paragraphs}<p style="margin:24px 0"><a href="${escapeHtml(goUrl)}" style="background:#2454d6;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">Register this device</a></p></body></html>`;
}

/** Why a send failed, in words the user can act on; the SDK's error name is kept for the helpdesk. */
function failureReason(channel: DeliveryChannel, error: unknown): string {
  const name = error instanceof Error ? error.name : 'Error';
  return channel === 'EMAIL'
    ? `The email could not be sent (${name}). Try Resend, or choose SMS.`
    : `The SMS could not be sent (${name}). Check the phone number, then Resend.`;
}

export interface InvitationPorts {
  mailer: Mailer;
  sms: SmsSender;
  clock: Clock;
  /** Takes one SMS from the daily spend cap; false when the cap is reached. */
  takeSmsAllowance(): Promise<boolean>;
}

/** Sends on each channel and reports each outcome; a failure never throws (rule 11). */
export async function sendInvitations(
  ports: InvitationPorts,
  settings: PortalSettings,
  channels: readonly DeliveryChannel[],
  context: InvitationContext,
): Promise<InvitationDelivery[]> {
  const template = settings.invitationTemplates[context.platform];
  const send = async (channel: DeliveryChannel): Promise<InvitationDelivery> => {
    const at = ports.clock.now().toISOString();
    try {
      if (channel === 'EMAIL') {
        if (!context.emailVerified) {
          return {
            channel,
            status: 'FAILED',
            reason:
              'Your email address is not verified, so no invitation was mailed to it. Use SMS or the QR code.',
            at,
          };
        }
        const text = fillTemplate(template.emailBody, context);
        await ports.mailer.send({
          to: context.email,
          subject: fillTemplate(template.emailSubject, context),
          text,
          html: invitationHtml(text, context.goUrl),
        });
      } else {
        if (!context.phoneNumber) throw new Error('No phone number');
        if (!(await ports.takeSmsAllowance())) {
          return {
            channel,
            status: 'FAILED',
            reason: 'The daily SMS limit of this portal is reached. Use email, or try again tomorrow.',
            at,
          };
        }
        await ports.sms.send(context.phoneNumber, fillTemplate(template.sms, context));
      }
      return { channel, status: 'SENT', at };
    } catch (error) {
      return { channel, status: 'FAILED', reason: failureReason(channel, error), at };
    }
  };
  return Promise.all(channels.map(send));
}
