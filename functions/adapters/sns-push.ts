/**
 * Wake-ups through SNS mobile push (APNs for iOS, FCM for Android): the device checks in at once
 * instead of at its next scheduled check-in. The platform applications are deployment settings
 * (SNS_APNS_APPLICATION_ARN, SNS_FCM_APPLICATION_ARN); without them, or without a push token from
 * the agent, nothing is sent and the command waits for the next check-in. Locally the portal's SNS
 * stand-in delivers the wake-up to the device simulator.
 */
import { CreatePlatformEndpointCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { DeviceRecord } from '../core/device.ts';
import { once } from './system.ts';

const WAKE = JSON.stringify({ wake: 'checkin' });
/** A silent background push: no alert, the agent wakes and checks in. */
const MESSAGE = JSON.stringify({
  default: WAKE,
  APNS: JSON.stringify({ aps: { 'content-available': 1 }, wake: 'checkin' }),
  APNS_SANDBOX: JSON.stringify({ aps: { 'content-available': 1 }, wake: 'checkin' }),
  GCM: JSON.stringify({ data: { wake: 'checkin' }, priority: 'high' }),
});

export class SnsWakeUps {
  constructor(private readonly client: SNSClient) {}

  /** Never throws: a wake-up that fails leaves the command for the next check-in. */
  async wakeUp(device: DeviceRecord): Promise<void> {
    const application =
      device.platform === 'IOS' ? process.env.SNS_APNS_APPLICATION_ARN : process.env.SNS_FCM_APPLICATION_ARN;
    if (!device.pushToken || !application) return;
    try {
      // Idempotent: the same token answers the endpoint it already has.
      const { EndpointArn } = await this.client.send(
        new CreatePlatformEndpointCommand({ PlatformApplicationArn: application, Token: device.pushToken }),
      );
      if (!EndpointArn) return;
      await this.client.send(
        new PublishCommand({ TargetArn: EndpointArn, MessageStructure: 'json', Message: MESSAGE }),
      );
    } catch (error) {
      const { logger } = await import('../http/logger.ts');
      logger.warn('Wake-up push failed; the device gets the command at its next check-in', {
        deviceId: device.deviceId,
        error: error instanceof Error ? error.name : String(error),
      });
    }
  }
}

// Pure: a bundle whose handler never calls it leaves the client out.
export const snsWakeUps = /* @__PURE__ */ once(() => new SnsWakeUps(new SNSClient({})));
