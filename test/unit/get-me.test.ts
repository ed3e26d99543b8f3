import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiErrorBody, MeResponse } from '../../functions/core/api-types.ts';
import { defaultSettings, type PortalSettings } from '../../functions/core/settings.ts';
import { handler } from '../../functions/handlers/get-me.ts';
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

const ALICE_ATTRIBUTES = [
  { Name: 'sub', Value: ALICE_SUB },
  { Name: 'email', Value: ALICE_EMAIL },
  { Name: 'email_verified', Value: 'true' },
  { Name: 'name', Value: 'Alice Martin' },
  { Name: 'phone_number', Value: '+15555550101' },
  { Name: 'locale', Value: 'fr' },
];

function storedSettings(settings: Partial<PortalSettings>, version = 7) {
  return { Item: { pk: 'CONFIG', sk: 'SETTINGS', settings, version } };
}

async function getMe(claims = accessClaims()) {
  return handler(apiEvent({ method: 'GET', path: '/api/me', claims }), lambdaContext('GetMe'));
}

beforeEach(() => {
  dynamo.reset();
  cognito.reset();
  freshClock();
  dynamo.on(GetCommand).resolves({});
  cognito.on(AdminGetUserCommand).resolves({
    Username: ALICE_SUB,
    UserAttributes: ALICE_ATTRIBUTES,
    Enabled: true,
  });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('GET /api/me', () => {
  it('looks the caller up in the user pool by the user name in the access token', async () => {
    await getMe();

    expect(cognito).toHaveReceivedCommandExactlyOnceWith(AdminGetUserCommand, {
      UserPoolId: 'us-east-1_TestPool',
      Username: ALICE_SUB,
    });
  });

  it('returns the profile from the user attributes, with the sub from the token', async () => {
    const result = await getMe();

    expect(result.statusCode).toBe(200);
    expect(jsonBody<MeResponse>(result).user).toEqual({
      sub: ALICE_SUB,
      username: ALICE_SUB,
      email: ALICE_EMAIL,
      displayName: 'Alice Martin',
      phoneNumber: '+15555550101',
      language: 'fr',
    });
  });

  it('fills a missing name, phone number and locale with the email prefix, null and en', async () => {
    cognito.on(AdminGetUserCommand).resolves({
      Username: ALICE_SUB,
      UserAttributes: [
        { Name: 'sub', Value: ALICE_SUB },
        { Name: 'email', Value: ALICE_EMAIL },
      ],
      Enabled: true,
    });

    const result = await getMe();

    expect(jsonBody<MeResponse>(result).user).toMatchObject({
      displayName: 'alice',
      phoneNumber: null,
      language: 'en',
    });
  });

  it("answers the portal's default language for a profile without a locale", async () => {
    dynamo.on(GetCommand).resolves(storedSettings({ defaultLanguage: 'de-CH' }));
    cognito.on(AdminGetUserCommand).resolves({
      Username: ALICE_SUB,
      UserAttributes: ALICE_ATTRIBUTES.filter((a) => a.Name !== 'locale'),
      Enabled: true,
    });

    expect(jsonBody<MeResponse>(await getMe()).user.language).toBe('de-CH');
  });

  it("answers the profile's own locale over the portal's default language", async () => {
    dynamo.on(GetCommand).resolves(storedSettings({ defaultLanguage: 'de-CH' }));

    expect(jsonBody<MeResponse>(await getMe()).user.language).toBe('fr');
  });

  it('uses the default settings when the table holds no settings item', async () => {
    const defaults = defaultSettings();

    const me = jsonBody<MeResponse>(await getMe());

    expect(me).toMatchObject({
      roles: expect.arrayContaining(defaults.defaultRoles),
      isAdmin: false,
      features: {
        registrationMethods: defaults.registrationMethods,
        ownershipChoice: defaults.usersMayChooseOwnership,
        defaultOwnership: defaults.defaultOwnership,
        derivedCredential: defaults.derivedCredential.enabled,
      },
      helpdesk: defaults.helpdesk,
      deviceLimit: defaults.deviceLimitPerUser,
    });
    expect(me.roles).toHaveLength(defaults.defaultRoles.length);
  });

  it('reads the settings item by its key from the configured table, consistently', async () => {
    await getMe();

    expect(dynamo).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'portal-test',
      Key: { pk: 'CONFIG', sk: 'SETTINGS' },
      ConsistentRead: true,
    });
  });

  it('reads the settings once per request although the role check and the profile both need them', async () => {
    await getMe();

    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('gives an employee without groups the default roles only, with self-service always among them', async () => {
    dynamo.on(GetCommand).resolves(storedSettings({ defaultRoles: ['locate'] }));

    const me = jsonBody<MeResponse>(await getMe());

    expect([...me.roles].sort()).toEqual(['locate', 'self-service']);
  });

  it("adds the roles the settings map to the caller's groups", async () => {
    dynamo.on(GetCommand).resolves(
      storedSettings({
        defaultRoles: ['self-service'],
        groupRoles: { 'field-staff': ['wipe', 'retire'], 'other-team': ['unlock'] },
      }),
    );

    const me = jsonBody<MeResponse>(await getMe(groupClaims(['field-staff'])));

    expect([...me.roles].sort()).toEqual(['retire', 'self-service', 'wipe']);
  });

  it('gives a member of portal-admins every admin role and marks the profile as admin', async () => {
    const me = jsonBody<MeResponse>(await getMe(groupClaims(['portal-admins'])));

    expect(me.isAdmin).toBe(true);
    expect([...me.roles].sort()).toEqual([...(defaultSettings().groupRoles['portal-admins'] ?? [])].sort());
  });

  it('reports the features, helpdesk and device limit the administrator stored', async () => {
    const helpdesk = {
      name: 'Service Desk North',
      phone: '+44 20 7946 0000',
      email: 'desk@example.org',
      url: 'https://desk.example.org',
      hours: '24/7',
      note: '',
    };
    dynamo.on(GetCommand).resolves(
      storedSettings({
        helpdesk,
        deviceLimitPerUser: 2,
        usersMayChooseOwnership: false,
        defaultOwnership: 'COMPANY',
        derivedCredential: { enabled: true, entrustUrl: 'https://entrust.example.org/ssm' },
      }),
    );

    const me = jsonBody<MeResponse>(await getMe());

    expect(me.helpdesk).toEqual(helpdesk);
    expect(me.deviceLimit).toBe(2);
    expect(me.features).toMatchObject({
      ownershipChoice: false,
      defaultOwnership: 'COMPANY',
      derivedCredential: true,
    });
  });

  it('answers 401 USER_DISABLED when the user pool has disabled the account', async () => {
    cognito.on(AdminGetUserCommand).resolves({
      Username: ALICE_SUB,
      UserAttributes: ALICE_ATTRIBUTES,
      Enabled: false,
    });

    const result = await getMe();

    expect(result.statusCode).toBe(401);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('USER_DISABLED');
  });

  it('answers 401 USER_DISABLED when the user no longer exists in the pool', async () => {
    cognito
      .on(AdminGetUserCommand)
      .rejects(new UserNotFoundException({ message: 'User does not exist.', $metadata: {} }));

    const result = await getMe();

    expect(result.statusCode).toBe(401);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('USER_DISABLED');
  });
});
