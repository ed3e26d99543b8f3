/**
 * Invitation email and SMS, from the administrator's templates. An invitation never carries the
 * registration PIN (DESIGN §8 rule 1): it names where to go, not the secret.
 */
import type { DeliveryChannel, HelpdeskContact, InvitationDelivery, Platform } from './api-types.ts';
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
  /** A registration PIN was shown in the portal (else the user signs in at /go with the password). */
  withPin: boolean;
  /** The user's language and time zone, else the portal's defaults. */
  language: string;
  timeZone: string;
  /** The helpdesk contact as one line ({{helpdesk}}); sendInvitations fills it from the settings. */
  helpdesk?: string;
}

/** "IT Service Desk, +1 555 0100": the helpdesk's name and phone, whichever the administrator set. */
export function helpdeskLine(helpdesk: Pick<HelpdeskContact, 'name' | 'phone' | 'email'>): string {
  const parts = [helpdesk.name.trim(), helpdesk.phone.trim()].filter(Boolean);
  // Without a phone, the address is the next way to reach them.
  if (!helpdesk.phone.trim() && helpdesk.email.trim()) parts.push(helpdesk.email.trim());
  return parts.join(', ') || 'your helpdesk';
}

const PLATFORM_NAMES: Record<Platform, string> = { IOS: 'iPhone or iPad', ANDROID: 'Android device' };

/** "2 Jun 2025, 12:00 CEST" in the user's language and time zone. */
export function formatInvitationTime(iso: string, language: string, timeZone: string): string {
  const options = { dateStyle: 'medium', timeStyle: 'short', timeZone } as const;
  // A bad language or a bad zone falls back alone: the other, good one is kept.
  const attempt = (lang: string, zone: string) => {
    try {
      return new Intl.DateTimeFormat(lang, { ...options, timeZone: zone });
    } catch {
      return null;
    }
  };
  const format =
    attempt(language, timeZone) ??
    attempt('en', timeZone) ??
    attempt(language, 'UTC') ??
    attempt('en', 'UTC');
  if (!format) return iso;
  const zone = new Intl.DateTimeFormat(format.resolvedOptions().locale, {
    timeZone: format.resolvedOptions().timeZone,
    timeZoneName: 'short',
  })
    .formatToParts(new Date(iso))
    .find((part) => part.type === 'timeZoneName')?.value;
  return `${format.format(new Date(iso))}${zone ? ` ${zone}` : ''}`;
}

export function fillTemplate(template: string, context: InvitationContext): string {
  const values: Record<string, string> = {
    displayName: context.displayName,
    username: context.username,
    goUrl: context.goUrl,
    expiresAt: formatInvitationTime(context.expiresAt, context.language, context.timeZone),
    platform: PLATFORM_NAMES[context.platform],
    signInWith: context.withPin ? 'the registration PIN shown in the portal' : 'your portal password',
    helpdesk: context.helpdesk ?? 'your helpdesk',
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

/** Why a send failed, in words the user can act on (the provider's code goes to the log only). */
function failureReason(channel: DeliveryChannel): string {
  return channel === 'EMAIL'
    ? 'The email could not be sent just now. Try Resend in a few minutes, or choose SMS.'
    : 'The SMS could not be sent. Check the phone number, then try Resend.';
}

export interface InvitationPorts {
  mailer: Mailer;
  sms: SmsSender;
  clock: Clock;
  /** Where a provider's refusal is recorded for the helpdesk (never shown to the user). */
  reportFailure?(channel: DeliveryChannel, error: unknown): void;
  /** Takes one SMS from the daily spend cap; false when the cap is reached. */
  takeSmsAllowance(): Promise<boolean>;
}

/** Sends on each channel and reports each outcome; a failure never throws (rule 11). */
export async function sendInvitations(
  ports: InvitationPorts,
  settings: PortalSettings,
  channels: readonly DeliveryChannel[],
  given: InvitationContext,
): Promise<InvitationDelivery[]> {
  const template = settings.invitationTemplates[given.platform];
  const context = { ...given, helpdesk: given.helpdesk ?? helpdeskLine(settings.helpdesk) };
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
      ports.reportFailure?.(channel, error);
      return { channel, status: 'FAILED', reason: failureReason(channel), at };
    }
  };
  return Promise.all(channels.map(send));
}
