/**
 * The local SNS stand-in's mobile push, through the AWS SDK as the backend calls it: platform
 * endpoints, and Publish to an endpoint whose token is a local wake-up URL.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreatePlatformEndpointCommand,
  GetEndpointAttributesCommand,
  PublishCommand,
  SetEndpointAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, portalUrl } from './helpers.ts';

const APNS_APP = 'arn:aws:sns:us-east-1:000000000000:app/APNS/device-portal-local';
const FCM_APP = 'arn:aws:sns:us-east-1:000000000000:app/GCM/device-portal-local';

interface Outbox {
  push: {
    endpointArn: string;
    platform: string;
    token: string;
    message: string;
    deliveredTo: string | null;
  }[];
}

const sns = () =>
  new SNSClient({
    region: 'us-east-1',
    endpoint: `${portalUrl()}/_local/sns`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

/** A stand-in device: records what is POSTed to its wake-up URL. */
let device: Server;
let deviceUrl: string;
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  device = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  device.listen(0, '127.0.0.1');
  await once(device, 'listening');
  deviceUrl = `http://127.0.0.1:${(device.address() as AddressInfo).port}/wake/test-${Date.now()}`;
});

afterAll(() => new Promise<void>((done) => device.close(() => done())));

async function until<T>(probe: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('local SNS: platform endpoints', () => {
  it('gives the same endpoint ARN for the same token, another for another token', async () => {
    const client = sns();
    const token = `apns-token-${Date.now()}`;
    const first = await client.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: APNS_APP, Token: token }),
    );
    const again = await client.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: APNS_APP, Token: token }),
    );
    expect(first.EndpointArn).toMatch(
      /^arn:aws:sns:us-east-1:000000000000:endpoint\/APNS\/device-portal\/[0-9a-f-]{36}$/,
    );
    expect(again.EndpointArn).toBe(first.EndpointArn);
    const other = await client.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: FCM_APP, Token: `${token}-2` }),
    );
    expect(other.EndpointArn).toMatch(/endpoint\/GCM\/device-portal\//);
    expect(other.EndpointArn).not.toBe(first.EndpointArn);
  });

  it('refuses an application ARN that is not one', async () => {
    await expect(
      sns().send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: 'arn:nope', Token: 't' })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('sets and gets endpoint attributes; a new token moves the wake-ups', async () => {
    const client = sns();
    const { EndpointArn } = await client.send(
      new CreatePlatformEndpointCommand({
        PlatformApplicationArn: FCM_APP,
        Token: `fcm-${Date.now()}`,
        CustomUserData: 'device-1',
      }),
    );
    await client.send(
      new SetEndpointAttributesCommand({ EndpointArn, Attributes: { Token: deviceUrl, Enabled: 'true' } }),
    );
    const { Attributes } = await client.send(new GetEndpointAttributesCommand({ EndpointArn }));
    expect(Attributes).toEqual({ Token: deviceUrl, Enabled: 'true', CustomUserData: 'device-1' });
  });

  it('answers NotFound for an endpoint that does not exist', async () => {
    await expect(
      sns().send(
        new GetEndpointAttributesCommand({
          EndpointArn: 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/device-portal/none',
        }),
      ),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
  });
});

describe('local SNS: Publish to an endpoint', () => {
  it('POSTs the message to a local wake-up URL and records the push in the outbox', async () => {
    const client = sns();
    const { EndpointArn } = await client.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: APNS_APP, Token: deviceUrl }),
    );
    const published = await client.send(
      new PublishCommand({ TargetArn: EndpointArn, Message: JSON.stringify({ wake: 'checkin' }) }),
    );
    expect(published.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const delivery = await until(
      () => received.find((r) => r.body === '{"wake":"checkin"}'),
      'the wake-up POST',
    );
    expect(delivery.path).toBe(new URL(deviceUrl).pathname);
    const outbox = (await api<Outbox>('/_local/outbox.json')).body;
    expect(outbox.push).toContainEqual(
      expect.objectContaining({
        endpointArn: EndpointArn,
        platform: 'APNS',
        message: '{"wake":"checkin"}',
        deliveredTo: deviceUrl,
      }),
    );
    const page = await api<string>('/_local/outbox');
    expect(page.body).toContain('Push</span>');
  });

  it('picks the platform entry of a MessageStructure=json message', async () => {
    const client = sns();
    const { EndpointArn } = await client.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: FCM_APP, Token: `${deviceUrl}/json` }),
    );
    await client.send(
      new PublishCommand({
        TargetArn: EndpointArn,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'default', GCM: '{"wake":"gcm"}' }),
      }),
    );
    await until(() => received.find((r) => r.body === '{"wake":"gcm"}'), 'the GCM entry');
  });

  it('answers 200 for a device that is not reachable, and for a real (non-local) token', async () => {
    const client = sns();
    // A port nothing listens on: bind one, note it, close it.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((done) => probe.close(() => done()));
    for (const token of [`http://127.0.0.1:${deadPort}/wake/gone`, 'a1b2c3d4e5f6-real-apns-token']) {
      const { EndpointArn } = await client.send(
        new CreatePlatformEndpointCommand({ PlatformApplicationArn: APNS_APP, Token: token }),
      );
      const published = await client.send(new PublishCommand({ TargetArn: EndpointArn, Message: '{}' }));
      expect(published.MessageId).toBeTruthy();
      const outbox = (await api<Outbox>('/_local/outbox.json')).body;
      const recorded = outbox.push.find((p) => p.endpointArn === EndpointArn);
      expect(recorded?.deliveredTo).toBe(token.startsWith('http') ? token : null);
    }
  });

  it('refuses a disabled endpoint, as SNS does', async () => {
    const client = sns();
    const { EndpointArn } = await client.send(
      new CreatePlatformEndpointCommand({
        PlatformApplicationArn: APNS_APP,
        Token: `disabled-${Date.now()}`,
      }),
    );
    await client.send(new SetEndpointAttributesCommand({ EndpointArn, Attributes: { Enabled: 'false' } }));
    await expect(
      client.send(new PublishCommand({ TargetArn: EndpointArn, Message: '{}' })),
    ).rejects.toMatchObject({ name: 'EndpointDisabledException' });
  });

  it('still sends SMS to a phone number', async () => {
    const published = await sns().send(new PublishCommand({ PhoneNumber: '+14155550123', Message: 'hello' }));
    expect(published.MessageId).toBeTruthy();
  });
});
