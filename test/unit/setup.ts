/**
 * Unit-test setup: the aws-sdk-client-mock matchers (toHaveReceivedCommandWith, …), the
 * environment the handlers read and the mocked Secrets Manager (origin secret, one-time-secret
 * key; see secrets-mock.ts). Nothing here reaches AWS: every other client is mocked per test, and
 * the dummy credentials only keep the SDK from looking for real ones.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { answerSecrets } from './secrets-mock.ts';

Object.assign(process.env, {
  TABLE_NAME: 'portal-test',
  USER_POOL_ID: 'us-east-1_TestPool',
  USER_POOL_CLIENT_ID: 'test-client-id',
  SES_FROM_ADDRESS: 'Device Portal <no-reply@example.com>',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_SERVICE_NAME: 'device-portal-test',
  PORTAL_ORIGIN: 'https://portal.example.com',
  ORIGIN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:origin-test',
  ONE_TIME_SECRET_KEY_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:one-time-key-test',
  // The KMS key wrapping certificates' private keys (KMS is mocked where a test needs it).
  CERTIFICATE_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-00000000c0de',
  PORTAL_REQUEST_LOG: 'off',
  PORTAL_METRICS: 'off',
  // The handler logs unexpected errors; keep test output quiet (tests assert on responses).
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // The SDK's notice that releases after January 2027 need Node 22: known, and noise in test output.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

answerSecrets();
