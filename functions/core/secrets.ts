/**
 * One-time tokens and the device credential (DESIGN §8 rules 2, 4, 5): 128 or 256 bits from the
 * port's CSPRNG, stored only as SHA-256 hashes (at that length no copy of the table can be searched
 * for them), compared in constant time. PINs, short enough to try all of, are in one-time-pin.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from './ports.ts';

export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
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
  // Shape and length first: nothing a client made up reaches a DynamoDB key.
  if (credential.length > 200) return null;
  const parts = credential.split('.');
  if (parts.length !== 4 || parts[0] !== CREDENTIAL_PREFIX) return null;
  const [, userSub, deviceId, secret] = parts as [string, string, string, string];
  const id = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  if (!id.test(userSub) || !id.test(deviceId) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { userSub, deviceId, secretHash: sha256Hex(secret) };
}

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
