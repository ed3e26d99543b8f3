/**
 * One-time secrets (DESIGN §8 rules 1–5): drawn from the port's CSPRNG, stored only as hashes,
 * compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { StoredSecret } from './device.ts';
import type { RandomSource } from './ports.ts';

export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A PIN of `length` digits and its salted hash; only the hash is stored. */
export function newPin(random: RandomSource, length: number): { pin: string; stored: StoredSecret } {
  const pin = random.digits(length);
  const salt = base64url(random.bytes(16));
  return { pin, stored: { salt, hash: sha256Hex(`${salt}:${pin}`) } };
}

export function pinMatches(stored: StoredSecret, candidate: string): boolean {
  const expected = Buffer.from(stored.hash, 'hex');
  const actual = Buffer.from(sha256Hex(`${stored.salt}:${candidate}`), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A 128-bit single-use token (QR, enrollment, derived-credential state); stored as sha256(token). */
export function newToken(random: RandomSource): { token: string; hash: string } {
  const token = base64url(random.bytes(16));
  return { token, hash: sha256Hex(token) };
}

const CREDENTIAL_PREFIX = 'dc1';

/**
 * The device credential: 256 bits of secret, prefixed by the owner and device so that the device
 * item is found by key with one strongly consistent read (no index lag right after enrollment).
 */
export function newDeviceCredential(
  random: RandomSource,
  userSub: string,
  deviceId: string,
): { credential: string; hash: string } {
  const secret = base64url(random.bytes(32));
  return {
    credential: `${CREDENTIAL_PREFIX}.${userSub}.${deviceId}.${secret}`,
    hash: sha256Hex(secret),
  };
}

export function parseDeviceCredential(
  credential: string,
): { userSub: string; deviceId: string; secretHash: string } | null {
  const parts = credential.split('.');
  if (parts.length !== 4 || parts[0] !== CREDENTIAL_PREFIX) return null;
  const [, userSub, deviceId, secret] = parts as [string, string, string, string];
  if (!userSub || !deviceId || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { userSub, deviceId, secretHash: sha256Hex(secret) };
}

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
