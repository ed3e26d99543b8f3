/**
 * HMAC-SHA-256 under the one-time-secret key from Secrets Manager (ONE_TIME_SECRET_KEY_ARN; locally
 * a key file under PORTAL_DATA_DIR that the local server serves as that secret). The table holds
 * only the HMACs, so a copy of it alone cannot be searched for PINs.
 */
import { createHmac } from 'node:crypto';
import type { SecretHasher } from '../core/ports.ts';
import { secretValues } from './secret-values.ts';
import { requiredEnv } from './system.ts';

export const hmacHasher: SecretHasher = {
  async hash(...parts: string[]): Promise<string> {
    const key = await secretValues().value(requiredEnv('ONE_TIME_SECRET_KEY_ARN'));
    if (!key) throw new Error('The one-time secret key has no current value');
    // Unit separators keep ("ab", "c") and ("a", "bc") apart.
    return createHmac('sha256', key).update(parts.join('\u001f'), 'utf8').digest('hex');
  },
};
