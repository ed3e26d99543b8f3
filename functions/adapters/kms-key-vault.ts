/**
 * Envelope encryption of certificates' private keys under the KMS key CERTIFICATE_KEY_ARN: KMS makes
 * a data key for each private key, AES-256-GCM encrypts the key with it, and only KMS can unwrap the
 * data key again, under the same encryption context (the user and the certificate). Locally the
 * portal server answers GenerateDataKey and Decrypt from a key file under PORTAL_DATA_DIR.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { KeyVault, SealedKey } from '../core/certificates.ts';
import { once, requiredEnv } from './system.ts';

const aad = (context: Record<string, string>) =>
  Buffer.from(
    JSON.stringify(Object.fromEntries(Object.entries(context).sort(([a], [b]) => a.localeCompare(b)))),
    'utf8',
  );

export class KmsKeyVault implements KeyVault {
  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
  ) {}

  async seal(plaintext: Buffer, context: Record<string, string>): Promise<SealedKey> {
    const dataKey = await this.client.send(
      new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    if (!dataKey.Plaintext || !dataKey.CiphertextBlob) throw new Error('KMS returned no data key');
    const key = Buffer.from(dataKey.Plaintext);
    try {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(context));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        keyId: dataKey.KeyId ?? this.keyId,
        encryptedDataKey: Buffer.from(dataKey.CiphertextBlob).toString('base64'),
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        ciphertext: ciphertext.toString('base64'),
      };
    } finally {
      key.fill(0);
      dataKey.Plaintext.fill(0);
    }
  }

  async open(sealed: SealedKey, context: Record<string, string>): Promise<Buffer> {
    const dataKey = await this.client.send(
      new DecryptCommand({
        KeyId: this.keyId,
        CiphertextBlob: Buffer.from(sealed.encryptedDataKey, 'base64'),
        EncryptionContext: context,
      }),
    );
    if (!dataKey.Plaintext) throw new Error('KMS returned no data key');
    const key = Buffer.from(dataKey.Plaintext);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(aad(context));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
    } finally {
      key.fill(0);
      dataKey.Plaintext.fill(0);
    }
  }
}

// Pure: a bundle whose handler never calls it leaves the client out.
export const kmsKeyVault = /* @__PURE__ */ once(
  () => new KmsKeyVault(new KMSClient({}), requiredEnv('CERTIFICATE_KEY_ARN')),
);
