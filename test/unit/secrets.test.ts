import { createHmac } from 'node:crypto';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { hmacHasher } from '../../functions/adapters/secret-hasher.ts';
import { cryptoRandom } from '../../functions/adapters/system.ts';
import { issuePin, MAX_PIN_TRIES, pinMatches, pinState } from '../../functions/core/one-time-pin.ts';
import type { RandomSource } from '../../functions/core/ports.ts';
import {
  hashesEqual,
  newDeviceCredential,
  newToken,
  parseDeviceCredential,
  sha256Hex,
} from '../../functions/core/secrets.ts';
import { ALICE_SUB, ONE_TIME_SECRET_KEY } from './fixtures.ts';
import { testHasher } from './memory-ports.ts';
import { fakeRandom, pinHmac } from './portal-mocks.ts';
import { secretsManager } from './secrets-mock.ts';

const DEVICE_ID = 'b0000000-0000-4000-8000-000000000001';
const SECRET_43 = `${'A'.repeat(42)}w`;

describe('registration PINs', () => {
  const OWNER = { userSub: ALICE_SUB, deviceId: DEVICE_ID };
  const EXPIRES_AT = '2025-06-02T11:00:00.000Z';
  const issue = (random: RandomSource, length = 8) =>
    issuePin({ random, hasher: testHasher }, 'REGISTRATION', OWNER, length, EXPIRES_AT);

  it.each([4, 6, 8, 12])('draws %i decimal digits from the CSPRNG', (length) => {
    for (let i = 0; i < 50; i++) {
      expect(cryptoRandom.digits(length)).toMatch(new RegExp(`^\\d{${length}}$`));
    }
  });

  it('uses every digit: 2,000 draws of 8 digits cover 0 to 9 in each position', () => {
    const seen = Array.from({ length: 8 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) {
      [...cryptoRandom.digits(8)].forEach((digit, position) => {
        seen[position]?.add(digit);
      });
    }
    expect(seen.map((digits) => digits.size)).toEqual(Array(8).fill(10));
  });

  it('asks the random source for exactly the requested number of digits and returns them', async () => {
    const random = fakeRandom(['31415926']);

    const { pin } = await issue(random);

    expect(pin).toBe('31415926');
    expect(random.drawnDigits).toEqual([8]);
  });

  it('stores the HMAC of purpose, user, device and PIN, no try taken, its expiry, and never the PIN', async () => {
    const { pin, stored } = await issue(fakeRandom(['31415926']));

    expect(stored).toEqual({ hmac: pinHmac(pin, DEVICE_ID), tries: 0, expiresAt: EXPIRES_AT });
    expect(stored.hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(pin);
  });

  it('binds the PIN to its device: the same PIN for another device has another HMAC', async () => {
    const random = fakeRandom(['12345678', '12345678']);

    const first = await issue(random);
    const other = await issuePin(
      { random, hasher: testHasher },
      'REGISTRATION',
      { userSub: ALICE_SUB, deviceId: 'b0000000-0000-4000-8000-000000000002' },
      8,
      EXPIRES_AT,
    );

    expect(first.pin).toBe(other.pin);
    expect(first.stored.hmac).not.toBe(other.stored.hmac);
  });

  it('pinMatches is true for the PIN that was issued', async () => {
    const { pin, stored } = await issue(cryptoRandom);

    expect(await pinMatches(testHasher, 'REGISTRATION', OWNER, stored, pin)).toBe(true);
  });

  it('pinMatches is false for any other PIN, a prefix of it, or the empty string', async () => {
    const { stored } = await issue(fakeRandom(['31415926']));
    const matches = (candidate: string) => pinMatches(testHasher, 'REGISTRATION', OWNER, stored, candidate);

    expect(await matches('31415927')).toBe(false);
    expect(await matches('3141592')).toBe(false);
    expect(await matches('314159260')).toBe(false);
    expect(await matches('')).toBe(false);
  });

  it('pinMatches is false for the right PIN under another purpose or another device', async () => {
    const { pin, stored } = await issue(fakeRandom(['31415926']));

    expect(await pinMatches(testHasher, 'SECURE_APPS', OWNER, stored, pin)).toBe(false);
    expect(
      await pinMatches(testHasher, 'REGISTRATION', { ...OWNER, deviceId: 'other-device' }, stored, pin),
    ).toBe(false);
  });

  it('pinMatches is false against a stored HMAC that is malformed', async () => {
    const stored = { hmac: 'not-hex', tries: 0, expiresAt: EXPIRES_AT };

    expect(await pinMatches(testHasher, 'REGISTRATION', OWNER, stored, '31415926')).toBe(false);
  });

  it.each([
    ['LIVE', { tries: 4 }, '2025-06-02T10:59:59.999Z'],
    ['USED', { usedAt: '2025-06-02T10:30:00.000Z' }, '2025-06-02T10:45:00.000Z'],
    ['LOCKED', { tries: MAX_PIN_TRIES }, '2025-06-02T10:45:00.000Z'],
    ['EXPIRED', {}, EXPIRES_AT],
  ])('pinState is %s', (state, overrides, now) => {
    const stored = { hmac: 'ab', tries: 0, expiresAt: EXPIRES_AT, ...overrides };

    expect(pinState(stored, new Date(now))).toBe(state);
  });
});

describe('the HMAC hasher adapter', () => {
  it('is HMAC-SHA-256 under the value of ONE_TIME_SECRET_KEY_ARN, of the parts joined by U+001F', async () => {
    const expected = createHmac('sha256', ONE_TIME_SECRET_KEY)
      .update('REGISTRATION\u001fsub\u001fdevice\u001f1234')
      .digest('hex');

    expect(await hmacHasher.hash('REGISTRATION', 'sub', 'device', '1234')).toBe(expected);
    expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: process.env.ONE_TIME_SECRET_KEY_ARN,
    });
  });

  it('keeps ("ab", "c") and ("a", "bc") apart', async () => {
    expect(await hmacHasher.hash('ab', 'c')).not.toBe(await hmacHasher.hash('a', 'bc'));
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
