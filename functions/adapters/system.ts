/** Ports that need no AWS client, and the helpers the client factories share. */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Clock, RandomSource, Sleep } from '../core/ports.ts';

export const systemClock: Clock = { now: () => new Date() };

export const sleepUntil: Sleep = (until) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, until.getTime() - Date.now())));

export const cryptoRandom: RandomSource = {
  bytes: (count) => new Uint8Array(randomBytes(count)),
  digits: (length) => Array.from({ length }, () => randomInt(10)).join(''),
  uuid: () => randomUUID(),
};

/**
 * Creates a value once per container, on first use. Each adapter module builds its own SDK client
 * this way, so a function bundles only the clients its handler imports. Endpoints follow the
 * SDK's service-specific overrides (AWS_ENDPOINT_URL_DYNAMODB, …), which the local twin sets.
 */
export function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
}
