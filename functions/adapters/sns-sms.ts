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

export const snsSms = once(() => new SnsSms(new SNSClient({})));
