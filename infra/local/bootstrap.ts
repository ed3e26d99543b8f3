/**
 * Creates what the local portal needs when it is missing: the table, the user pool, its client and
 * groups, the demo users and the default settings. Safe to run on every start.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  type CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  SetUserPoolMfaConfigCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  CreateTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GSI1, settingsToItem } from '../../functions/adapters/items.ts';
import { ADMIN_GROUP, defaultSettings } from '../../functions/core/settings.ts';

export const LOCAL_TABLE_NAME = 'device-portal';
export const LOCAL_POOL_NAME = 'device-portal';
export const LOCAL_CLIENT_NAME = 'device-portal-web';

export interface DemoUser {
  email: string;
  name: string;
  phoneNumber?: string;
  groups: string[];
}

export const DEMO_USERS: readonly DemoUser[] = [
  { email: 'alice@example.com', name: 'Alice Martin', phoneNumber: '+15555550101', groups: [] },
  { email: 'bob@example.com', name: 'Bob Chen', groups: [] },
  { email: 'admin@example.com', name: 'Ada Admin', groups: [ADMIN_GROUP] },
];

export async function ensureTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  const { TableNames } = await dynamodb.send(new ListTablesCommand({}));
  if (TableNames?.includes(tableName)) return;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: GSI1,
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    }),
  );
}

export async function ensureDefaultSettings(
  documents: DynamoDBDocumentClient,
  tableName: string,
): Promise<void> {
  const settings = defaultSettings();
  try {
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: settingsToItem(settings),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}

export interface LocalPool {
  userPoolId: string;
  userPoolClientId: string;
}

export async function ensureUserPool(cognito: CognitoIdentityProviderClient): Promise<LocalPool> {
  const { UserPools } = await cognito.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  let userPoolId = UserPools?.find((p) => p.Name === LOCAL_POOL_NAME)?.Id;
  if (!userPoolId) {
    const created = await cognito.send(
      new CreateUserPoolCommand({
        PoolName: LOCAL_POOL_NAME,
        UsernameAttributes: ['email'],
        Policies: { PasswordPolicy: { MinimumLength: 12 } },
      }),
    );
    userPoolId = created.UserPool?.Id;
    if (!userPoolId) throw new Error('cognito-local created no user pool id');
  }
  // A second factor is each user's choice (an authenticator app, TOTP), as in the deployed pool
  // (Mfa.OPTIONAL). Set on every start, so a pool made by an older release gets it too.
  await cognito.send(
    new SetUserPoolMfaConfigCommand({
      UserPoolId: userPoolId,
      MfaConfiguration: 'OPTIONAL',
      SoftwareTokenMfaConfiguration: { Enabled: true },
    }),
  );
  const { UserPoolClients } = await cognito.send(
    new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }),
  );
  let userPoolClientId = UserPoolClients?.find((c) => c.ClientName === LOCAL_CLIENT_NAME)?.ClientId;
  if (!userPoolClientId) {
    const created = await cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: LOCAL_CLIENT_NAME,
        ExplicitAuthFlows: [
          'ALLOW_USER_PASSWORD_AUTH',
          'ALLOW_ADMIN_USER_PASSWORD_AUTH',
          'ALLOW_REFRESH_TOKEN_AUTH',
        ],
        AccessTokenValidity: 15,
        IdTokenValidity: 15,
        RefreshTokenValidity: 12,
        TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'hours' },
      }),
    );
    userPoolClientId = created.UserPoolClient?.ClientId;
    if (!userPoolClientId) throw new Error('cognito-local created no app client id');
  }
  try {
    await cognito.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: ADMIN_GROUP }));
  } catch (error) {
    if ((error as Error).name !== 'GroupExistsException') throw error;
  }
  return { userPoolId, userPoolClientId };
}

export async function ensureDemoUsers(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  password: string,
  users: readonly DemoUser[] = DEMO_USERS,
): Promise<void> {
  for (const user of users) {
    try {
      await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: user.email }));
      continue;
    } catch (error) {
      if (!(error instanceof UserNotFoundException) && (error as Error).name !== 'UserNotFoundException')
        throw error;
    }
    const attributes = [
      { Name: 'email', Value: user.email },
      { Name: 'email_verified', Value: 'true' },
      { Name: 'name', Value: user.name },
    ];
    if (user.phoneNumber) attributes.push({ Name: 'phone_number', Value: user.phoneNumber });
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: user.email,
        UserAttributes: attributes,
        MessageAction: 'SUPPRESS',
      }),
    );
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: userPoolId,
        Username: user.email,
        Password: password,
        Permanent: true,
      }),
    );
    for (const group of user.groups) {
      await cognito.send(
        new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: user.email, GroupName: group }),
      );
    }
  }
}
