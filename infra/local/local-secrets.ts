/**
 * The local stand-in for Secrets Manager: the origin secret the local server adds to API requests
 * (as CloudFront does) and the key one-time secrets are HMACed with, each a random value created
 * once in a file under PORTAL_DATA_DIR (mode 0600) and kept across restarts. The local server
 * answers the SDK's GetSecretValue from them, so the functions read them exactly as in AWS.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ARN_PREFIX = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:';

export const LOCAL_SECRET_ARNS = {
  originSecret: `${ARN_PREFIX}local-origin-secret`,
  oneTimeSecretKey: `${ARN_PREFIX}local-one-time-secret-key`,
} as const;

const FILES: Record<string, string> = {
  [LOCAL_SECRET_ARNS.originSecret]: 'origin-secret',
  [LOCAL_SECRET_ARNS.oneTimeSecretKey]: 'one-time-secret-key',
};

export class LocalSecrets {
  private readonly values = new Map<string, string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [arn, file] of Object.entries(FILES)) this.values.set(arn, this.load(file));
  }

  private load(file: string): string {
    const path = join(this.dir, file);
    if (!existsSync(path)) {
      writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600 });
      chmodSync(path, 0o600);
    }
    return readFileSync(path, 'utf8').trim();
  }

  get originSecret(): string {
    return this.values.get(LOCAL_SECRET_ARNS.originSecret) ?? '';
  }

  /** The value of a secret by its id (ARN or name), or undefined when there is no such secret. */
  value(secretId: string): string | undefined {
    return this.values.get(secretId) ?? this.values.get(`${ARN_PREFIX}${secretId}`);
  }
}

/** Answers the Secrets Manager JSON protocol's GetSecretValue, as the SDK sends it. */
export function answerSecretsManager(
  target: string,
  body: string,
  secrets: LocalSecrets,
): { status: number; json: unknown } {
  const error = (status: number, type: string, message: string) => ({
    status,
    json: { __type: type, message },
  });
  if (target !== 'secretsmanager.GetSecretValue') {
    return error(
      400,
      'InvalidRequestException',
      `The local Secrets Manager answers GetSecretValue only, not ${target}`,
    );
  }
  let request: { SecretId?: unknown; VersionStage?: unknown };
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    return error(400, 'InvalidRequestException', 'The request body is not JSON');
  }
  const id = typeof request.SecretId === 'string' ? request.SecretId : '';
  const value = secrets.value(id);
  // One version only locally: there is no AWSPREVIOUS until a rotation, as in a fresh deployment.
  if (value === undefined || (request.VersionStage !== undefined && request.VersionStage !== 'AWSCURRENT')) {
    return error(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }
  return {
    status: 200,
    json: {
      ARN: id,
      Name: id.replace(ARN_PREFIX, ''),
      SecretString: value,
      VersionId: '00000000-0000-4000-8000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 0,
    },
  };
}
