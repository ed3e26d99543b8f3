/**
 * The whole path of a signed-in request on the local twin: cognito-local signs in, the local JWT
 * authorizer checks the token as API Gateway would, the handler reads DynamoDB Local and Cognito.
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiErrorBody, DeviceListResponse, MeResponse } from '../../functions/core/api-types.ts';
import {
  ADMIN,
  ALICE,
  api,
  cognitoLocalPrivateKey,
  decodeJwt,
  type JwtPayload,
  nowSeconds,
  signJwt,
  type Tokens,
  tokensOf,
} from './helpers.ts';

let alice: Tokens;
let aliceClaims: JwtPayload;

beforeAll(async () => {
  alice = await tokensOf(ALICE);
  aliceClaims = decodeJwt(alice.accessToken);
});

function expectUnauthorized(answer: { status: number; body: unknown; headers: Headers }) {
  expect(answer.status).toBe(401);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.body).toEqual({
    error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/sign in/i) },
  });
}

describe('signed in with an access token', () => {
  it("GET /api/me answers 200 with alice's profile, her default roles and the helpdesk", async () => {
    const answer = await api<MeResponse>('/api/me', { token: alice.accessToken });

    expect(answer.status).toBe(200);
    expect(answer.body.user).toMatchObject({
      sub: aliceClaims.sub,
      email: ALICE,
      displayName: 'Alice Martin',
      phoneNumber: '+15555550101',
    });
    expect(answer.body.isAdmin).toBe(false);
    expect(answer.body.roles).toContain('self-service');
    expect(answer.body.roles).not.toContain('wipe');
    expect(answer.body.helpdesk.email).toEqual(expect.stringContaining('@'));
    expect(answer.body.deviceLimit).toBeGreaterThan(0);
    expect(answer.body.features.registrationMethods).toEqual({
      invitation: expect.any(Boolean),
      pin: expect.any(Boolean),
      qr: expect.any(Boolean),
      passwordAtGo: expect.any(Boolean),
    });
  });

  it('GET /api/me marks a member of portal-admins as admin with the admin roles', async () => {
    const admin = await tokensOf(ADMIN);

    const answer = await api<MeResponse>('/api/me', { token: admin.accessToken });

    expect(answer.status).toBe(200);
    expect(answer.body.user.email).toBe(ADMIN);
    expect(answer.body.isAdmin).toBe(true);
    expect(answer.body.roles).toEqual(expect.arrayContaining(['wipe', 'retire', 'change-ownership']));
  });

  it('GET /api/devices answers 200 with an empty list for a user who registered nothing', async () => {
    const answer = await api<DeviceListResponse>('/api/devices', { token: alice.accessToken });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ devices: [], inUse: 0 });
  });

  it('answers API calls uncached, as JSON', async () => {
    const answer = await api('/api/devices', { token: alice.accessToken });

    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('accepts a token re-signed with the emulator key and unchanged claims (the forgery below is sound)', async () => {
    const resigned = signJwt(aliceClaims, cognitoLocalPrivateKey());

    const answer = await api<MeResponse>('/api/me', { token: resigned });

    expect(answer.status).toBe(200);
  });
});

describe('refused with 401 and a JSON error', () => {
  it('a request without a token', async () => {
    expectUnauthorized(await api('/api/me'));
  });

  it('a request whose Authorization header is not a Bearer token', async () => {
    expectUnauthorized(
      await api('/api/devices', { headers: { authorization: `Basic ${alice.accessToken}` } }),
    );
  });

  it('an expired access token, correctly signed by the emulator', async () => {
    const now = nowSeconds();
    const expired = signJwt(
      { ...aliceClaims, iat: now - 1200, auth_time: now - 1200, exp: now - 300 },
      cognitoLocalPrivateKey(),
    );

    expectUnauthorized(await api('/api/me', { token: expired }));
  });

  it('an access token without an expiry, correctly signed by the emulator', async () => {
    const { exp: _exp, ...claims } = aliceClaims;
    expectUnauthorized(await api('/api/me', { token: signJwt(claims, cognitoLocalPrivateKey()) }));
  });

  it('an access token issued in the future, correctly signed by the emulator', async () => {
    const future = nowSeconds() + 3600;
    const early = signJwt({ ...aliceClaims, iat: future, exp: future + 900 }, cognitoLocalPrivateKey());
    expectUnauthorized(await api('/api/me', { token: early }));
  });

  it('an access token signed by another key under the emulator key id', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signJwt(aliceClaims, privateKey, 'CognitoLocal');

    expectUnauthorized(await api('/api/me', { token: forged }));
  });

  it('an ID token instead of an access token', async () => {
    expectUnauthorized(await api('/api/me', { token: alice.idToken }));
  });

  it('an access token issued to another app client', async () => {
    const other = signJwt({ ...aliceClaims, client_id: 'some-other-client' }, cognitoLocalPrivateKey());

    expectUnauthorized(await api('/api/devices', { token: other }));
  });

  it('an access token from another issuer', async () => {
    const other = signJwt(
      { ...aliceClaims, iss: `${inject('cognitoEndpoint')}/local_OtherPool` },
      cognitoLocalPrivateKey(),
    );

    expectUnauthorized(await api('/api/devices', { token: other }));
  });

  it('a token with its signature removed (alg none)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'CognitoLocal' })).toString(
      'base64url',
    );
    const payload = Buffer.from(JSON.stringify(aliceClaims)).toString('base64url');

    expectUnauthorized(await api('/api/me', { token: `${header}.${payload}.` }));
  });
});

describe('errors of the local API', () => {
  it('an unknown API path answers 404 with the JSON error shape', async () => {
    const answer = await api<ApiErrorBody>('/api/no-such-route', { token: alice.accessToken });

    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });
});

describe('GET /config.json', () => {
  it('gives the web app the region, the pool, its client and the Cognito proxy endpoint', async () => {
    const first = await api('/config.json');
    const second = await api<Record<string, unknown>>('/config.json');

    expect(second.status).toBe(200);
    expect(second.body).toEqual({
      region: 'us-east-1',
      userPoolId: inject('userPoolId'),
      userPoolClientId: inject('userPoolClientId'),
      cognitoEndpoint: `${inject('portalUrl')}/_local/cognito/`,
      // Tells the web app what the local twin cannot do (e.g. no GlobalSignOut in cognito-local).
      local: true,
    });
    expect(second.body).toEqual(first.body);
  });
});
