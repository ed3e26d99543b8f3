import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import type { Mailer, OutgoingEmail } from '../core/ports.ts';
import { once, requiredEnv } from './system.ts';

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESClient,
    private readonly fromAddress: string,
  ) {}

  async send(email: OutgoingEmail): Promise<void> {
    await this.client.send(
      new SendEmailCommand({
        Source: this.fromAddress,
        Destination: { ToAddresses: [email.to] },
        Message: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: email.text, Charset: 'UTF-8' },
            Html: { Data: email.html, Charset: 'UTF-8' },
          },
        },
      }),
    );
  }
}

// Pure: a bundle whose handler never calls it leaves the client out.
export const sesMailer = /* @__PURE__ */ once(
  () => new SesMailer(new SESClient({}), requiredEnv('SES_FROM_ADDRESS')),
);
