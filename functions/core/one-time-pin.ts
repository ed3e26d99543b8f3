/**
 * One-time PINs (DESIGN §8 rules 1, 3, 14): the registration PIN and, later, the secure-apps PIN.
 * A PIN is drawn from the CSPRNG, stored only as an HMAC under a key the table does not hold, bound
 * to its purpose, user and device, single use, with a lifetime and a budget of tries. A try is taken
 * by one conditional write before the PIN is compared, so parallel guesses cannot compare more than
 * MAX_PIN_TRIES times, whatever their number.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RandomSource, SecretHasher } from './ports.ts';

/** Tries a PIN allows, the right one included (rules 1 and 3). */
export const MAX_PIN_TRIES = 5;

export type PinPurpose = 'REGISTRATION' | 'SECURE_APPS';

/** A one-time PIN as stored: never the PIN itself. */
export interface OneTimePin {
  /** Hex HMAC-SHA-256 of purpose, user, device and PIN. */
  hmac: string;
  /** Tries taken so far (each taken before its comparison). */
  tries: number;
  /** ISO time after which the PIN no longer works. */
  expiresAt: string;
  /** Set when the PIN was used; single use. */
  usedAt?: string;
}

export interface PinOwner {
  userSub: string;
  deviceId: string;
}

export type PinState = 'LIVE' | 'USED' | 'LOCKED' | 'EXPIRED';

function pinHmac(hasher: SecretHasher, purpose: PinPurpose, owner: PinOwner, pin: string): Promise<string> {
  return hasher.hash(purpose, owner.userSub, owner.deviceId, pin);
}

/** A new PIN of `length` digits and its stored form; the PIN itself is shown once and never stored. */
export async function issuePin(
  ports: { random: RandomSource; hasher: SecretHasher },
  purpose: PinPurpose,
  owner: PinOwner,
  length: number,
  expiresAt: string,
): Promise<{ pin: string; stored: OneTimePin }> {
  const pin = ports.random.digits(length);
  return { pin, stored: { hmac: await pinHmac(ports.hasher, purpose, owner, pin), tries: 0, expiresAt } };
}

export function pinState(stored: OneTimePin, now: Date): PinState {
  if (stored.usedAt) return 'USED';
  if (stored.tries >= MAX_PIN_TRIES) return 'LOCKED';
  if (Date.parse(stored.expiresAt) <= now.getTime()) return 'EXPIRED';
  return 'LIVE';
}

/**
 * Compares a candidate with the stored PIN in constant time. Call it only after a try was taken
 * (the store's takePinTry) for exactly this stored PIN.
 */
export async function pinMatches(
  hasher: SecretHasher,
  purpose: PinPurpose,
  owner: PinOwner,
  stored: OneTimePin,
  candidate: string,
): Promise<boolean> {
  if (!/^\d{4,12}$/.test(candidate)) return false;
  const expected = Buffer.from(stored.hmac, 'hex');
  const actual = Buffer.from(await pinHmac(hasher, purpose, owner, candidate), 'hex');
  return expected.length === actual.length && expected.length > 0 && timingSafeEqual(expected, actual);
}
