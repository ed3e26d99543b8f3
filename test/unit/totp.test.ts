import { describe, expect, it } from 'vitest';
import { totp } from '../totp.ts';

describe("the tests' TOTP (RFC 6238)", () => {
  it('gives the RFC 6238 appendix B SHA-1 codes (last 6 digits)', () => {
    // The RFC's key "12345678901234567890" in base32.
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(totp(secret, 59_000)).toBe('287082');
    expect(totp(secret, 1_111_111_109_000)).toBe('081804');
    expect(totp(secret, 1_234_567_890_000)).toBe('005924');
    expect(totp(secret, 20_000_000_000_000)).toBe('353130');
  });
});
