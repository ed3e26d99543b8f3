/**
 * Sealing a private key to a device (functions/core/device-seal.ts): only the holder of the
 * device's X25519 key opens it, only for what it was bound to, and nothing about it repeats.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SealedForDevice } from '../../functions/core/api-types.ts';
import { devicePublicKey, openOnDevice, sealForDevice } from '../../functions/core/device-seal.ts';
import { PortalError } from '../../functions/core/errors.ts';

const PLAINTEXT = Buffer.from('-----a PKCS#8 private key, as DER bytes-----');
const BINDING = 'e0000000-0000-4000-8000-000000000001|b0000000-0000-4000-8000-000000000001';

let device: { publicKey: KeyObject; privateKey: KeyObject };

beforeEach(() => {
  device = generateKeyPairSync('x25519');
});

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' }).toString('base64');
const flipped = (base64: string) => {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64');
};

describe('sealForDevice and openOnDevice', () => {
  it('gives back the plaintext to the device key, under the same binding', () => {
    const sealed = sealForDevice(PLAINTEXT, devicePublicKey(spki(device.publicKey)), BINDING);

    expect(openOnDevice(sealed, device.privateKey, BINDING).equals(PLAINTEXT)).toBe(true);
  });

  it('carries no plaintext', () => {
    const sealed = sealForDevice(PLAINTEXT, device.publicKey, BINDING);

    expect(Buffer.from(sealed.ciphertext, 'base64').includes(PLAINTEXT)).toBe(false);
    expect(JSON.stringify(sealed)).not.toContain(PLAINTEXT.toString('base64'));
  });

  it('cannot be opened under another binding', () => {
    const sealed = sealForDevice(PLAINTEXT, device.publicKey, BINDING);

    expect(() => openOnDevice(sealed, device.privateKey, `${BINDING}x`)).toThrow();
  });

  it('cannot be opened with another device’s key', () => {
    const sealed = sealForDevice(PLAINTEXT, device.publicKey, BINDING);

    expect(() => openOnDevice(sealed, generateKeyPairSync('x25519').privateKey, BINDING)).toThrow();
  });

  it.each(['ciphertext', 'tag', 'iv', 'salt'] as const)(
    'cannot be opened once its %s was changed',
    (part) => {
      const sealed = sealForDevice(PLAINTEXT, device.publicKey, BINDING);
      const changed: SealedForDevice = { ...sealed, [part]: flipped(sealed[part]) };

      expect(() => openOnDevice(changed, device.privateKey, BINDING)).toThrow();
    },
  );

  it('uses a fresh ephemeral key, salt and IV every time: two seals of the same key share nothing', () => {
    const first = sealForDevice(PLAINTEXT, device.publicKey, BINDING);
    const second = sealForDevice(PLAINTEXT, device.publicKey, BINDING);

    for (const part of ['ephemeralPublicKey', 'salt', 'iv', 'ciphertext', 'tag'] as const) {
      expect(second[part]).not.toBe(first[part]);
    }
  });
});

describe('devicePublicKey', () => {
  it('takes an X25519 public key as SPKI DER in base64', () => {
    expect(devicePublicKey(spki(device.publicKey)).asymmetricKeyType).toBe('x25519');
  });

  it.each([
    ['an X448 key', () => spki(generateKeyPairSync('x448').publicKey)],
    ['an Ed25519 key', () => spki(generateKeyPairSync('ed25519').publicKey)],
    ['an EC P-256 key', () => spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)],
    ['an empty string', () => ''],
    ['bytes that are no key', () => Buffer.from('no key here').toString('base64')],
  ])('refuses %s as INVALID DEVICE_KEY_INVALID', (_, key) => {
    let error: unknown;
    try {
      devicePublicKey(key());
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(PortalError);
    expect(error).toMatchObject({ kind: 'INVALID', code: 'DEVICE_KEY_INVALID' });
  });
});
