import { describe, expect, it, vi } from 'vitest';
import {
  fillTemplate,
  type InvitationContext,
  type InvitationPorts,
  invitationHtml,
  sendInvitations,
} from '../../functions/core/invitations.ts';
import type { OutgoingEmail } from '../../functions/core/ports.ts';
import { defaultSettings, type PortalSettings } from '../../functions/core/settings.ts';
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
    const text = fillTemplate('{{displayName}}|{{ username }}|{{goUrl}}|{{expiresAt}}|{{platform}}', CONTEXT);

    expect(text).toBe(
      'Alice Martin|alice@example.com|https://portal.example.com/go|2025-06-02 11:00 UTC|iPhone or iPad',
    );
  });

  it('names an Android device in words', () => {
    expect(fillTemplate('{{platform}}', { ...CONTEXT, platform: 'ANDROID' })).toBe('Android device');
  });

  it('leaves an unknown variable as written: there is no {{pin}} to fill', () => {
    expect(fillTemplate('PIN: {{pin}} {{ nope }}', CONTEXT)).toBe('PIN: {{pin}} {{ nope }}');
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
        text: fillTemplate(template.emailBody, CONTEXT),
        html: invitationHtml(fillTemplate(template.emailBody, CONTEXT), CONTEXT.goUrl),
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
          'Register your Android device: open https://portal.example.com/go on the device, then install the agent app. Expires 2025-06-02 11:00 UTC.',
      },
    ]);
  });

  it('reports SENT per channel with the time', async () => {
    const { ports: p } = ports();

    const deliveries = await sendInvitations(p, settings(), ['EMAIL', 'SMS'], CONTEXT);

    expect(deliveries).toEqual([
      { channel: 'EMAIL', status: 'SENT', at: NOW.toISOString() },
      { channel: 'SMS', status: 'SENT', at: NOW.toISOString() },
    ]);
  });

  it('reports a mailer failure as FAILED with a reason naming the error, without throwing', async () => {
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
      reason: 'The email could not be sent (MessageRejected). Try Resend, or choose SMS.',
      at: NOW.toISOString(),
    });
    expect(deliveries[1]?.status).toBe('SENT');
    expect(texts).toHaveLength(1);
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
