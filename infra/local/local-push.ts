/**
 * The local stand-in for SNS mobile push: platform endpoints (CreatePlatformEndpoint,
 * SetEndpointAttributes, GetEndpointAttributes) and Publish to an endpoint (TargetArn). Nothing
 * reaches APNs or FCM: when an endpoint's token is a local wake-up URL (the device simulator's,
 * http://127.0.0.1:<port>/…), the message is POSTed to it, fire-and-forget, as SNS hands a push to
 * the platform without waiting for the phone. Every push is recorded for the local outbox.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export type PushPlatform = 'APNS' | 'APNS_SANDBOX' | 'GCM';

export interface PlatformEndpoint {
  endpointArn: string;
  platformApplicationArn: string;
  platform: PushPlatform;
  token: string;
  enabled: boolean;
  customUserData: string;
  createdAt: string;
}

export interface PushMessage {
  messageId: string;
  endpointArn: string;
  platform: PushPlatform;
  token: string;
  /** The payload for this platform (with MessageStructure=json, the platform's own entry). */
  message: string;
  /** The wake-up URL the message was POSTed to, or null when the token is not a local URL. */
  deliveredTo: string | null;
  at: string;
}

/** An SNS error answer: HTTP status, code, message. */
export class SnsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const APPLICATION_ARN = /^arn:aws:sns:[a-z0-9-]+:\d{12}:app\/(APNS|APNS_SANDBOX|GCM)\/[\w.-]{1,256}$/;
const ENDPOINT_PREFIX = 'arn:aws:sns:us-east-1:000000000000:endpoint';

/** A token the local SNS delivers to: an http URL on 127.0.0.1, as the device simulator listens. */
export function localWakeUrl(token: string): string | null {
  try {
    const url = new URL(token);
    return url.protocol === 'http:' && url.hostname === '127.0.0.1' && url.port !== '' ? url.href : null;
  } catch {
    return null;
  }
}

function readJson<T>(file: string, fallback: T): T {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : fallback;
}

export class LocalPush {
  private readonly endpoints: PlatformEndpoint[];
  private readonly pushes: PushMessage[];

  constructor(
    private readonly endpointsFile: string,
    private readonly pushesFile: string,
  ) {
    this.endpoints = readJson<PlatformEndpoint[]>(endpointsFile, []);
    this.pushes = readJson<PushMessage[]>(pushesFile, []);
  }

  list(): readonly PushMessage[] {
    return this.pushes;
  }

  listEndpoints(): readonly PlatformEndpoint[] {
    return this.endpoints;
  }

  private saveEndpoints(): void {
    writeFileSync(this.endpointsFile, JSON.stringify(this.endpoints, null, 2));
  }

  private find(endpointArn: string): PlatformEndpoint {
    const endpoint = this.endpoints.find((e) => e.endpointArn === endpointArn);
    if (!endpoint) throw new SnsError(404, 'NotFound', 'Endpoint does not exist');
    return endpoint;
  }

  /** As SNS: the same token on the same application gives the same endpoint back. */
  createEndpoint(
    platformApplicationArn: string,
    token: string,
    attributes: Record<string, string>,
  ): PlatformEndpoint {
    const platform = APPLICATION_ARN.exec(platformApplicationArn)?.[1] as PushPlatform | undefined;
    if (!platform) {
      throw new SnsError(
        400,
        'InvalidParameter',
        'Invalid parameter: PlatformApplicationArn Reason: not a platform application ARN',
      );
    }
    if (!token)
      throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Token Reason: cannot be empty');
    const customUserData = attributes.CustomUserData ?? '';
    const existing = this.endpoints.find(
      (e) => e.platformApplicationArn === platformApplicationArn && e.token === token,
    );
    if (existing) {
      if (attributes.CustomUserData !== undefined && existing.customUserData !== customUserData) {
        throw new SnsError(
          400,
          'InvalidParameter',
          `Invalid parameter: Token Reason: Endpoint ${existing.endpointArn} already exists with the same Token, but different attributes.`,
        );
      }
      return existing;
    }
    const kind = platform === 'GCM' ? 'GCM' : 'APNS';
    const endpoint: PlatformEndpoint = {
      endpointArn: `${ENDPOINT_PREFIX}/${kind}/device-portal/${randomUUID()}`,
      platformApplicationArn,
      platform,
      token,
      enabled: attributes.Enabled !== 'false',
      customUserData,
      createdAt: new Date().toISOString(),
    };
    this.endpoints.push(endpoint);
    this.saveEndpoints();
    return endpoint;
  }

  setAttributes(endpointArn: string, attributes: Record<string, string>): void {
    const endpoint = this.find(endpointArn);
    if (attributes.Token !== undefined) {
      if (!attributes.Token) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Token');
      endpoint.token = attributes.Token;
    }
    if (attributes.Enabled !== undefined) endpoint.enabled = attributes.Enabled === 'true';
    if (attributes.CustomUserData !== undefined) endpoint.customUserData = attributes.CustomUserData;
    this.saveEndpoints();
  }

  getAttributes(endpointArn: string): Record<string, string> {
    const endpoint = this.find(endpointArn);
    return {
      Token: endpoint.token,
      Enabled: String(endpoint.enabled),
      ...(endpoint.customUserData ? { CustomUserData: endpoint.customUserData } : {}),
    };
  }

  /** Records the push and, for a local wake-up URL, POSTs it there without waiting for the device. */
  publish(endpointArn: string, message: string, messageStructure: string | null): PushMessage {
    const endpoint = this.find(endpointArn);
    if (!endpoint.enabled) throw new SnsError(400, 'EndpointDisabled', 'Endpoint is disabled');
    const payload = messageStructure === 'json' ? platformPayload(message, endpoint.platform) : message;
    const deliveredTo = localWakeUrl(endpoint.token);
    const push: PushMessage = {
      messageId: randomUUID(),
      endpointArn,
      platform: endpoint.platform,
      token: endpoint.token,
      message: payload,
      deliveredTo,
      at: new Date().toISOString(),
    };
    this.pushes.push(push);
    writeFileSync(this.pushesFile, JSON.stringify(this.pushes, null, 2));
    if (deliveredTo) {
      // A device that is off or gone is no failure of the publish: SNS does not wait for it either.
      fetch(deliveredTo, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
        signal: AbortSignal.timeout(5000),
      })
        .then((response) => response.body?.cancel())
        .catch(() => undefined);
    }
    return push;
  }
}

/** MessageStructure=json: the platform's own entry, else "default", as SNS picks it. */
function platformPayload(message: string, platform: PushPlatform): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    parsed = null;
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new SnsError(
      400,
      'InvalidParameter',
      'Invalid parameter: Message Structure - JSON message body failed to parse',
    );
  }
  const entries = parsed as Record<string, unknown>;
  const chosen = entries[platform] ?? entries.default;
  if (typeof chosen !== 'string') {
    throw new SnsError(
      400,
      'InvalidParameter',
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    );
  }
  return chosen;
}
