/**
 * A private key on its way to a device is sealed to a one-off X25519 key the device sent with the
 * request (ECDH, HKDF-SHA-256, AES-256-GCM, as HPKE does): the response never holds the key in the
 * clear, so neither a log of it nor a proxy in between can use it.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import type { SealedForDevice } from './api-types.ts';
import { PortalError } from './errors.ts';

const INFO = 'device-portal certificate key v1';

/** The device's public key from the request, or 400 when it is no X25519 SPKI. */
export function devicePublicKey(base64: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType === 'x25519') return key;
  } catch {
    // fall through to the same answer
  }
  throw new PortalError(
    'INVALID',
    'DEVICE_KEY_INVALID',
    'devicePublicKey must be an X25519 public key, SPKI DER in base64.',
  );
}

function sharedKey(privateKey: KeyObject, publicKey: KeyObject, salt: Buffer, bindTo: string): Buffer {
  const secret = diffieHellman({ privateKey, publicKey });
  return Buffer.from(hkdfSync('sha256', secret, salt, `${INFO}|${bindTo}`, 32));
}

/** Encrypts `plaintext` so that only the holder of the device's private key reads it. */
export function sealForDevice(plaintext: Buffer, device: KeyObject, bindTo: string): SealedForDevice {
  const ephemeral = generateKeyPairSync('x25519');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = sharedKey(ephemeral.privateKey, device, salt, bindTo);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(bindTo, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  key.fill(0);
  return {
    ephemeralPublicKey: ephemeral.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

/** The device's side (the simulator): opens what sealForDevice made for its key. */
export function openOnDevice(sealed: SealedForDevice, devicePrivateKey: KeyObject, bindTo: string): Buffer {
  const ephemeral = createPublicKey({
    key: Buffer.from(sealed.ephemeralPublicKey, 'base64'),
    format: 'der',
    type: 'spki',
  });
  const key = sharedKey(devicePrivateKey, ephemeral, Buffer.from(sealed.salt, 'base64'), bindTo);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(Buffer.from(bindTo, 'utf8'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const plaintext = Buffer.concat([
    decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
    decipher.final(),
  ]);
  key.fill(0);
  return plaintext;
}
