/**
 * The local stand-in for the certificate key (infra/local/local-secrets.ts: LocalKms, answerKms):
 * GenerateDataKey and Decrypt as KMS answers them for a symmetric key, the key file it keeps, and,
 * end to end, the portal's KmsKeyVault talking to it through the real KMS client over HTTP.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KmsKeyVault } from '../../functions/adapters/kms-key-vault.ts';
import { answerKms, LOCAL_CERTIFICATE_KEY_ARN, LocalKms } from '../../infra/local/local-secrets.ts';
import { ALICE_SUB } from './fixtures.ts';

const CONTEXT = { userSub: ALICE_SUB, certificateId: 'e0000000-0000-4000-8000-000000000001' };

let dir: string;
let kms: LocalKms;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-kms-'));
  kms = new LocalKms(dir);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Answer = { status: number; json: Record<string, string> };
const ask = (target: string, body: unknown, by: LocalKms = kms) =>
  answerKms(target, typeof body === 'string' ? body : JSON.stringify(body), by) as Answer;

const generate = (context: Record<string, string> = CONTEXT, by: LocalKms = kms) =>
  ask(
    'TrentService.GenerateDataKey',
    { KeyId: LOCAL_CERTIFICATE_KEY_ARN, KeySpec: 'AES_256', EncryptionContext: context },
    by,
  );

const decrypt = (blob: string | undefined, context: Record<string, string> | undefined, by: LocalKms = kms) =>
  ask(
    'TrentService.Decrypt',
    { KeyId: LOCAL_CERTIFICATE_KEY_ARN, CiphertextBlob: blob, EncryptionContext: context },
    by,
  );

describe('answerKms', () => {
  it('makes a 256-bit data key and a wrapped copy of it, naming the key', () => {
    const answer = generate();

    expect(answer.status).toBe(200);
    expect(answer.json.KeyId).toBe(LOCAL_CERTIFICATE_KEY_ARN);
    expect(Buffer.from(answer.json.Plaintext ?? '', 'base64')).toHaveLength(32);
    expect(answer.json.CiphertextBlob).not.toContain(answer.json.Plaintext);
  });

  it('decrypts the wrapped copy, under the same context, back to the data key', () => {
    const { json } = generate();

    const answer = decrypt(json.CiphertextBlob, CONTEXT);

    expect(answer).toEqual({
      status: 200,
      json: { KeyId: LOCAL_CERTIFICATE_KEY_ARN, Plaintext: json.Plaintext },
    });
  });

  it('takes the context in any order, as KMS does', () => {
    const { json } = generate();

    const reordered = { certificateId: CONTEXT.certificateId, userSub: CONTEXT.userSub };

    expect(decrypt(json.CiphertextBlob, reordered).json.Plaintext).toBe(json.Plaintext);
  });

  it.each([
    ['another certificate', { ...CONTEXT, certificateId: 'e0000000-0000-4000-8000-000000000002' }],
    ['another user', { ...CONTEXT, userSub: '99999999-8888-4777-8666-555555555555' }],
    ['no context', undefined],
  ])('refuses to decrypt under %s as InvalidCiphertextException', (_, context) => {
    const { json } = generate();

    expect(decrypt(json.CiphertextBlob, context)).toEqual({
      status: 400,
      json: { __type: 'InvalidCiphertextException', message: expect.any(String) },
    });
  });

  it('refuses a blob that was changed as InvalidCiphertextException', () => {
    const blob = Buffer.from(generate().json.CiphertextBlob ?? '', 'base64');
    blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 1;

    expect(decrypt(blob.toString('base64'), CONTEXT).json.__type).toBe('InvalidCiphertextException');
  });

  it('refuses a blob another key file wrapped as InvalidCiphertextException', () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'local-kms-other-'));
    try {
      const { json } = generate(CONTEXT, new LocalKms(otherDir));

      expect(decrypt(json.CiphertextBlob, CONTEXT).json.__type).toBe('InvalidCiphertextException');
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it.each(['TrentService.GenerateDataKey', 'TrentService.Decrypt'])(
    'answers NotFoundException to %s with an unknown KeyId',
    (target) => {
      const answer = ask(target, {
        KeyId: 'arn:aws:kms:us-east-1:000000000000:key/unknown',
        KeySpec: 'AES_256',
      });

      expect(answer).toEqual({
        status: 400,
        json: { __type: 'NotFoundException', message: expect.any(String) },
      });
    },
  );

  it.each(['TrentService.Encrypt', 'TrentService.ListKeys', 'secretsmanager.GetSecretValue', ''])(
    'refuses the target "%s" as UnsupportedOperationException',
    (target) => {
      const answer = ask(target, { KeyId: LOCAL_CERTIFICATE_KEY_ARN });

      expect(answer).toEqual({
        status: 400,
        json: { __type: 'UnsupportedOperationException', message: expect.stringContaining(target) },
      });
    },
  );

  it('refuses a data key other than AES_256 as ValidationException', () => {
    const answer = ask('TrentService.GenerateDataKey', {
      KeyId: LOCAL_CERTIFICATE_KEY_ARN,
      KeySpec: 'AES_128',
    });

    expect(answer.json.__type).toBe('ValidationException');
  });

  it('refuses a body that is not JSON as ValidationException', () => {
    expect(ask('TrentService.Decrypt', '{not json').json.__type).toBe('ValidationException');
  });
});

describe('the key file', () => {
  it('is created with mode 0600 in the directory given', () => {
    expect(statSync(join(dir, 'certificate-key')).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(join(dir, 'certificate-key'), 'utf8').trim(), 'base64')).toHaveLength(32);
  });

  it('creates the directory when it does not exist yet', () => {
    const nested = join(dir, 'data', 'secrets');

    new LocalKms(nested);

    expect(statSync(join(nested, 'certificate-key')).mode & 0o777).toBe(0o600);
  });

  it('is reused by the next instance: what one wrapped, the next decrypts, and the file is unchanged', () => {
    const before = readFileSync(join(dir, 'certificate-key'), 'utf8');
    const { json } = generate();

    const restarted = new LocalKms(dir);

    expect(decrypt(json.CiphertextBlob, CONTEXT, restarted).json.Plaintext).toBe(json.Plaintext);
    expect(readFileSync(join(dir, 'certificate-key'), 'utf8')).toBe(before);
  });
});

describe('KmsKeyVault against the stand-in, through the KMS client over HTTP', () => {
  let server: Server;
  let endpoint: string;
  const targets: string[] = [];
  const dataKeys: string[] = [];

  beforeAll(async () => {
    // As infra/local/server.ts serves it: the body and x-amz-target, under /_local/kms.
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const target = String(request.headers['x-amz-target'] ?? '');
        targets.push(`${request.method} ${request.url} ${target}`);
        const answer = answerKms(target, Buffer.concat(chunks).toString('utf8'), kms);
        const plaintext = (answer.json as { Plaintext?: string }).Plaintext;
        if (target === 'TrentService.GenerateDataKey' && plaintext) dataKeys.push(plaintext);
        response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(answer.json));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_local/kms`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    targets.length = 0;
    dataKeys.length = 0;
  });

  const vault = () =>
    new KmsKeyVault(
      new KMSClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      }),
      LOCAL_CERTIFICATE_KEY_ARN,
    );

  it('seals and opens a private key: GenerateDataKey, then Decrypt, as the SDK sends them', async () => {
    const secret = Buffer.from('a PKCS#8 private key, in the clear');

    const sealed = await vault().seal(secret, CONTEXT);
    const opened = await vault().open(sealed, CONTEXT);

    expect(opened.equals(secret)).toBe(true);
    expect(sealed.keyId).toBe(LOCAL_CERTIFICATE_KEY_ARN);
    expect(Buffer.from(sealed.ciphertext, 'base64').includes(secret)).toBe(false);
    expect(targets).toEqual([
      'POST /_local/kms/ TrentService.GenerateDataKey',
      'POST /_local/kms/ TrentService.Decrypt',
    ]);
  });

  it('keeps the data key only wrapped: the sealed key holds the blob, never the key itself', async () => {
    const sealed = await vault().seal(Buffer.from('key'), CONTEXT);

    expect(dataKeys).toHaveLength(1);
    expect(JSON.stringify(sealed)).not.toContain(dataKeys[0]);
    expect(kms.unwrap(Buffer.from(sealed.encryptedDataKey, 'base64'), CONTEXT)?.toString('base64')).toBe(
      dataKeys[0],
    );
  });

  it('fails to open under another context with the SDK’s InvalidCiphertextException', async () => {
    const sealed = await vault().seal(Buffer.from('key'), CONTEXT);

    await expect(
      vault().open(sealed, { ...CONTEXT, certificateId: 'e0000000-0000-4000-8000-000000000002' }),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('fails with the SDK’s NotFoundException for a key the stand-in does not have', async () => {
    const other = new KmsKeyVault(
      new KMSClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      }),
      'arn:aws:kms:us-east-1:000000000000:key/unknown',
    );

    await expect(other.seal(Buffer.from('key'), CONTEXT)).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });
});
