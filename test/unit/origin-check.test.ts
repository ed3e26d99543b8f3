/**
 * Only requests that came through CloudFront reach a use-case (DESIGN §8 rule 13): CloudFront adds
 * x-origin-verify with the origin secret from Secrets Manager (ORIGIN_SECRET_ARN). The value is
 * read once per container for 5 minutes, so every test here starts 10 minutes after the one before
 * and reads the secret afresh.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as agentCheckin } from '../../functions/handlers/agent-checkin.ts';
import { handler as listDevices } from '../../functions/handlers/list-devices.ts';
import { accessClaims, apiEvent, lambdaContext, NOW, ORIGIN_SECRET } from './fixtures.ts';
import { errorOf } from './portal-mocks.ts';
import { answerSecrets, secretsManager } from './secrets-mock.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const ROTATED_SECRET = 'origin-secret-after-rotation-0002';

let step = 0;

function devicesRequest(originSecret: string | null) {
  return listDevices(
    apiEvent({ method: 'GET', path: '/api/devices', claims: accessClaims(), originSecret }),
    lambdaContext('ListDevices'),
  );
}

beforeEach(() => {
  step += 1;
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW.getTime() + step * 10 * 60_000));
  answerSecrets();
  dynamo.reset();
  dynamo.on(GetCommand).resolves({});
  dynamo.on(QueryCommand).resolves({ Items: [] });
});

afterEach(() => {
  vi.useRealTimers();
  answerSecrets();
});

describe('the origin secret (x-origin-verify)', () => {
  it('answers 403 DIRECT_ACCESS to a request without x-origin-verify, reading nothing', async () => {
    const result = await devicesRequest(null);

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'DIRECT_ACCESS' });
    expect(dynamo.calls()).toEqual([]);
  });

  it('answers 403 DIRECT_ACCESS to a request with a wrong x-origin-verify, reading nothing', async () => {
    const result = await devicesRequest('not-the-origin-secret');

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'DIRECT_ACCESS' });
    expect(dynamo.calls()).toEqual([]);
  });

  it('refuses a public route the same way: the agent check-in without the secret is 403 DIRECT_ACCESS', async () => {
    const result = await agentCheckin(
      apiEvent({
        method: 'POST',
        path: '/api/agent/checkin',
        body: JSON.stringify({ device: {} }),
        originSecret: null,
      }),
      lambdaContext('AgentCheckin'),
    );

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'DIRECT_ACCESS' });
    expect(dynamo.calls()).toEqual([]);
  });

  it('accepts the current origin secret, read from ORIGIN_SECRET_ARN at AWSCURRENT', async () => {
    const result = await devicesRequest(ORIGIN_SECRET);

    expect(result.statusCode).toBe(200);
    expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: process.env.ORIGIN_SECRET_ARN,
      VersionStage: 'AWSCURRENT',
    });
  });

  it('accepts the previous secret (AWSPREVIOUS) after a rotation, so CloudFront may lag behind', async () => {
    answerSecrets({ origin: ROTATED_SECRET, previousOrigin: ORIGIN_SECRET });

    const previous = await devicesRequest(ORIGIN_SECRET);
    const current = await devicesRequest(ROTATED_SECRET);

    expect(previous.statusCode).toBe(200);
    expect(current.statusCode).toBe(200);
  });

  it('refuses a secret that is neither the current nor the previous one after a rotation', async () => {
    answerSecrets({ origin: ROTATED_SECRET, previousOrigin: ORIGIN_SECRET });

    const result = await devicesRequest('origin-secret-of-long-ago-0000');

    expect(errorOf(result)).toMatchObject({ status: 403, code: 'DIRECT_ACCESS' });
  });
});
