/** Builders for what Lambda hands a handler: an HTTP API payload 2.0 event and a context. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import { deviceToItem } from '../../functions/adapters/items.ts';
import type { CertificateRecord } from '../../functions/core/certificates.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import type { ApiEvent } from '../../functions/http/api-handler.ts';

/** The claims API Gateway's JWT authorizer passes on: every value a string, arrays as "[a b]". */
export type JwtClaims = Record<string, string>;

export const ALICE_SUB = '11111111-2222-4333-8444-555555555555';
export const ALICE_EMAIL = 'alice@example.com';

/** The CloudFront origin secret (AWSCURRENT) the mocked Secrets Manager answers; apiEvent sends it. */
export const ORIGIN_SECRET = 'origin-secret-for-unit-tests-0001';
/** The key one-time PINs are HMACed with (the value of ONE_TIME_SECRET_KEY_ARN in the tests). */
export const ONE_TIME_SECRET_KEY = 'one-time-secret-key-for-unit-tests';

/** Fixed "now" of the unit tests: 2025-06-02T10:00:00Z. */
export const NOW = new Date('2025-06-02T10:00:00.000Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

/** Access-token claims as API Gateway renders them; override or add what a test needs. */
export function accessClaims(overrides: JwtClaims = {}): JwtClaims {
  return {
    sub: ALICE_SUB,
    // A pool that signs in by email names its users by their sub; the email is an attribute.
    username: ALICE_SUB,
    client_id: 'test-client-id',
    iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool',
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    auth_time: String(NOW_SECONDS - 60),
    iat: String(NOW_SECONDS - 60),
    exp: String(NOW_SECONDS + 840),
    jti: 'b7c3f0d2-0000-4000-8000-000000000001',
    ...overrides,
  };
}

/** Access-token claims of a member of the given groups, e.g. groupClaims(['portal-admins']). */
export function groupClaims(groups: readonly string[], overrides: JwtClaims = {}): JwtClaims {
  return accessClaims({ 'cognito:groups': `[${groups.join(' ')}]`, ...overrides });
}

/** ID-token claims: signed by the same pool, but not an access token (token_use id, aud). */
export function idTokenClaims(overrides: JwtClaims = {}): JwtClaims {
  const { client_id: clientId = 'test-client-id', scope: _scope, jti: _jti, ...rest } = accessClaims();
  return {
    ...rest,
    aud: clientId,
    token_use: 'id',
    email: ALICE_EMAIL,
    'cognito:username': ALICE_SUB,
    ...overrides,
  };
}

export interface EventOptions {
  method?: string;
  path?: string;
  /** The route key API Gateway matched, e.g. "GET /api/devices/{deviceId}"; defaults to method + path. */
  routeKey?: string;
  /** Claims of the verified token; omitted means the request carried no authorizer context. */
  claims?: JwtClaims;
  body?: string;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  /** The x-origin-verify header CloudFront adds: ORIGIN_SECRET unless given; null sends none. */
  originSecret?: string | null;
}

/** An HTTP API (payload format 2.0) event as API Gateway sends it to a Lambda integration. */
export function apiEvent(options: EventOptions = {}): ApiEvent {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/api/me';
  const routeKey = options.routeKey ?? `${method} ${path}`;
  const query = options.queryStringParameters;
  const originSecret = options.originSecret === undefined ? ORIGIN_SECRET : options.originSecret;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    headers: {
      host: 'portal.example.com',
      'user-agent': 'vitest',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '203.0.113.7',
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(originSecret !== null ? { 'x-origin-verify': originSecret } : {}),
      ...options.headers,
    },
    queryStringParameters: query,
    pathParameters: options.pathParameters,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      domainName: 'portal.example.com',
      domainPrefix: 'portal',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'vitest',
      },
      requestId: 'req-0001',
      routeKey,
      stage: '$default',
      time: '02/Jun/2025:10:00:00 +0000',
      timeEpoch: NOW.getTime(),
      ...(options.claims ? { authorizer: { jwt: { claims: options.claims } } } : {}),
    },
    body: options.body,
    isBase64Encoded: false,
  };
}

/** A minimal Lambda context; handlers read nothing from it but middy passes it along. */
export function lambdaContext(functionName = 'portal-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'aws-req-0001',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2025/06/02/[$LATEST]0001',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The parsed JSON body of a handler result. */
export function jsonBody<T>(result: { body?: string | undefined }): T {
  return JSON.parse(result.body ?? '') as T;
}

let settingsEpoch = 0;

/**
 * Fakes `Date` (only Date: promises and timers stay real) at a moment 11 s after the previous
 * call's, so the settings a PortalTable cached in an earlier test (10 s cache, one table per
 * module instance) are never served to the next one. Returns the faked now.
 */
export function freshClock(): Date {
  settingsEpoch += 1;
  const now = new Date(NOW.getTime() + settingsEpoch * 11_000);
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(now);
  return now;
}

/** A device item's `device` attribute (DESIGN §6); active unless overridden. */
export function deviceRecord(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    userSub: ALICE_SUB,
    deviceId: 'dev-active-1',
    status: 'ACTIVE',
    platform: 'IOS',
    ownership: 'EMPLOYEE',
    facts: {
      platform: 'IOS',
      deviceType: 'iPhone 15',
      manufacturer: 'Apple',
      osVersion: '17.5',
      imei: '356938035643809',
      phoneNumber: '+15555550101',
      carrier: 'Example Mobile',
    },
    createdAt: '2025-05-01T09:00:00.000Z',
    registeredAt: '2025-05-01T09:05:00.000Z',
    lastCheckInAt: '2025-06-02T09:30:00.000Z',
    registration: null,
    credentialHash: 'c0ffee',
    version: 3,
    ...overrides,
  };
}

/** A pending registration expiring at `expiresAt`. */
export function pendingDevice(deviceId: string, createdAt: string, expiresAt: string): DeviceRecord {
  return deviceRecord({
    deviceId,
    status: 'PENDING',
    platform: 'ANDROID',
    facts: { platform: 'ANDROID' },
    createdAt,
    registeredAt: null,
    lastCheckInAt: null,
    credentialHash: undefined,
    version: 1,
    registration: {
      method: 'PIN',
      expiresAt,
      pin: { hmac: 'ab12', tries: 0, expiresAt },
      deliveries: [],
    },
  });
}

/** The table item holding a device, as the Query returns it. */
export function deviceItem(device: DeviceRecord): Record<string, unknown> {
  return deviceToItem(device);
}

/** The files under test/fixtures/certificates (see its README). */
export type CertificateFixture =
  | 'alice-smime-chain.pem'
  | 'alice-smime.der'
  | 'alice-smime-with-key.pem'
  | 'example-ca.der'
  | 'alice-vpn.p12'
  | 'alice-vpn-legacy.p12'
  | 'alice-ec.p12'
  | 'alice-ec-no-key.p12'
  | 'not-a-certificate.txt';

export function certificateFixture(name: CertificateFixture): Buffer {
  return readFileSync(new URL(`../fixtures/certificates/${name}`, import.meta.url));
}

/** The password of every fixture PKCS#12 with a key. */
export const P12_PASSWORD = 'correct-horse';
/** The fixtures' validity: from 2026-12-02T00:03:40Z (alice-ec a second later) to 2036-11-29T00:03:40Z. */
export const CERTIFICATES_VALID_FROM = new Date('2026-12-02T00:03:40.000Z');
export const CERTIFICATES_VALID_TO = new Date('2036-11-29T00:03:40.000Z');
/** A moment every fixture certificate is valid at (NOW, in 2025, is before they start). */
export const CERTIFICATES_NOW = new Date('2027-01-15T10:00:00.000Z');

export const CERTIFICATE_ID = 'e0000000-0000-4000-8000-000000000001';
const SMIME_DER = certificateFixture('alice-smime.der');
/** The SHA-256 fingerprint of alice-smime.der, the certificate certificateRecord() keeps. */
export const SMIME_FINGERPRINT = new X509Certificate(SMIME_DER).fingerprint256;

/** Alice's S/MIME certificate as kept (no key), uploaded a day before CERTIFICATES_NOW. */
export function certificateRecord(overrides: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    certificateId: CERTIFICATE_ID,
    userSub: ALICE_SUB,
    name: 'Alice Example',
    fileName: 'alice-smime.der',
    format: 'DER',
    subject: 'C=US, O=Example Corp, CN=Alice Example, emailAddress=alice@example.com',
    issuer: 'C=US, O=Example Corp, CN=Example Corp Test CA',
    serialNumber: '11416765E2A14CFEEF09A331128AD897C212C207',
    validFrom: CERTIFICATES_VALID_FROM.toISOString(),
    validTo: CERTIFICATES_VALID_TO.toISOString(),
    fingerprintSha256: SMIME_FINGERPRINT,
    keyUsage: ['Digital signature', 'Key encipherment', 'Email protection', 'Client authentication'],
    uploadedAt: new Date(CERTIFICATES_NOW.getTime() - 24 * 3600_000).toISOString(),
    version: 1,
    certificateDer: SMIME_DER.toString('base64'),
    chainDer: [],
    deliveries: {},
    ...overrides,
  };
}
