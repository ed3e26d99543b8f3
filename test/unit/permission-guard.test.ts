/**
 * The local twin allows a handler exactly the AWS calls its route-table entry grants (issue 8.4):
 * a call the entry does not declare fails as AccessDeniedException, before anything is sent.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../functions/routes.ts';
import { installPermissionGuard, runAs } from '../../infra/local/permission-guard.ts';

const reported: string[] = [];
/** Nothing listens here: a call the guard lets through fails with a connection error instead. */
const NOWHERE = 'http://127.0.0.1:9';
const config = {
  region: 'us-east-1',
  endpoint: NOWHERE,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxAttempts: 1,
};
const documents = DynamoDBDocumentClient.from(new DynamoDBClient(config));

const route = (permissions: Route['permissions']): Route => ({
  name: 'TestRoute',
  method: 'GET',
  path: '/api/test',
  access: 'user',
  permissions,
});

async function errorName(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'none';
  } catch (error) {
    return (error as Error).name;
  }
}

beforeAll(() => {
  installPermissionGuard((line) => reported.push(line));
});

describe('the local permission guard', () => {
  it('refuses a DynamoDB action the route does not declare, naming the route and the action', async () => {
    const name = await errorName(() =>
      runAs(route({ table: ['dynamodb:Query'] }), () =>
        documents.send(new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } })),
      ),
    );

    expect(name).toBe('AccessDeniedException');
    expect(reported.at(-1)).toContain('TestRoute is not authorized to perform dynamodb:GetItem');
  });

  it('lets a declared action through to the service', async () => {
    const name = await errorName(() =>
      runAs(route({ table: ['dynamodb:Query'] }), () =>
        documents.send(
          new QueryCommand({
            TableName: 't',
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': 'a' },
          }),
        ),
      ),
    );

    expect(name).not.toBe('AccessDeniedException');
  });

  it('checks every item of a transaction: a Delete needs dynamodb:DeleteItem even beside an allowed Put', async () => {
    const name = await errorName(() =>
      runAs(route({ table: ['dynamodb:PutItem'] }), () =>
        documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: 't', Item: { pk: 'a', sk: 'b' } } },
              { Delete: { TableName: 't', Key: { pk: 'a', sk: 'c' } } },
            ],
          }),
        ),
      ),
    );

    expect(name).toBe('AccessDeniedException');
    expect(reported.at(-1)).toContain('dynamodb:DeleteItem');
  });

  it('refuses mail and SMS to a route without sendEmail and sendSms', async () => {
    const ses = new SESClient(config);
    const sns = new SNSClient(config);
    const denied = route({ table: ['dynamodb:GetItem'] });

    expect(
      await errorName(() =>
        runAs(denied, () =>
          ses.send(
            new SendEmailCommand({
              Source: 'a@example.com',
              Destination: { ToAddresses: ['b@example.com'] },
              Message: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } },
            }),
          ),
        ),
      ),
    ).toBe('AccessDeniedException');
    expect(
      await errorName(() =>
        runAs(denied, () => sns.send(new PublishCommand({ PhoneNumber: '+15555550100', Message: 'm' }))),
      ),
    ).toBe('AccessDeniedException');
  });

  it('does not check calls made outside a route (the bootstrap, the tests themselves)', async () => {
    const name = await errorName(() =>
      documents.send(new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } })),
    );

    expect(name).not.toBe('AccessDeniedException');
  });
});
