/**
 * Direct access to the local portal's table and user pool, for the rules only storage can show
 * (what is stored, hashed or not) and for arranging states a test cannot wait for (expiry).
 */
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { keys } from '../../functions/adapters/portal-table.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { defaultSettings, type PortalSettings } from '../../functions/core/settings.ts';
import { DEFAULT_DEMO_PASSWORD } from '../../infra/local/local-portal.ts';
import { signIn } from './helpers.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const dynamodbEndpoint = () => inject('dynamodbEndpoint');

let documents: DynamoDBDocumentClient | undefined;
export function table(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials, endpoint: dynamodbEndpoint() }),
  );
  return documents;
}

export async function putSettings(changes: Partial<PortalSettings>): Promise<void> {
  const settings = { ...defaultSettings(), ...changes };
  await table().send(
    new PutCommand({
      TableName: inject('tableName'),
      Item: { ...keys.settings, settings, version: settings.version },
    }),
  );
}

export const resetSettings = () => putSettings({});

/** Every item under the user's partition, raw, as stored. */
export async function userItems(sub: string): Promise<Record<string, unknown>[]> {
  const { Items } = await table().send(
    new QueryCommand({
      TableName: inject('tableName'),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.user(sub) },
    }),
  );
  return Items ?? [];
}

export async function storedDevice(sub: string, deviceId: string): Promise<DeviceRecord> {
  const { Item } = await table().send(
    new GetCommand({
      TableName: inject('tableName'),
      Key: { pk: keys.user(sub), sk: keys.device(deviceId) },
    }),
  );
  if (!Item) throw new Error(`no device ${deviceId}`);
  return Item.device as DeviceRecord;
}

export async function rawItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await table().send(new GetCommand({ TableName: inject('tableName'), Key: { pk, sk } }));
  return Item;
}

/** Rewrites a stored device, e.g. to move its expiry into the past. */
export async function rewriteDevice(device: DeviceRecord): Promise<void> {
  await table().send(
    new PutCommand({
      TableName: inject('tableName'),
      Item: {
        pk: keys.user(device.userSub),
        sk: keys.device(device.deviceId),
        gsi1pk: keys.device(device.deviceId),
        gsi1sk: 'DEVICE',
        type: 'DEVICE',
        device,
      },
    }),
  );
}

let userCount = 0;

export interface TestUser {
  email: string;
  sub: string;
  accessToken: string;
}

/** A fresh employee, so that per-user limits and counters of one test never touch another. */
export async function newUser(phoneNumber = '+15555550199'): Promise<TestUser> {
  const cognito = new CognitoIdentityProviderClient({
    region: 'us-east-1',
    credentials,
    endpoint: inject('cognitoEndpoint'),
  });
  userCount += 1;
  const email = `user${Date.now()}${userCount}@example.com`;
  const userPoolId = inject('userPoolId');
  await cognito.send(
    new AdminCreateUserCommand({
      UserPoolId: userPoolId,
      Username: email,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'name', Value: `Test User ${userCount}` },
        { Name: 'phone_number', Value: phoneNumber },
      ],
    }),
  );
  await cognito.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: userPoolId,
      Username: email,
      Password: DEFAULT_DEMO_PASSWORD,
      Permanent: true,
    }),
  );
  const tokens = await signIn(email);
  const sub = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1] ?? '', 'base64url').toString())
    .sub as string;
  return { email, sub, accessToken: tokens.accessToken };
}

/** Sets a rate-limit counter, e.g. to the daily failure cap, without making 100 requests. */
export async function setCounter(
  scope: string,
  name: string,
  windowEndsAt: Date,
  count: number,
): Promise<void> {
  await table().send(
    new PutCommand({
      TableName: inject('tableName'),
      Item: { pk: scope, sk: `COUNTER#${name}#${windowEndsAt.toISOString()}`, count },
    }),
  );
}
