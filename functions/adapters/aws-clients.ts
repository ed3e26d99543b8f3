/**
 * SDK clients, created once per container. Endpoints follow the SDK's own service-specific
 * overrides (AWS_ENDPOINT_URL_DYNAMODB, _SES, _SNS, _COGNITO_IDENTITY_PROVIDER), which the local
 * twin sets to the emulators; in AWS they are unset and the SDK uses the regional endpoints.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
}

export const documentClient = once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
export const sesClient = once(() => new SESClient({}));
export const snsClient = once(() => new SNSClient({}));
export const cognitoClient = once(() => new CognitoIdentityProviderClient({}));

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
}
