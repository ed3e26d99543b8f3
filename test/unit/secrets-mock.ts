/**
 * The mocked Secrets Manager every unit test runs against (installed by setup.ts): the origin
 * secret and the one-time-secret key at AWSCURRENT, nothing at AWSPREVIOUS (no rotation yet).
 *
 * The adapters keep a value 5 minutes per container (module instance): a test that changes what
 * is answered must move the faked clock more than 5 minutes past every earlier read.
 */
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ONE_TIME_SECRET_KEY, ORIGIN_SECRET } from './fixtures.ts';

export const secretsManager = mockClient(SecretsManagerClient);

const notFound = () =>
  new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    $metadata: {},
  });

export interface SecretAnswers {
  /** The origin secret at AWSCURRENT. */
  origin?: string;
  /** The origin secret at AWSPREVIOUS (after a rotation); none by default. */
  previousOrigin?: string;
}

/** (Re)installs the answers: ORIGIN_SECRET_ARN and ONE_TIME_SECRET_KEY_ARN by stage. */
export function answerSecrets(answers: SecretAnswers = {}): void {
  const originArn = process.env.ORIGIN_SECRET_ARN;
  const keyArn = process.env.ONE_TIME_SECRET_KEY_ARN;
  secretsManager.reset();
  secretsManager.on(GetSecretValueCommand).rejects(notFound());
  secretsManager
    .on(GetSecretValueCommand, { SecretId: originArn, VersionStage: 'AWSCURRENT' })
    .resolves({ SecretString: answers.origin ?? ORIGIN_SECRET });
  if (answers.previousOrigin !== undefined) {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: originArn, VersionStage: 'AWSPREVIOUS' })
      .resolves({ SecretString: answers.previousOrigin });
  }
  secretsManager
    .on(GetSecretValueCommand, { SecretId: keyArn, VersionStage: 'AWSCURRENT' })
    .resolves({ SecretString: ONE_TIME_SECRET_KEY });
}
