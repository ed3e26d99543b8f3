/**
 * Account settings against the local twin (cognito-local 5.3, DynamoDB Local): PATCH /api/me, the
 * password change, the authenticator app (TOTP) from set-up to sign-in with SOFTWARE_TOKEN_MFA,
 * and /go refusing the password of a user with a second factor. Everything the browser does goes
 * through the portal's /_local/cognito/ proxy, as the web app's calls do.
 */
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { describe, expect, inject, it } from 'vitest';
import type { ApiErrorBody, EnrollVerifyResponse, MeResponse } from '../../functions/core/api-types.ts';
import { DEFAULT_DEMO_PASSWORD } from '../../infra/local/local-portal.ts';
import { totp } from '../totp.ts';
import { api, portalUrl } from './helpers.ts';
import { newUser, putSettings, resetSettings, type TestUser, userItems } from './local-table.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** One call through the portal's Cognito proxy: status and the JSON answer. */
async function cognito(target: string, body: Record<string, unknown>) {
  const response = await fetch(`${portalUrl()}/_local/cognito/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${target}`,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const initiate = (email: string, password = DEFAULT_DEMO_PASSWORD) =>
  cognito('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: inject('userPoolClientId'),
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });

async function poolUser(email: string) {
  const client = new CognitoIdentityProviderClient({
    region: 'us-east-1',
    credentials,
    endpoint: inject('cognitoEndpoint'),
  });
  return client.send(new AdminGetUserCommand({ UserPoolId: inject('userPoolId'), Username: email }));
}

/** The whole set-up the account page makes: a secret, its first code, then TOTP on and preferred. */
async function turnOnTotp(user: TestUser): Promise<string> {
  const associated = await cognito('AssociateSoftwareToken', { AccessToken: user.accessToken });
  expect(associated.status, JSON.stringify(associated.body)).toBe(200);
  const secret = String(associated.body.SecretCode);
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  const wrong = await cognito('VerifySoftwareToken', { AccessToken: user.accessToken, UserCode: '000000' });
  if (totp(secret) !== '000000') expect(wrong.body.__type).toMatch(/CodeMismatch/);
  const verified = await cognito('VerifySoftwareToken', {
    AccessToken: user.accessToken,
    UserCode: totp(secret),
    FriendlyDeviceName: 'Authenticator app',
  });
  expect(verified.body).toMatchObject({ Status: 'SUCCESS' });
  const preference = await cognito('SetUserMFAPreference', {
    AccessToken: user.accessToken,
    SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
  });
  expect(preference.status).toBe(200);
  return secret;
}

describe('PATCH /api/me', () => {
  it('stores name, phone (E.164) and language in the user pool, and audits the change', async () => {
    const user = await newUser();

    const answer = await api<MeResponse>('/api/me', {
      method: 'PATCH',
      token: user.accessToken,
      body: {
        displayName: 'Dana Example',
        phoneNumber: '(415) 555-0123',
        phoneCountry: 'US',
        language: 'de',
      },
    });

    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.user).toMatchObject({
      displayName: 'Dana Example',
      phoneNumber: '+14155550123',
      language: 'de',
      email: user.email,
    });
    const attributes = (await poolUser(user.email)).UserAttributes ?? [];
    expect(attributes).toEqual(
      expect.arrayContaining([
        { Name: 'name', Value: 'Dana Example' },
        { Name: 'phone_number', Value: '+14155550123' },
        { Name: 'locale', Value: 'de' },
      ]),
    );
    const audit = (await userItems(user.sub)).filter((item) => item.type === 'AUDIT');
    expect(audit.map((item) => item.event)).toEqual([
      expect.objectContaining({
        action: 'PROFILE_UPDATED',
        deviceId: '-',
        detail: 'name,phone_number,locale',
      }),
    ]);
  });

  it('answers 400 PHONE_NUMBER_INVALID for a number that cannot get SMS, and changes nothing', async () => {
    const user = await newUser('+15555550142');

    const answer = await api<ApiErrorBody>('/api/me', {
      method: 'PATCH',
      token: user.accessToken,
      body: { phoneNumber: '+1 900 555 0100' },
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('PHONE_NUMBER_INVALID');
    expect((await poolUser(user.email)).UserAttributes).toContainEqual({
      Name: 'phone_number',
      Value: '+15555550142',
    });
  });
});

describe('change password (Cognito ChangePassword with the access token)', () => {
  it('refuses a wrong current password, and changes it with the right one', async () => {
    const user = await newUser();

    const wrong = await cognito('ChangePassword', {
      AccessToken: user.accessToken,
      PreviousPassword: 'not my password',
      ProposedPassword: 'a brand new passphrase',
    });
    // cognito-local answers InvalidPasswordException where AWS answers NotAuthorizedException.
    expect(wrong.status).toBe(400);
    expect(String(wrong.body.__type)).toMatch(/InvalidPassword|NotAuthorized/);

    const changed = await cognito('ChangePassword', {
      AccessToken: user.accessToken,
      PreviousPassword: DEFAULT_DEMO_PASSWORD,
      ProposedPassword: 'a brand new passphrase',
    });
    expect(changed.status).toBe(200);
    expect((await initiate(user.email, 'a brand new passphrase')).body.AuthenticationResult).toBeDefined();
    expect((await initiate(user.email)).status).toBe(400);
  });
});

describe('authenticator app (TOTP)', () => {
  it('set up with AssociateSoftwareToken, VerifySoftwareToken and SetUserMFAPreference; GET /api/me says so', async () => {
    const user = await newUser();
    const before = await api<MeResponse>('/api/me', { token: user.accessToken });
    expect(before.body.mfa).toEqual({ enabled: false, required: 'OFF' });

    await turnOnTotp(user);

    const pool = await poolUser(user.email);
    expect(pool.UserMFASettingList).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(pool.PreferredMfaSetting).toBe('SOFTWARE_TOKEN_MFA');
    const after = await api<MeResponse>('/api/me', { token: user.accessToken });
    expect(after.body.mfa).toEqual({ enabled: true, required: 'OFF' });
  });

  it('sign-in then answers SOFTWARE_TOKEN_MFA; a wrong code is refused, the right one signs in', async () => {
    const user = await newUser();
    const secret = await turnOnTotp(user);

    const first = await initiate(user.email);
    expect(first.body.ChallengeName).toBe('SOFTWARE_TOKEN_MFA');
    expect(first.body.AuthenticationResult).toBeUndefined();
    const session = String(first.body.Session);
    const username = String(
      (first.body.ChallengeParameters as Record<string, string>).USER_ID_FOR_SRP ?? user.email,
    );

    const respond = (code: string) =>
      cognito('RespondToAuthChallenge', {
        ClientId: inject('userPoolClientId'),
        ChallengeName: 'SOFTWARE_TOKEN_MFA',
        Session: session,
        ChallengeResponses: { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: code },
      });
    const wrongCode = String((Number(totp(secret)) + 1) % 1_000_000).padStart(6, '0');
    expect((await respond(wrongCode)).body.__type).toMatch(/CodeMismatch/);

    const signedIn = await respond(totp(secret));
    const result = signedIn.body.AuthenticationResult as { AccessToken: string } | undefined;
    expect(result?.AccessToken).toEqual(expect.any(String));
    const me = await api<MeResponse>('/api/me', { token: result?.AccessToken ?? '' });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(user.email);
  });

  it('turned off with SetUserMFAPreference: sign-in asks for the password only again', async () => {
    const user = await newUser();
    await turnOnTotp(user);

    const off = await cognito('SetUserMFAPreference', {
      AccessToken: user.accessToken,
      SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
    });

    expect(off.status).toBe(200);
    expect((await initiate(user.email)).body.AuthenticationResult).toBeDefined();
  });

  it('/go refuses the right password of a TOTP user with the same BAD_CREDENTIALS as a wrong one', async () => {
    const user = await newUser();
    await putSettings({ goAttemptsPerAddress: 10_000 });
    const registration = await api('/api/registrations', {
      method: 'POST',
      token: user.accessToken,
      body: { platform: 'ANDROID', method: 'INVITATION', delivery: ['EMAIL'] },
    });
    expect(registration.status).toBe(201);
    const wrong = await api<EnrollVerifyResponse & ApiErrorBody>('/api/enroll/verify', {
      method: 'POST',
      body: { username: user.email, password: 'wrong password' },
    });
    await turnOnTotp(user);

    const right = await api<EnrollVerifyResponse & ApiErrorBody>('/api/enroll/verify', {
      method: 'POST',
      body: { username: user.email, password: DEFAULT_DEMO_PASSWORD },
    });

    expect(wrong.status).toBe(401);
    expect(right.status).toBe(401);
    expect(right.body).toEqual(wrong.body);
    expect(right.body.error.code).toBe('BAD_CREDENTIALS');
  });
});

describe('mfaRequired, with the MFA state cognito-local keeps (AdminGetUser UserMFASettingList)', () => {
  it('ALL: 403 MFA_REQUIRED on user routes but GET /api/me until TOTP is on; SENSITIVE: only wipe and the like', async () => {
    const without = await newUser();
    const withTotp = await newUser();
    await turnOnTotp(withTotp);
    try {
      await putSettings({ mfaRequired: 'ALL' });
      const refused = await api<ApiErrorBody>('/api/devices', { token: without.accessToken });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('MFA_REQUIRED');
      const me = await api<MeResponse>('/api/me', { token: without.accessToken });
      expect(me.status).toBe(200);
      expect(me.body.mfa).toEqual({ enabled: false, required: 'ALL' });
      expect((await api('/api/devices', { token: withTotp.accessToken })).status).toBe(200);

      await putSettings({ mfaRequired: 'SENSITIVE' });
      expect((await api('/api/devices', { token: without.accessToken })).status).toBe(200);
    } finally {
      await resetSettings();
    }
  });
});

describe('sign out everywhere', () => {
  it('RevokeToken works in cognito-local; GlobalSignOut does not exist there (the web app skips it locally)', async () => {
    const user = await newUser();
    const tokens = await initiate(user.email);
    const refreshToken = String((tokens.body.AuthenticationResult as Record<string, string>).RefreshToken);

    const revoked = await cognito('RevokeToken', {
      ClientId: inject('userPoolClientId'),
      Token: refreshToken,
    });
    expect(revoked.status).toBe(200);
    const refreshed = await cognito('InitiateAuth', {
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: inject('userPoolClientId'),
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    expect(refreshed.status).toBe(400);

    const global = await fetch(`${inject('cognitoEndpoint')}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityProviderService.GlobalSignOut',
      },
      body: JSON.stringify({ AccessToken: user.accessToken }),
    });
    expect(global.ok).toBe(false);
    expect(JSON.stringify(await global.json())).toMatch(/Unsupported/);
    const config = (await (await fetch(`${portalUrl()}/config.json`)).json()) as { local?: boolean };
    expect(config.local).toBe(true);
  });
});
