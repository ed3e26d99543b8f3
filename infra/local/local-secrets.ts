/**
 * The local stand-in for Secrets Manager: the origin secret the local server adds to API requests
 * (as CloudFront does) and the key one-time secrets are HMACed with, each a random value created
 * once in a file under PORTAL_DATA_DIR (mode 0600) and kept across restarts. The local server
 * answers the SDK's GetSecretValue from them, so the functions read them exactly as in AWS.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
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

/** 256 random bits in `dir/file` (base64url, mode 0600), made on first use and kept across restarts. */
function keyFile(dir: string, file: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, file);
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  return readFileSync(path, 'utf8').trim();
}

export class LocalSecrets {
  private readonly values = new Map<string, string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [arn, file] of Object.entries(FILES)) this.values.set(arn, this.load(file));
  }

  private load(file: string): string {
    return keyFile(this.dir, file);
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

export const LOCAL_CERTIFICATE_KEY_ARN =
  'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-0000000000c7';

/**
 * The local stand-in for the KMS key that wraps certificates' private keys: a 256-bit key in a
 * file under PORTAL_DATA_DIR (mode 0600). GenerateDataKey and Decrypt behave as KMS's do for a
 * symmetric key: the data key comes back wrapped (AES-256-GCM) and bound to the encryption context,
 * and Decrypt refuses a blob with another context.
 */
export class LocalKms {
  private readonly key: Buffer;

  constructor(dir: string) {
    // Node's base64url decoder also reads the '+' and '/' of a key file written as plain base64.
    this.key = Buffer.from(keyFile(dir, 'certificate-key'), 'base64url');
  }

  private static context(value: unknown): Buffer {
    const entries = Object.entries((value ?? {}) as Record<string, string>).sort(([a], [b]) =>
      a.localeCompare(b),
    );
    return Buffer.from(JSON.stringify(entries), 'utf8');
  }

  wrap(plaintext: Buffer, context: unknown): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(LocalKms.context(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
  }

  /** null when the blob was not made by this key under this context. */
  unwrap(blob: Buffer, context: unknown): Buffer | null {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, blob.subarray(0, 12));
      decipher.setAAD(LocalKms.context(context));
      decipher.setAuthTag(blob.subarray(12, 28));
      return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
    } catch {
      return null;
    }
  }
}

/** Answers the KMS JSON protocol's GenerateDataKey (AES_256) and Decrypt, as the SDK sends them. */
export function answerKms(target: string, body: string, kms: LocalKms): { status: number; json: unknown } {
  const error = (type: string, message: string) => ({ status: 400, json: { __type: type, message } });
  let request: { KeyId?: unknown; KeySpec?: unknown; EncryptionContext?: unknown; CiphertextBlob?: unknown };
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    return error('ValidationException', 'The request body is not JSON');
  }
  if (request.KeyId !== undefined && request.KeyId !== LOCAL_CERTIFICATE_KEY_ARN) {
    return error('NotFoundException', `Key '${String(request.KeyId)}' does not exist`);
  }
  if (target === 'TrentService.GenerateDataKey') {
    if (request.KeySpec !== 'AES_256')
      return error('ValidationException', 'The local KMS makes AES_256 keys only');
    const plaintext = randomBytes(32);
    return {
      status: 200,
      json: {
        KeyId: LOCAL_CERTIFICATE_KEY_ARN,
        Plaintext: plaintext.toString('base64'),
        CiphertextBlob: kms.wrap(plaintext, request.EncryptionContext).toString('base64'),
      },
    };
  }
  if (target === 'TrentService.Decrypt') {
    const blob = Buffer.from(
      typeof request.CiphertextBlob === 'string' ? request.CiphertextBlob : '',
      'base64',
    );
    const plaintext = kms.unwrap(blob, request.EncryptionContext);
    if (!plaintext)
      return error('InvalidCiphertextException', 'The ciphertext is not valid for this key and context');
    return {
      status: 200,
      json: { KeyId: LOCAL_CERTIFICATE_KEY_ARN, Plaintext: plaintext.toString('base64') },
    };
  }
  return error(
    'UnsupportedOperationException',
    `The local KMS answers GenerateDataKey and Decrypt only, not ${target}`,
  );
}
