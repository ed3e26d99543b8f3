import { describe, expect, it } from 'vitest';
import { cryptoRandom } from '../../functions/adapters/system.ts';
import {
  hashesEqual,
  newDeviceCredential,
  newPin,
  newToken,
  parseDeviceCredential,
  pinMatches,
  sha256Hex,
} from '../../functions/core/secrets.ts';
import { ALICE_SUB } from './fixtures.ts';
import { fakeRandom } from './portal-mocks.ts';

const DEVICE_ID = 'b0000000-0000-4000-8000-000000000001';
const SECRET_43 = `${'A'.repeat(42)}w`;

describe('registration PINs', () => {
  it.each([4, 6, 8, 12])('draws %i decimal digits from the CSPRNG', (length) => {
    for (let i = 0; i < 50; i++) {
      const { pin } = newPin(cryptoRandom, length);
      expect(pin).toMatch(new RegExp(`^\\d{${length}}$`));
    }
  });

  it('uses every digit: 2,000 draws of 8 digits cover 0 to 9 in each position', () => {
    const seen = Array.from({ length: 8 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) {
      [...newPin(cryptoRandom, 8).pin].forEach((digit, position) => {
        seen[position]?.add(digit);
      });
    }
    expect(seen.map((digits) => digits.size)).toEqual(Array(8).fill(10));
  });

  it('asks the random source for exactly the requested number of digits and returns them', () => {
    const random = fakeRandom(['31415926']);

    const { pin } = newPin(random, 8);

    expect(pin).toBe('31415926');
    expect(random.drawnDigits).toEqual([8]);
  });

  it('stores a salted sha-256 hash of the PIN and never the PIN', () => {
    const { pin, stored } = newPin(fakeRandom(['31415926']), 8);

    expect(Object.keys(stored).sort()).toEqual(['hash', 'salt']);
    expect(stored.hash).toBe(sha256Hex(`${stored.salt}:${pin}`));
    expect(JSON.stringify(stored)).not.toContain(pin);
  });

  it('salts every PIN differently, so equal PINs have different hashes', () => {
    const random = fakeRandom(['12345678', '12345678']);

    const first = newPin(random, 8).stored;
    const second = newPin(random, 8).stored;

    expect(first.salt).not.toBe(second.salt);
    expect(first.hash).not.toBe(second.hash);
  });

  it('pinMatches is true for the PIN that was hashed', () => {
    const { pin, stored } = newPin(cryptoRandom, 8);

    expect(pinMatches(stored, pin)).toBe(true);
  });

  it('pinMatches is false for any other PIN, a prefix of it, or the empty string', () => {
    const { stored } = newPin(fakeRandom(['31415926']), 8);

    expect(pinMatches(stored, '31415927')).toBe(false);
    expect(pinMatches(stored, '3141592')).toBe(false);
    expect(pinMatches(stored, '314159260')).toBe(false);
    expect(pinMatches(stored, '')).toBe(false);
  });

  it('pinMatches is false against a stored hash that is malformed', () => {
    expect(pinMatches({ salt: 's', hash: 'not-hex' }, '31415926')).toBe(false);
  });
});

describe('one-time tokens', () => {
  it('are 128 bits, base64url, stored as their sha-256', () => {
    const { token, hash } = newToken(cryptoRandom);

    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(16);
    expect(hash).toBe(sha256Hex(token));
  });

  it('differ from draw to draw', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => newToken(cryptoRandom).token));

    expect(tokens.size).toBe(100);
  });
});

describe('device credentials', () => {
  it('carry 256 bits of secret after the dc1 prefix, the owner and the device', () => {
    const { credential } = newDeviceCredential(cryptoRandom, ALICE_SUB, DEVICE_ID);

    const [prefix, sub, device, secret] = credential.split('.');
    expect([prefix, sub, device]).toEqual(['dc1', ALICE_SUB, DEVICE_ID]);
    expect(Buffer.from(secret ?? '', 'base64url')).toHaveLength(32);
  });

  it('are hashed as sha-256 of the secret part, which parseDeviceCredential recomputes', () => {
    const { credential, hash } = newDeviceCredential(cryptoRandom, ALICE_SUB, DEVICE_ID);

    expect(hash).toBe(sha256Hex(credential.split('.')[3] ?? ''));
    expect(parseDeviceCredential(credential)).toEqual({
      userSub: ALICE_SUB,
      deviceId: DEVICE_ID,
      secretHash: hash,
    });
  });

  it.each([
    ['the empty string', ''],
    ['another prefix', `dc2.${ALICE_SUB}.${DEVICE_ID}.${SECRET_43}`],
    ['no prefix', `${ALICE_SUB}.${DEVICE_ID}.${SECRET_43}`],
    ['too few parts', `dc1.${ALICE_SUB}.${SECRET_43}`],
    ['too many parts', `dc1.${ALICE_SUB}.${DEVICE_ID}.${SECRET_43}.x`],
    ['an empty owner', `dc1..${DEVICE_ID}.${SECRET_43}`],
    ['an empty device', `dc1.${ALICE_SUB}..${SECRET_43}`],
    ['a short secret', `dc1.${ALICE_SUB}.${DEVICE_ID}.${SECRET_43.slice(1)}`],
    ['a long secret', `dc1.${ALICE_SUB}.${DEVICE_ID}.${SECRET_43}A`],
    ['a secret outside base64url', `dc1.${ALICE_SUB}.${DEVICE_ID}.${SECRET_43.slice(1)}+`],
  ])('parseDeviceCredential rejects %s', (_what, credential) => {
    expect(parseDeviceCredential(credential)).toBeNull();
  });

  it('hashesEqual compares hex hashes and refuses empty or different ones', () => {
    const hash = sha256Hex('x');

    expect(hashesEqual(hash, sha256Hex('x'))).toBe(true);
    expect(hashesEqual(hash, sha256Hex('y'))).toBe(false);
    expect(hashesEqual(hash, hash.slice(0, 32))).toBe(false);
    expect(hashesEqual('', '')).toBe(false);
  });
});
