/**
 * A mobile number as people type it: a country (by default the browser's region) and the number
 * in its local format, checked and normalised to E.164 with libphonenumber-js (the full metadata,
 * so that number types are known and premium-rate numbers are refused). Loaded with the register
 * dialog only, never with the first page.
 */
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/max';
import { useMemo } from 'preact/hooks';

export interface PhoneValue {
  country: CountryCode;
  /** What the user typed: a local number, or an international one starting with +. */
  number: string;
}

export type PhoneCheck =
  | { ok: true; e164: string; formatted: string }
  | { ok: false; reason: 'empty' | 'invalid' | 'premium' };

/** Types that cost the sender extra or reach no phone that reads SMS. */
const REFUSED_TYPES = new Set(['PREMIUM_RATE', 'SHARED_COST', 'TOLL_FREE', 'VOICEMAIL', 'UAN', 'PAGER']);

const COUNTRIES = new Set<string>(getCountries());

function isCountry(code: string | undefined): code is CountryCode {
  return !!code && COUNTRIES.has(code);
}

/** The browser's region (en-GB → GB), else US. */
export function defaultCountry(): CountryCode {
  for (const tag of navigator.languages ?? [navigator.language]) {
    try {
      const region = new Intl.Locale(tag).maximize().region;
      if (isCountry(region)) return region;
    } catch {
      // Not a valid tag: try the next.
    }
  }
  return 'US';
}

/** A stored E.164 number (the profile's) as the field shows it, or an empty field. */
export function initialPhone(e164: string | null): PhoneValue {
  const parsed = e164 ? parsePhoneNumberFromString(e164) : undefined;
  if (parsed?.country) return { country: parsed.country, number: parsed.formatNational() };
  return { country: defaultCountry(), number: e164 ?? '' };
}

export function checkPhone(value: PhoneValue): PhoneCheck {
  const typed = value.number.trim();
  if (!/\d/.test(typed)) return { ok: false, reason: 'empty' };
  const parsed = parsePhoneNumberFromString(typed, value.country);
  if (!parsed?.isValid()) return { ok: false, reason: 'invalid' };
  const type = parsed.getType();
  if (type && REFUSED_TYPES.has(type)) return { ok: false, reason: 'premium' };
  return { ok: true, e164: parsed.number, formatted: parsed.formatInternational() };
}

/** The one message for a number that cannot be used (not the hint again). */
export function phoneError(check: PhoneCheck): string | null {
  if (check.ok) return null;
  switch (check.reason) {
    case 'empty':
      return 'Enter the mobile number for the SMS.';
    case 'premium':
      return 'This number cannot receive the SMS (premium-rate or service number). Enter a mobile number.';
    default:
      return 'This is not a valid mobile number for the country chosen. Check the country and the number.';
  }
}

interface PhoneFieldProps {
  id: string;
  label: string;
  value: PhoneValue;
  onChange: (value: PhoneValue) => void;
  /** Shown under the field (and the field marked invalid). */
  error: string | null;
}

export function PhoneField({ id, label, value, onChange, error }: PhoneFieldProps) {
  const countries = useMemo(() => {
    const names = new Intl.DisplayNames([navigator.language, 'en'], { type: 'region' });
    return getCountries()
      .map((code) => ({ code, name: names.of(code) ?? code, dial: getCountryCallingCode(code) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }, []);
  const check = checkPhone(value);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  return (
    <div class="field field-indent phone-field">
      <label for={id}>{label}</label>
      <div class="phone-row">
        <select
          aria-label="Country"
          autoComplete="tel-country-code"
          value={value.country}
          onChange={(e) => {
            const country = e.currentTarget.value;
            if (isCountry(country)) onChange({ ...value, country });
          }}
        >
          {countries.map((c) => (
            <option key={c.code} value={c.code}>
              {c.name} (+{c.dial})
            </option>
          ))}
        </select>
        <input
          id={id}
          type="tel"
          autoComplete="tel-national"
          inputMode="tel"
          required
          value={value.number}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? `${errorId} ${hintId}` : hintId}
          onInput={(e) => onChange({ ...value, number: e.currentTarget.value })}
        />
      </div>
      <p id={hintId} class="field-hint">
        Choose the country, then type the number as you would dial it there.
        {check.ok ? (
          <>
            {' '}
            The SMS goes to{' '}
            <span class="mono" data-testid="phone-formatted">
              {check.formatted}
            </span>
            .
          </>
        ) : null}
      </p>
      {error ? (
        <p id={errorId} class="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
