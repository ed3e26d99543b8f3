import {
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiErrorBody, MeResponse } from '../../functions/core/api-types.ts';
import { handler } from '../../functions/handlers/update-me.ts';
import { UpdateMe } from '../../functions/routes.ts';
import {
  ALICE_EMAIL,
  ALICE_SUB,
  accessClaims,
  apiEvent,
  freshClock,
  jsonBody,
  lambdaContext,
} from './fixtures.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const cognito = mockClient(CognitoIdentityProviderClient);

let attributes: { Name: string; Value: string }[] = [];

function patchMe(body: unknown) {
  return handler(
    apiEvent({ method: 'PATCH', path: '/api/me', claims: accessClaims(), body: JSON.stringify(body) }),
    lambdaContext('UpdateMe'),
  );
}

beforeEach(() => {
  dynamo.reset();
  cognito.reset();
  freshClock();
  attributes = [
    { Name: 'sub', Value: ALICE_SUB },
    { Name: 'email', Value: ALICE_EMAIL },
    { Name: 'name', Value: 'Alice Martin' },
    { Name: 'locale', Value: 'en' },
  ];
  dynamo.on(GetCommand).resolves({});
  dynamo.on(PutCommand).resolves({});
  cognito.on(AdminGetUserCommand).callsFake(async () => ({
    Username: ALICE_SUB,
    UserAttributes: attributes,
    Enabled: true,
  }));
  cognito
    .on(AdminUpdateUserAttributesCommand)
    .callsFake(async (input: { UserAttributes: typeof attributes }) => {
      for (const changed of input.UserAttributes) {
        attributes = [...attributes.filter((a) => a.Name !== changed.Name), changed];
      }
      return {};
    });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('PATCH /api/me', () => {
  it('is declared with the Cognito actions it uses', () => {
    expect(UpdateMe.permissions.cognito).toEqual(
      expect.arrayContaining(['cognito-idp:AdminGetUser', 'cognito-idp:AdminUpdateUserAttributes']),
    );
  });

  it('writes name, phone (as E.164) and language with one AdminUpdateUserAttributes for the caller', async () => {
    const result = await patchMe({
      displayName: '  Alice B. Martin ',
      phoneNumber: '(415) 555-0123',
      phoneCountry: 'US',
      language: 'de-CH',
    });

    expect(result.statusCode).toBe(200);
    expect(cognito).toHaveReceivedCommandExactlyOnceWith(AdminUpdateUserAttributesCommand, {
      UserPoolId: 'us-east-1_TestPool',
      Username: ALICE_SUB,
      UserAttributes: [
        { Name: 'name', Value: 'Alice B. Martin' },
        { Name: 'phone_number', Value: '+14155550123' },
        { Name: 'locale', Value: 'de-CH' },
      ],
    });
    expect(jsonBody<MeResponse>(result).user).toMatchObject({
      displayName: 'Alice B. Martin',
      phoneNumber: '+14155550123',
      language: 'de-CH',
      email: ALICE_EMAIL,
    });
  });

  it('normalises an international number whatever country is chosen, and uses the default country without one', async () => {
    await patchMe({ phoneNumber: '+44 7911 123456', phoneCountry: 'US' });
    await patchMe({ phoneNumber: '415.555.0199' });

    const calls = cognito
      .commandCalls(AdminUpdateUserAttributesCommand)
      .map((c) => c.args[0].input.UserAttributes);
    expect(calls).toEqual([
      [{ Name: 'phone_number', Value: '+447911123456' }],
      [{ Name: 'phone_number', Value: '+14155550199' }],
    ]);
  });

  it('sends only the fields given', async () => {
    await patchMe({ language: 'fr' });

    expect(cognito).toHaveReceivedCommandWith(AdminUpdateUserAttributesCommand, {
      UserAttributes: [{ Name: 'locale', Value: 'fr' }],
    });
  });

  it('records the change in the audit trail under USER#{sub}, device "-", fields but no values', async () => {
    await patchMe({ displayName: 'Alice', phoneNumber: '+14155550123' });

    const puts = dynamo.commandCalls(PutCommand).map((c) => c.args[0].input.Item ?? {});
    const audit = puts.find((item) => String(item.sk).startsWith('AUDIT#'));
    expect(audit).toMatchObject({ pk: `USER#${ALICE_SUB}`, type: 'AUDIT' });
    expect(audit?.event).toMatchObject({
      userSub: ALICE_SUB,
      deviceId: '-',
      action: 'PROFILE_UPDATED',
      result: 'SUCCESS',
      detail: 'name,phone_number',
    });
    expect(JSON.stringify(audit)).not.toContain('4155550123');
  });

  it('answers 400 PHONE_NUMBER_INVALID for a number that cannot receive SMS, and writes nothing', async () => {
    for (const phoneNumber of ['12', '+1 900 555 0100', 'call me', '']) {
      const result = await patchMe({ phoneNumber, phoneCountry: 'US' });
      expect(result.statusCode).toBe(400);
      const body = jsonBody<ApiErrorBody>(result);
      expect(body.error.code).toBe('PHONE_NUMBER_INVALID');
      expect(body.error.message).toMatch(/mobile number/);
    }
    expect(cognito).not.toHaveReceivedCommand(AdminUpdateUserAttributesCommand);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it('answers 400 with a sentence for a bad body: an empty name, an unknown field, the email', async () => {
    const cases: [unknown, RegExp][] = [
      [{ displayName: '   ' }, /Enter your name/],
      [{ language: 'Deutsch' }, /language/],
      [{ phoneNumber: '+14155550123', phoneCountry: 'usa' }, /country/],
      [{ email: 'mallory@example.com' }, /email/],
    ];
    for (const [body, message] of cases) {
      const result = await patchMe(body);
      expect(result.statusCode).toBe(400);
      expect(jsonBody<ApiErrorBody>(result).error.message).toMatch(message);
    }
    expect(cognito).not.toHaveReceivedCommand(AdminUpdateUserAttributesCommand);
  });

  it('with an empty body changes nothing and audits nothing', async () => {
    const result = await patchMe({});

    expect(result.statusCode).toBe(200);
    expect(cognito).not.toHaveReceivedCommand(AdminUpdateUserAttributesCommand);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });
});
