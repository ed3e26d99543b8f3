import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SmsSender } from '../core/ports.ts';
import { once } from './system.ts';

export class SnsSms implements SmsSender {
  constructor(private readonly client: SNSClient) {}

  async send(phoneNumber: string, message: string): Promise<void> {
    await this.client.send(
      new PublishCommand({
        PhoneNumber: phoneNumber,
        Message: message,
        // Transactional: delivered with priority, and not blocked by promotional opt-outs.
        MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
      }),
    );
  }
}

// Pure: a bundle whose handler never calls it leaves the client out.
export const snsSms = /* @__PURE__ */ once(() => new SnsSms(new SNSClient({})));
