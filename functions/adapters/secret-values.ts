/**
 * Secrets Manager values the functions need at run time: the CloudFront origin secret (every
 * route) and the key one-time secrets are HMACed with. Each value is read once per container and
 * kept for a few minutes, so a rotation reaches every container soon without a call per request.
 * Locally the portal server answers GetSecretValue from key files under PORTAL_DATA_DIR.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../core/ports.ts';
import { once, requiredEnv, systemClock } from './system.ts';

export type SecretStage = 'AWSCURRENT' | 'AWSPREVIOUS';

const CACHE_MS = 5 * 60_000;

export class SecretValues {
  private readonly cache = new Map<string, { value: Promise<string | null>; readAt: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly clock: Clock,
    private readonly cacheMs = CACHE_MS,
  ) {}

  /** The secret's value at `stage`, or null when it has none (no rotation yet). */
  value(secretId: string, stage: SecretStage = 'AWSCURRENT'): Promise<string | null> {
    const key = `${secretId}|${stage}`;
    const now = this.clock.now().getTime();
    const cached = this.cache.get(key);
    if (cached && now - cached.readAt < this.cacheMs) return cached.value;
    const value = this.client
      .send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))
      .then(
        (answer) => answer.SecretString ?? null,
        (error: unknown) => {
          if (error instanceof ResourceNotFoundException) return null;
          this.cache.delete(key); // a failure is not remembered: the next request asks again
          throw error;
        },
      );
    this.cache.set(key, { value, readAt: now });
    return value;
  }
}

// Pure: a bundle whose handler never calls it leaves the client out.
export const secretValues = /* @__PURE__ */ once(
  () => new SecretValues(new SecretsManagerClient({}), systemClock),
);

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time equality of two strings of any length (their SHA-256 digests are compared). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * True when `presented` is the origin secret CloudFront adds (x-origin-verify), current or the one
 * before a rotation: requests that did not come through CloudFront do not carry it (rule 13).
 */
export async function isOriginSecret(presented: string | undefined): Promise<boolean> {
  if (!presented || presented.length > 256) return false;
  const secretId = requiredEnv('ORIGIN_SECRET_ARN');
  const current = await secretValues().value(secretId, 'AWSCURRENT');
  if (current && sameSecret(current, presented)) return true;
  const previous = await secretValues().value(secretId, 'AWSPREVIOUS');
  return previous !== null && sameSecret(previous, presented);
}
