/** Phone numbers as people type them, normalised to E.164; only mobile numbers pass (core/phone.ts). */
import { describe, expect, it } from 'vitest';
import { PortalError } from '../../functions/core/errors.ts';
import { normalizeMobile } from '../../functions/core/phone.ts';

/** The PortalError the promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<PortalError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PortalError) return error;
    throw error;
  }
  throw new Error('expected a PortalError, but the number was accepted');
}

describe('normalizeMobile', () => {
  it('reads "(415) 555-0123" in the US as +14155550123', async () => {
    expect(await normalizeMobile('(415) 555-0123', 'US')).toBe('+14155550123');
  });

  it('reads a number with its country code whatever country is given', async () => {
    expect(await normalizeMobile('+44 7911 123456', 'US')).toBe('+447911123456');
  });

  it('reads a national number with its trunk 0 in the country given', async () => {
    expect(await normalizeMobile('07911 123456', 'GB')).toBe('+447911123456');
  });

  it('trims the spaces around what was typed', async () => {
    expect(await normalizeMobile('  +14155550123 ', 'US')).toBe('+14155550123');
  });

  it.each([
    ['+44 7700 900123', 'a UK drama number (fictional range)'],
    ['+1 900 555 0123', 'a US premium-rate number'],
    ['+15555550101', 'a number in the fictional 555 area code'],
    ['030 1234567', 'a Berlin fixed line (read in DE)'],
  ])('refuses %s, %s, with 400 PHONE_NUMBER_INVALID', async (typed, _what) => {
    const error = await refusal(normalizeMobile(typed, typed.startsWith('+') ? 'US' : 'DE'));

    expect(error).toMatchObject({ kind: 'INVALID', code: 'PHONE_NUMBER_INVALID' });
    expect(error.message).toMatch(/^Enter a mobile number/);
  });

  it.each([
    ['', 'nothing'],
    ['   ', 'only spaces'],
    ['call me', 'no digits'],
    [`+1415555012${'3'.repeat(30)}`, 'over 40 characters'],
  ])('refuses %j (%s) with PHONE_NUMBER_INVALID', async (typed, _what) => {
    expect((await refusal(normalizeMobile(typed, 'US'))).code).toBe('PHONE_NUMBER_INVALID');
  });

  it('refuses a national number when the country is not an ISO code, rather than guessing one', async () => {
    expect((await refusal(normalizeMobile('(415) 555-0123', 'usa'))).code).toBe('PHONE_NUMBER_INVALID');
  });
});
