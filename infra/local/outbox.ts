/**
 * The local outbox: SMS and mobile pushes that handlers publish through the SNS API (this server
 * answers the SNS calls, see answerSns), and mail the SES emulator received. Faults can be switched
 * on to try the failure paths.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LocalPush, type PushMessage, SnsError } from './local-push.ts';

export interface SmsMessage {
  messageId: string;
  phoneNumber: string;
  message: string;
  smsType: string;
  at: string;
}

export interface OutboxEmail {
  messageId: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  at: string;
}

export interface Faults {
  /** When set, SNS Publish answers this error (e.g. "Throttling") instead of sending. */
  sms: string | null;
  /** When set, SES SendEmail answers this error instead of sending. */
  email: string | null;
}

export class SmsOutbox {
  private messages: SmsMessage[];
  /** Platform endpoints and pushes, kept beside the SMS file (push-endpoints.json, push-outbox.json). */
  readonly push: LocalPush;

  constructor(private readonly file: string) {
    this.messages = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SmsMessage[]) : [];
    this.push = new LocalPush(
      join(dirname(file), 'push-endpoints.json'),
      join(dirname(file), 'push-outbox.json'),
    );
  }

  list(): readonly SmsMessage[] {
    return this.messages;
  }

  add(phoneNumber: string, message: string, smsType: string): SmsMessage {
    const sms = { messageId: randomUUID(), phoneNumber, message, smsType, at: new Date().toISOString() };
    this.messages.push(sms);
    writeFileSync(this.file, JSON.stringify(this.messages, null, 2));
    return sms;
  }
}

function xmlEscape(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

/** The query protocol's map: Attributes.entry.N.key / Attributes.entry.N.value. */
function attributesOf(form: URLSearchParams): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (let i = 1; form.has(`Attributes.entry.${i}.key`); i++) {
    attributes[form.get(`Attributes.entry.${i}.key`) ?? ''] = form.get(`Attributes.entry.${i}.value`) ?? '';
  }
  return attributes;
}

function success(action: string, result: string, requestId: string): { status: number; xml: string } {
  return {
    status: 200,
    xml: `<${action}Response xmlns="${SNS_XMLNS}">${result ? `<${action}Result>${result}</${action}Result>` : ''}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/**
 * Answers the SNS query-protocol calls the portal makes: Publish of an SMS to a phone number,
 * and mobile push (CreatePlatformEndpoint, SetEndpointAttributes, GetEndpointAttributes, Publish
 * with TargetArn).
 */
export function answerSns(
  form: URLSearchParams,
  outbox: SmsOutbox,
  faults: Faults,
): { status: number; xml: string } {
  const requestId = randomUUID();
  const error = (status: number, code: string, message: string) => ({
    status,
    xml: `<ErrorResponse xmlns="${SNS_XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  });
  const action = form.get('Action') ?? '';
  try {
    switch (action) {
      case 'CreatePlatformEndpoint': {
        const attributes = attributesOf(form);
        if (form.has('CustomUserData')) attributes.CustomUserData = form.get('CustomUserData') ?? '';
        const endpoint = outbox.push.createEndpoint(
          form.get('PlatformApplicationArn') ?? '',
          form.get('Token') ?? '',
          attributes,
        );
        return success(action, `<EndpointArn>${xmlEscape(endpoint.endpointArn)}</EndpointArn>`, requestId);
      }
      case 'SetEndpointAttributes':
        outbox.push.setAttributes(form.get('EndpointArn') ?? '', attributesOf(form));
        return success(action, '', requestId);
      case 'GetEndpointAttributes': {
        const attributes = outbox.push.getAttributes(form.get('EndpointArn') ?? '');
        const entries = Object.entries(attributes)
          .map(
            ([key, value]) => `<entry><key>${xmlEscape(key)}</key><value>${xmlEscape(value)}</value></entry>`,
          )
          .join('');
        return success(action, `<Attributes>${entries}</Attributes>`, requestId);
      }
      case 'Publish': {
        const targetArn = form.get('TargetArn');
        if (targetArn) {
          const push = outbox.push.publish(
            targetArn,
            form.get('Message') ?? '',
            form.get('MessageStructure'),
          );
          return success(action, `<MessageId>${push.messageId}</MessageId>`, requestId);
        }
        return publishSms(form, outbox, faults, requestId, error);
      }
      default:
        return error(
          400,
          'InvalidAction',
          `The local SNS does not answer ${action || 'requests without an Action'}`,
        );
    }
  } catch (caught) {
    if (caught instanceof SnsError) return error(caught.status, caught.code, caught.message);
    throw caught;
  }
}

/** Publish of an SMS to a phone number. */
function publishSms(
  form: URLSearchParams,
  outbox: SmsOutbox,
  faults: Faults,
  requestId: string,
  error: (status: number, code: string, message: string) => { status: number; xml: string },
): { status: number; xml: string } {
  if (faults.sms) return error(400, faults.sms, `Simulated SNS failure: ${faults.sms}`);
  const phoneNumber = form.get('PhoneNumber') ?? '';
  if (!/^\+[1-9]\d{6,14}$/.test(phoneNumber)) {
    return error(400, 'InvalidParameter', 'Invalid parameter: PhoneNumber Reason: not an E.164 number');
  }
  const message = form.get('Message') ?? '';
  let smsType = 'Promotional';
  for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
    if (form.get(`MessageAttributes.entry.${i}.Name`) === 'AWS.SNS.SMS.SMSType') {
      smsType = form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? smsType;
    }
  }
  const sms = outbox.add(phoneNumber, message, smsType);
  return success('Publish', `<MessageId>${sms.messageId}</MessageId>`, requestId);
}

interface SesStoreEmail {
  messageId: string;
  destination: { to: string[] };
  subject: string;
  body: { html?: string; text?: string };
  at: number;
}

export async function readEmails(sesEndpoint: string): Promise<OutboxEmail[]> {
  const response = await fetch(`${sesEndpoint}/store`);
  const store = (await response.json()) as { emails: SesStoreEmail[] };
  return store.emails.map((e) => ({
    messageId: e.messageId,
    to: e.destination.to,
    subject: e.subject,
    text: e.body.text ?? '',
    html: e.body.html ?? '',
    at: new Date(e.at * (e.at < 1e12 ? 1000 : 1)).toISOString(),
  }));
}

function htmlEscape(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderOutboxPage(
  emails: OutboxEmail[],
  sms: readonly SmsMessage[],
  pushes: readonly PushMessage[] = [],
): string {
  const items = [
    ...emails.map((e) => ({
      at: e.at,
      html: `<article class="msg"><header><span class="kind">Email</span> to <b>${htmlEscape(e.to.join(', '))}</b><time>${htmlEscape(e.at)}</time></header><h2>${htmlEscape(e.subject)}</h2><pre>${htmlEscape(e.text)}</pre></article>`,
    })),
    ...sms.map((s) => ({
      at: s.at,
      html: `<article class="msg"><header><span class="kind sms">SMS</span> to <b>${htmlEscape(s.phoneNumber)}</b> (${htmlEscape(s.smsType)})<time>${htmlEscape(s.at)}</time></header><pre>${htmlEscape(s.message)}</pre></article>`,
    })),
    ...pushes.map((p) => ({
      at: p.at,
      html: `<article class="msg"><header><span class="kind push">Push</span> ${htmlEscape(p.platform)} to <b>${htmlEscape(p.endpointArn)}</b> (${p.deliveredTo ? `delivered to ${htmlEscape(p.deliveredTo)}` : 'not a local wake-up URL: not delivered'})<time>${htmlEscape(p.at)}</time></header><pre>${htmlEscape(p.message)}</pre></article>`,
    })),
  ].sort((a, b) => b.at.localeCompare(a.at));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Local outbox</title>
<style>body{font-family:system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}main{max-width:760px;margin:0 auto;padding:24px}h1{font-size:22px}.msg{background:#fff;border:1px solid #dde1e8;border-radius:10px;padding:14px 16px;margin:12px 0}.msg header{font-size:13px;color:#556}.msg time{float:right}.kind{background:#2454d6;color:#fff;border-radius:4px;padding:1px 6px;margin-right:4px}.kind.sms{background:#0b8a5b}.kind.push{background:#8a4b0b}h2{font-size:16px;margin:8px 0}pre{white-space:pre-wrap;font-family:inherit;margin:0}</style></head>
<body><main><h1>Local outbox</h1><p>Mail sent through the SES emulator, and SMS and push wake-ups published through the local SNS endpoint, newest first. Nothing here leaves this machine.</p>${items.map((i) => i.html).join('') || '<p><i>Nothing sent yet.</i></p>'}</main></body></html>`;
}
