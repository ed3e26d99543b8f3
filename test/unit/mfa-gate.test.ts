import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiErrorBody, MeResponse } from '../../functions/core/api-types.ts';
import type { MfaRequirement, PortalSettings } from '../../functions/core/settings.ts';
import { handler as getMe } from '../../functions/handlers/get-me.ts';
import { handler as listDevices } from '../../functions/handlers/list-devices.ts';
import { handler as wipeDevice } from '../../functions/handlers/wipe-device.ts';
import { clearMfaCache, MFA_CACHE_MS, requireMfa, routeNeedsMfa } from '../../functions/http/mfa-gate.ts';
import { GetMe, ListDevices, routes, WipeDevice } from '../../functions/routes.ts';
import {
  ALICE_EMAIL,
  ALICE_SUB,
  accessClaims,
  apiEvent,
  freshClock,
  groupClaims,
  jsonBody,
  lambdaContext,
} from './fixtures.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const cognito = mockClient(CognitoIdentityProviderClient);

function settingsWith(mfaRequired: MfaRequirement) {
  dynamo.on(GetCommand, { Key: { pk: 'CONFIG', sk: 'SETTINGS' } }).resolves({
    Item: {
      pk: 'CONFIG',
      sk: 'SETTINGS',
      settings: { mfaRequired } satisfies Partial<PortalSettings>,
      version: 3,
    },
  });
}

function aliceWithMfa(on: boolean) {
  cognito.on(AdminGetUserCommand).resolves({
    Username: ALICE_SUB,
    UserAttributes: [
      { Name: 'sub', Value: ALICE_SUB },
      { Name: 'email', Value: ALICE_EMAIL },
    ],
    Enabled: true,
    ...(on ? { UserMFASettingList: ['SOFTWARE_TOKEN_MFA'], PreferredMfaSetting: 'SOFTWARE_TOKEN_MFA' } : {}),
  });
}

const devices = () =>
  listDevices(
    apiEvent({ method: 'GET', path: '/api/devices', claims: accessClaims() }),
    lambdaContext('ListDevices'),
  );
const me = () =>
  getMe(apiEvent({ method: 'GET', path: '/api/me', claims: accessClaims() }), lambdaContext('GetMe'));

beforeEach(() => {
  dynamo.reset();
  cognito.reset();
  clearMfaCache();
  freshClock();
  dynamo.on(GetCommand).resolves({});
  dynamo.on(QueryCommand).resolves({ Items: [] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('which routes need a second factor', () => {
  it('OFF: none; ALL: every user route but GET /api/me; SENSITIVE: the recent-sign-in routes only', () => {
    const user = routes.filter((r) => r.access === 'user' || r.access === 'admin');
    expect(user.filter((r) => routeNeedsMfa(r, { mfaRequired: 'OFF' }))).toEqual([]);
    expect(user.filter((r) => !routeNeedsMfa(r, { mfaRequired: 'ALL' })).map((r) => r.name)).toEqual([
      'GetMe',
    ]);
    expect(user.filter((r) => routeNeedsMfa(r, { mfaRequired: 'SENSITIVE' })).map((r) => r.name)).toEqual(
      user.filter((r) => r.recentSignIn).map((r) => r.name),
    );
    expect(routeNeedsMfa(WipeDevice, { mfaRequired: 'SENSITIVE' })).toBe(true);
    expect(routeNeedsMfa(ListDevices, { mfaRequired: 'SENSITIVE' })).toBe(false);
  });

  it('every user and admin route may read the MFA state (AdminGetUser)', () => {
    for (const route of routes.filter((r) => r.access === 'user' || r.access === 'admin')) {
      expect(route.permissions.cognito, route.name).toContain('cognito-idp:AdminGetUser');
    }
  });
});

describe('mfaRequired enforcement in the shared stack', () => {
  it('OFF reads no MFA state at all', async () => {
    settingsWith('OFF');
    aliceWithMfa(false);

    expect((await devices()).statusCode).toBe(200);
    expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
  });

  it('ALL refuses a user without TOTP with 403 MFA_REQUIRED, pointing at account settings', async () => {
    settingsWith('ALL');
    aliceWithMfa(false);

    const result = await devices();

    expect(result.statusCode).toBe(403);
    const body = jsonBody<ApiErrorBody>(result);
    expect(body.error.code).toBe('MFA_REQUIRED');
    expect(body.error.message).toMatch(/Account settings/);
    expect(body.error.details).toEqual({ setUpAt: '/account' });
  });

  it('ALL still answers GET /api/me, which tells the web app what is required', async () => {
    settingsWith('ALL');
    aliceWithMfa(false);

    const result = await me();

    expect(result.statusCode).toBe(200);
    expect(jsonBody<MeResponse>(result).mfa).toEqual({ enabled: false, required: 'ALL' });
  });

  it('ALL lets a user with TOTP in', async () => {
    settingsWith('ALL');
    aliceWithMfa(true);

    expect((await devices()).statusCode).toBe(200);
    expect(jsonBody<MeResponse>(await me()).mfa).toEqual({ enabled: true, required: 'ALL' });
  });

  it('SENSITIVE lets a user without TOTP list devices, but not wipe one', async () => {
    settingsWith('SENSITIVE');
    aliceWithMfa(false);

    expect((await devices()).statusCode).toBe(200);
    const wipe = await wipeDevice(
      apiEvent({
        method: 'POST',
        path: '/api/devices/dev-1/wipe',
        routeKey: 'POST /api/devices/{deviceId}/wipe',
        pathParameters: { deviceId: '0f8fad5b-d9cb-469f-a165-70867728950e' },
        // A fresh sign-in: only the second factor is missing.
        claims: groupClaims(['portal-admins'], { auth_time: String(Math.floor(Date.now() / 1000)) }),
      }),
      lambdaContext('WipeDevice'),
    );
    expect(wipe.statusCode).toBe(403);
    expect(jsonBody<ApiErrorBody>(wipe).error.code).toBe('MFA_REQUIRED');
  });
});

describe('requireMfa cache', () => {
  it('keeps a "has TOTP" answer for a minute, never a "has none"', async () => {
    let now = 1_000_000;
    const lookup = vi.fn(async () => false);
    const rule = { mfaRequired: 'ALL' } as const;

    await expect(requireMfa(ListDevices, rule, { username: 'u1' }, lookup, () => now)).rejects.toThrow(
      /second sign-in step/,
    );
    lookup.mockResolvedValue(true);
    await requireMfa(ListDevices, rule, { username: 'u1' }, lookup, () => now);
    await requireMfa(ListDevices, rule, { username: 'u1' }, lookup, () => now + MFA_CACHE_MS - 1);
    expect(lookup).toHaveBeenCalledTimes(2);

    now += MFA_CACHE_MS;
    lookup.mockResolvedValue(false);
    await expect(requireMfa(ListDevices, rule, { username: 'u1' }, lookup, () => now)).rejects.toThrow();
    expect(lookup).toHaveBeenCalledTimes(3);
  });

  it('does not look anything up for a route that is exempt', async () => {
    const lookup = vi.fn(async () => false);
    await requireMfa(GetMe, { mfaRequired: 'ALL' }, { username: 'u2' }, lookup);
    expect(lookup).not.toHaveBeenCalled();
  });
});
