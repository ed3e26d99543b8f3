/**
 * The whole portal on loopback: emulators, table, user pool, demo users, settings and the server.
 * Used by `npm start`, the integration tests and the browser tests alike.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  ensureDefaultSettings,
  ensureDemoUsers,
  ensureTable,
  ensureUserPool,
  LOCAL_TABLE_NAME,
} from './bootstrap.ts';
import { type RunningEmulators, startEmulators } from './emulators.ts';
import { createJwtAuthorizer } from './jwt-authorizer.ts';
import { LOCAL_CERTIFICATE_KEY_ARN, LOCAL_SECRET_ARNS, LocalKms, LocalSecrets } from './local-secrets.ts';
import type { Faults } from './outbox.ts';
import { SmsOutbox } from './outbox.ts';
import { createLocalServer, REPO_ROOT } from './server.ts';

export const DEFAULT_DEMO_PASSWORD = 'Passw0rd!demo';
export const LOCAL_REGION = 'us-east-1';

export interface LocalPortalOptions {
  port: number;
  dataDir: string;
  demoPassword: string;
  log?: (line: string) => void;
}

export interface LocalPortal {
  url: string;
  outboxUrl: string;
  userPoolId: string;
  userPoolClientId: string;
  tableName: string;
  emulators: RunningEmulators;
  faults: Faults;
  stop(): Promise<void>;
}

/**
 * Points this process's AWS SDK clients at the emulators. Handlers run in-process, as the
 * local twin of their Lambda functions, so they read the same variables the SDK does in AWS.
 */
function configureEnvironment(portal: {
  port: number;
  dynamodb: string;
  cognito: string;
  tableName: string;
  userPoolId: string;
  clientId: string;
}) {
  const base = `http://127.0.0.1:${portal.port}`;
  Object.assign(process.env, {
    // The portal's public origin, as CloudFront's domain is passed to each function in AWS.
    PORTAL_ORIGIN: base,
    ORIGIN_SECRET_ARN: LOCAL_SECRET_ARNS.originSecret,
    ONE_TIME_SECRET_KEY_ARN: LOCAL_SECRET_ARNS.oneTimeSecretKey,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `${base}/_local/secretsmanager`,
    CERTIFICATE_KEY_ARN: LOCAL_CERTIFICATE_KEY_ARN,
    AWS_ENDPOINT_URL_KMS: `${base}/_local/kms`,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: portal.dynamodb,
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: portal.cognito,
    AWS_ENDPOINT_URL_SES: `http://127.0.0.1:${portal.port}/_local/ses`,
    AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${portal.port}/_local/sns`,
    // Push wake-ups: the local SNS's platform applications (infra/local/local-push.ts).
    SNS_APNS_APPLICATION_ARN: 'arn:aws:sns:us-east-1:000000000000:app/APNS/device-portal-local',
    SNS_FCM_APPLICATION_ARN: 'arn:aws:sns:us-east-1:000000000000:app/GCM/device-portal-local',
    TABLE_NAME: portal.tableName,
    USER_POOL_ID: portal.userPoolId,
    USER_POOL_CLIENT_ID: portal.clientId,
    SES_FROM_ADDRESS: process.env.SES_FROM_ADDRESS ?? 'Device Portal <no-reply@example.com>',
    POWERTOOLS_SERVICE_NAME: 'device-portal-local',
    PORTAL_SETTINGS_CACHE_MS: '0',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  });
}

export async function startLocalPortal(options: LocalPortalOptions): Promise<LocalPortal> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const emulators = await startEmulators(
    dataDir,
    { dynamodb: options.port + 1, cognito: options.port + 2, ses: options.port + 3 },
    log,
  );
  let server: Server | undefined;
  const stop = async () => {
    if (server) await new Promise<void>((done) => server?.close(() => done()));
    server?.closeAllConnections();
    await emulators.stop();
  };
  try {
    const clientConfig = {
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: emulators.endpoints.dynamodb });
    const cognito = new CognitoIdentityProviderClient({
      ...clientConfig,
      endpoint: emulators.endpoints.cognito,
    });
    await ensureTable(dynamodb, LOCAL_TABLE_NAME);
    await ensureDefaultSettings(DynamoDBDocumentClient.from(dynamodb), LOCAL_TABLE_NAME);
    const pool = await ensureUserPool(cognito);
    await ensureDemoUsers(cognito, pool.userPoolId, options.demoPassword);

    configureEnvironment({
      port: options.port,
      dynamodb: emulators.endpoints.dynamodb,
      cognito: emulators.endpoints.cognito,
      tableName: LOCAL_TABLE_NAME,
      userPoolId: pool.userPoolId,
      clientId: pool.userPoolClientId,
    });
    const authorizer = await createJwtAuthorizer({
      cognitoEndpoint: emulators.endpoints.cognito,
      issuer: `${emulators.endpoints.cognito}/${pool.userPoolId}`,
      userPoolId: pool.userPoolId,
      clientId: pool.userPoolClientId,
    });
    const local = createLocalServer({
      port: options.port,
      webDist: join(REPO_ROOT, 'web', 'dist'),
      config: { region: LOCAL_REGION, userPoolId: pool.userPoolId, userPoolClientId: pool.userPoolClientId },
      cognitoEndpoint: emulators.endpoints.cognito,
      sesEndpoint: emulators.endpoints.ses,
      authorizer,
      outbox: new SmsOutbox(join(dataDir, 'sms-outbox.json')),
      secrets: new LocalSecrets(join(dataDir, 'secrets')),
      kms: new LocalKms(join(dataDir, 'secrets')),
    });
    server = local.server;
    await new Promise<void>((listening, failed) => {
      local.server.once('error', failed);
      local.server.listen(options.port, '127.0.0.1', () => listening());
    });
    const url = `http://127.0.0.1:${options.port}`;
    return {
      url,
      outboxUrl: `${url}/_local/outbox`,
      userPoolId: pool.userPoolId,
      userPoolClientId: pool.userPoolClientId,
      tableName: LOCAL_TABLE_NAME,
      emulators,
      faults: local.faults,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
