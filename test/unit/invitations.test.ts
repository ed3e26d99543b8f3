import { describe, expect, it, vi } from 'vitest';
import {
  fillTemplate,
  formatInvitationTime,
  helpdeskLine,
  type InvitationContext,
  type InvitationPorts,
  invitationHtml,
  sendInvitations,
} from '../../functions/core/invitations.ts';
import type { OutgoingEmail } from '../../functions/core/ports.ts';
import { defaultSettings, type PortalSettings, TEMPLATE_VARIABLES } from '../../functions/core/settings.ts';
import { ALICE_EMAIL, NOW } from './fixtures.ts';

const CONTEXT: InvitationContext = {
  displayName: 'Alice Martin',
  username: ALICE_EMAIL,
  email: ALICE_EMAIL,
  emailVerified: true,
  phoneNumber: '+15555550101',
  platform: 'IOS',
  goUrl: 'https://portal.example.com/go',
  expiresAt: '2025-06-02T11:00:00.000Z',
  withPin: false,
  // A 24-hour English: the formatted time has no AM/PM, whose spacing differs between ICU versions.
  language: 'en-GB',
  timeZone: 'UTC',
};

function ports(overrides: Partial<InvitationPorts> = {}) {
  const emails: OutgoingEmail[] = [];
  const texts: { to: string; message: string }[] = [];
  const base: InvitationPorts = {
    mailer: {
      send: async (email) => {
        emails.push(email);
      },
    },
    sms: {
      send: async (to, message) => {
        texts.push({ to, message });
      },
    },
    clock: { now: () => NOW },
    takeSmsAllowance: async () => true,
  };
  return { ports: { ...base, ...overrides }, emails, texts };
}

const settings = (templates?: PortalSettings['invitationTemplates']): PortalSettings => ({
  ...defaultSettings(),
  ...(templates ? { invitationTemplates: templates } : {}),
});

describe('fillTemplate', () => {
  it('leaves names of built-in object properties as they are written', () => {
    expect(fillTemplate('{{constructor}} {{toString}} {{__proto__}}', CONTEXT)).toBe(
      '{{constructor}} {{toString}} {{__proto__}}',
    );
  });

  it('fills every variable, with or without spaces inside the braces', () => {
    const text = fillTemplate(
      '{{displayName}}|{{ username }}|{{goUrl}}|{{expiresAt}}|{{platform}}|{{signInWith}}',
      CONTEXT,
    );

    expect(text).toBe(
      'Alice Martin|alice@example.com|https://portal.example.com/go|2 Jun 2025, 11:00 UTC|iPhone or iPad|your portal password',
    );
  });

  it('asks for the registration PIN shown in the portal when the registration has one', () => {
    expect(fillTemplate('{{signInWith}}', { ...CONTEXT, withPin: true })).toBe(
      'the registration PIN shown in the portal',
    );
  });

  it("writes the expiry in the user's language and time zone", () => {
    expect(fillTemplate('{{expiresAt}}', { ...CONTEXT, language: 'en-GB', timeZone: 'Asia/Tokyo' })).toBe(
      '2 Jun 2025, 20:00 GMT+9',
    );
  });

  it('names an Android device in words', () => {
    expect(fillTemplate('{{platform}}', { ...CONTEXT, platform: 'ANDROID' })).toBe('Android device');
  });

  it('leaves an unknown variable as written: there is no {{pin}} to fill', () => {
    expect(fillTemplate('PIN: {{pin}} {{ nope }}', CONTEXT)).toBe('PIN: {{pin}} {{ nope }}');
  });
});

describe('formatInvitationTime', () => {
  it('formats in Asia/Tokyo for en-GB: medium date, short time, short zone name', () => {
    expect(formatInvitationTime('2025-06-02T11:00:00.000Z', 'en-GB', 'Asia/Tokyo')).toBe(
      '2 Jun 2025, 20:00 GMT+9',
    );
  });

  it('names the summer zone in Europe/Berlin for de', () => {
    expect(formatInvitationTime('2025-06-02T11:00:00.000Z', 'de', 'Europe/Berlin')).toBe(
      '02.06.2025, 13:00 MESZ',
    );
  });

  it('falls back to UTC for a time zone Intl does not know, keeping the language, without throwing', () => {
    expect(formatInvitationTime('2025-06-02T11:00:00.000Z', 'en-GB', 'Mars/Olympus_Mons')).toBe(
      formatInvitationTime('2025-06-02T11:00:00.000Z', 'en-GB', 'UTC'),
    );
    expect(formatInvitationTime('2025-06-02T11:00:00.000Z', 'en', 'UTC')).toMatch(
      /^Jun 2, 2025, 11:00\sAM UTC$/,
    );
  });
});

describe('invitationHtml', () => {
  it('escapes the text, so a display name cannot inject markup', () => {
    const html = invitationHtml('Hello <img src=x onerror=alert(1)> & "you"', CONTEXT.goUrl);

    expect(html).not.toContain('<img');
    expect(html).toContain('Hello &#60;img src=x onerror=alert(1)&#62; &#38; &#34;you&#34;');
  });

  it('links the /go URL where the text names it, and adds a button to it', () => {
    const html = invitationHtml(`Open ${CONTEXT.goUrl} now.`, CONTEXT.goUrl);

    expect(html).toContain(`Open <a href="${CONTEXT.goUrl}">${CONTEXT.goUrl}</a> now.`);
    expect(html.match(/href="https:\/\/portal\.example\.com\/go"/g)).toHaveLength(2);
  });

  it('turns blank-line paragraphs into <p> and single newlines into <br>', () => {
    const html = invitationHtml('one\ntwo\n\nthree', CONTEXT.goUrl);

    expect(html).toContain('>one<br>two</p><p');
    expect(html).toContain('>three</p>');
  });
});

describe('sendInvitations', () => {
  it("emails the platform's filled template to the user", async () => {
    const { ports: p, emails } = ports();

    await sendInvitations(p, settings(), ['EMAIL'], CONTEXT);

    const template = defaultSettings().invitationTemplates.IOS;
    expect(emails).toEqual([
      {
        to: ALICE_EMAIL,
        subject: template.emailSubject,
        text: fillTemplate(template.emailBody, { ...CONTEXT, helpdesk: 'IT Service Desk, +1 555 0100' }),
        html: invitationHtml(
          fillTemplate(template.emailBody, { ...CONTEXT, helpdesk: 'IT Service Desk, +1 555 0100' }),
          CONTEXT.goUrl,
        ),
      },
    ]);
    expect(emails[0]?.text).toContain(CONTEXT.goUrl);
  });

  it('mails nothing to an unverified address, and says so', async () => {
    const { ports: p, emails } = ports();

    const [delivery] = await sendInvitations(p, settings(), ['EMAIL'], { ...CONTEXT, emailVerified: false });

    expect(emails).toEqual([]);
    expect(delivery).toMatchObject({ channel: 'EMAIL', status: 'FAILED' });
    expect(delivery?.reason).toContain('not verified');
  });

  it('texts the filled SMS template to the phone number', async () => {
    const { ports: p, texts } = ports();

    await sendInvitations(p, settings(), ['SMS'], { ...CONTEXT, platform: 'ANDROID' });

    expect(texts).toEqual([
      {
        to: '+15555550101',
        message:
          'Register your Android device: open https://portal.example.com/go on it and sign in with your portal password. Expires 2 Jun 2025, 11:00 UTC. Help: IT Service Desk, +1 555 0100',
      },
    ]);
  });

  it('the default invitation for an INVITATION registration asks for the password and never mentions a PIN', async () => {
    const { ports: p, emails, texts } = ports();

    await sendInvitations(p, settings(), ['EMAIL', 'SMS'], { ...CONTEXT, withPin: false });

    expect(emails[0]?.text).toBe(
      'Hello Alice Martin,\n\nOpen https://portal.example.com/go on your iPhone or iPad, sign in with alice@example.com and your portal password, then install the enrollment profile.\n\nThis invitation expires on 2 Jun 2025, 11:00 UTC.\n\nQuestions? IT Service Desk, +1 555 0100',
    );
    expect(texts[0]?.message).toBe(
      'Register your iPhone or iPad: open https://portal.example.com/go on it and sign in with your portal password. Expires 2 Jun 2025, 11:00 UTC. Help: IT Service Desk, +1 555 0100',
    );
    for (const text of [emails[0]?.subject, emails[0]?.text, texts[0]?.message])
      expect(text).not.toMatch(/PIN/);
  });

  it('the default invitation for a PIN registration asks for the PIN shown in the portal, not the password', async () => {
    const { ports: p, emails, texts } = ports();

    await sendInvitations(p, settings(), ['EMAIL', 'SMS'], {
      ...CONTEXT,
      platform: 'ANDROID',
      withPin: true,
    });

    expect(emails[0]?.text).toBe(
      'Hello Alice Martin,\n\nOpen https://portal.example.com/go on your Android device, sign in with alice@example.com and the registration PIN shown in the portal, then install the agent app from Google Play and open it.\n\nThis invitation expires on 2 Jun 2025, 11:00 UTC.\n\nQuestions? IT Service Desk, +1 555 0100',
    );
    expect(texts[0]?.message).toBe(
      'Register your Android device: open https://portal.example.com/go on it and sign in with the registration PIN shown in the portal. Expires 2 Jun 2025, 11:00 UTC. Help: IT Service Desk, +1 555 0100',
    );
    for (const text of [emails[0]?.text, texts[0]?.message]) expect(text).not.toMatch(/password/);
  });

  it('reports SENT per channel with the time', async () => {
    const { ports: p } = ports();

    const deliveries = await sendInvitations(p, settings(), ['EMAIL', 'SMS'], CONTEXT);

    expect(deliveries).toEqual([
      { channel: 'EMAIL', status: 'SENT', at: NOW.toISOString() },
      { channel: 'SMS', status: 'SENT', at: NOW.toISOString() },
    ]);
  });

  it('reports a mailer failure as FAILED with a plain reason, without throwing', async () => {
    const { ports: p, texts } = ports({
      mailer: {
        send: async () => {
          throw Object.assign(new Error('Address blacklisted'), { name: 'MessageRejected' });
        },
      },
    });

    const deliveries = await sendInvitations(p, settings(), ['EMAIL', 'SMS'], CONTEXT);

    expect(deliveries[0]).toEqual({
      channel: 'EMAIL',
      status: 'FAILED',
      reason: 'The email could not be sent just now. Try Resend in a few minutes, or choose SMS.',
      at: NOW.toISOString(),
    });
    expect(deliveries[1]?.status).toBe('SENT');
    expect(texts).toHaveLength(1);
  });

  it("hands the provider's error to reportFailure, and keeps its name out of the reason", async () => {
    const refusal = Object.assign(new Error('Invalid parameter: PhoneNumber'), {
      name: 'InvalidParameterException',
    });
    const reportFailure = vi.fn();
    const { ports: p } = ports({
      reportFailure,
      sms: {
        send: async () => {
          throw refusal;
        },
      },
    });

    const [delivery] = await sendInvitations(p, settings(), ['SMS'], CONTEXT);

    expect(reportFailure).toHaveBeenCalledExactlyOnceWith('SMS', refusal);
    expect(delivery).toEqual({
      channel: 'SMS',
      status: 'FAILED',
      reason: 'The SMS could not be sent. Check the phone number, then try Resend.',
      at: NOW.toISOString(),
    });
  });

  it('reports the SMS FAILED, and sends nothing, when the daily cap gives no allowance', async () => {
    const sms = { send: vi.fn(async () => undefined) };
    const { ports: p } = ports({ sms, takeSmsAllowance: async () => false });

    const [delivery] = await sendInvitations(p, settings(), ['SMS'], CONTEXT);

    expect(delivery).toMatchObject({
      channel: 'SMS',
      status: 'FAILED',
      reason: expect.stringContaining('daily SMS limit'),
    });
    expect(sms.send).not.toHaveBeenCalled();
  });

  it('reports the SMS FAILED without taking an allowance when there is no phone number', async () => {
    const takeSmsAllowance = vi.fn(async () => true);
    const { ports: p, texts } = ports({ takeSmsAllowance });

    const [delivery] = await sendInvitations(p, settings(), ['SMS'], { ...CONTEXT, phoneNumber: null });

    expect(delivery?.status).toBe('FAILED');
    expect(takeSmsAllowance).not.toHaveBeenCalled();
    expect(texts).toEqual([]);
  });

  it.each(['IOS', 'ANDROID'] as const)(
    'the default %s templates link /go and never ask for a PIN',
    (platform) => {
      const template = defaultSettings().invitationTemplates[platform];

      expect(template.emailBody).toContain('{{goUrl}}');
      expect(template.sms).toContain('{{goUrl}}');
      for (const text of Object.values(template)) expect(text).not.toMatch(/\{\{\s*pin\s*\}\}/i);
    },
  );
});

describe('{{helpdesk}}', () => {
  it('is the helpdesk name and phone the administrator set', () => {
    expect(helpdeskLine(defaultSettings().helpdesk)).toBe('IT Service Desk, +1 555 0100');
    expect(helpdeskLine({ name: 'Service Desk', phone: '', email: 'help@example.com' })).toBe(
      'Service Desk, help@example.com',
    );
    expect(helpdeskLine({ name: '', phone: '', email: '' })).toBe('your helpdesk');
    expect(TEMPLATE_VARIABLES).toContain('{{helpdesk}}');
  });

  it('appears in the default email and SMS of both platforms, from the current settings', async () => {
    const custom: PortalSettings = {
      ...defaultSettings(),
      helpdesk: { ...defaultSettings().helpdesk, name: 'Acme IT', phone: '+44 20 7946 0000' },
    };
    for (const platform of ['IOS', 'ANDROID'] as const) {
      const template = defaultSettings().invitationTemplates[platform];
      expect(template.emailBody).toContain('{{helpdesk}}');
      expect(template.sms).toContain('{{helpdesk}}');
      const p = ports();
      await sendInvitations(p.ports, custom, ['EMAIL', 'SMS'], { ...CONTEXT, platform });
      expect(p.emails[0]?.text).toContain('Questions? Acme IT, +44 20 7946 0000');
      expect(p.emails[0]?.html).toContain('Acme IT, +44 20 7946 0000');
      expect(p.texts[0]?.message).toContain('Help: Acme IT, +44 20 7946 0000');
      expect(p.texts[0]?.message.length).toBeLessThanOrEqual(480);
    }
  });

  it("is filled in a template of the administrator's own", () => {
    expect(fillTemplate('Call {{ helpdesk }}.', { ...CONTEXT, helpdesk: 'Acme IT, +1 555 0100' })).toBe(
      'Call Acme IT, +1 555 0100.',
    );
  });
});
