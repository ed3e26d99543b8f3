/**
 * Phone numbers as people type them ("(415) 555-0123" with a country, or "+44 7700 900123"),
 * normalised to E.164 by libphonenumber-js. Only numbers valid as mobile numbers pass: an SMS
 * invitation needs one, and premium-rate, fixed-line and fictional ranges are refused.
 */
import { PortalError } from './errors.ts';

const PHONE_INVALID = () =>
  new PortalError(
    'INVALID',
    'PHONE_NUMBER_INVALID',
    'Enter a mobile number that can receive SMS: with its country chosen, e.g. (415) 555-0123, or with its country code, e.g. +44 7700 900 123.',
  );

/** E.164 of a mobile number typed in any common format; `country` (ISO 3166 alpha-2) when it has no +. */
export async function normalizeMobile(typed: string, country: string): Promise<string> {
  const text = typed.trim();
  if (text === '' || text.length > 40) throw PHONE_INVALID();
  // Loaded on first use: its metadata is the larger part of a bundle that seldom needs it.
  const { parsePhoneNumberFromString } = await import('libphonenumber-js/mobile');
  const parsed = parsePhoneNumberFromString(text, /^[A-Z]{2}$/.test(country) ? (country as 'US') : undefined);
  if (!parsed?.isValid()) throw PHONE_INVALID();
  return parsed.number;
}
