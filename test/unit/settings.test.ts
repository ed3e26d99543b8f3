import { describe, expect, it } from 'vitest';
import {
  applySettingsChange,
  defaultSettings,
  effectiveRoles,
  readSettings,
} from '../../functions/core/settings.ts';

describe('effectiveRoles', () => {
  it('gives everyone the default roles, and a group its own on top', () => {
    const settings = {
      ...defaultSettings(),
      defaultRoles: ['self-service' as const],
      groupRoles: { helpers: ['wipe' as const] },
    };

    expect(effectiveRoles(settings, [])).toEqual(['self-service']);
    expect(effectiveRoles(settings, ['helpers']).sort()).toEqual(['self-service', 'wipe']);
  });

  it('gives a group named like a built-in object property nothing, instead of failing', () => {
    const roles = effectiveRoles(defaultSettings(), ['constructor', 'toString', '__proto__']);

    expect(roles.sort()).toEqual([...defaultSettings().defaultRoles].sort());
  });
});

describe('readSettings', () => {
  it('keeps the sibling fields of a stored partial object: helpdesk { phone } keeps the default name and email', () => {
    const defaults = defaultSettings();

    const { settings, invalid } = readSettings({ helpdesk: { phone: '+1 555 0199' } }, 4);

    expect(settings.helpdesk).toEqual({ ...defaults.helpdesk, phone: '+1 555 0199' });
    expect(settings.version).toBe(4);
    expect(invalid).toEqual([]);
  });

  it('falls back to the default of an invalid field alone, keeping the valid fields beside it', () => {
    const defaults = defaultSettings();

    const { settings, invalid } = readSettings({ pinLength: 3, deviceLimitPerUser: 2 }, 4);

    expect(settings.pinLength).toBe(defaults.pinLength);
    expect(settings.deviceLimitPerUser).toBe(2);
    expect(invalid).toEqual(['pinLength']);
  });

  it('falls back per nested field: a wrong helpdesk phone, the stored helpdesk name kept', () => {
    const defaults = defaultSettings();

    const { settings, invalid } = readSettings({ helpdesk: { name: 'Desk North', phone: 42 } }, 4);

    expect(settings.helpdesk).toEqual({ ...defaults.helpdesk, name: 'Desk North' });
    expect(invalid).toEqual(['helpdesk.phone']);
  });

  it('drops a stored field the settings do not have', () => {
    const { settings, invalid } = readSettings({ externalHost: 'devices.example.org', pinLength: 10 }, 4);

    expect(settings).not.toHaveProperty('externalHost');
    expect(settings.pinLength).toBe(10);
    expect(invalid).toEqual([]);
  });

  it('answers the defaults when nothing is stored', () => {
    expect(readSettings(undefined)).toEqual({ settings: defaultSettings(), invalid: [] });
  });
});

describe('applySettingsChange', () => {
  it('lays a valid change over the current settings, keeping what it does not name', () => {
    const current = defaultSettings();

    const result = applySettingsChange(current, {
      publicOrigin: 'https://devices.example.com',
      helpdesk: { phone: '+1 555 0199' },
    });

    expect(result).toEqual({
      ok: true,
      settings: {
        ...current,
        publicOrigin: 'https://devices.example.com',
        helpdesk: { ...current.helpdesk, phone: '+1 555 0199' },
      },
    });
  });

  it('refuses an invalid field, naming its path', () => {
    const result = applySettingsChange(defaultSettings(), { pinLength: 40 });

    expect(result).toEqual({ ok: false, issues: [{ path: 'pinLength', message: expect.any(String) }] });
  });

  it('refuses a public origin that is not an https origin, naming its path', () => {
    const result = applySettingsChange(defaultSettings(), { publicOrigin: 'http://devices.example.com/go' });

    expect(result).toEqual({ ok: false, issues: [{ path: 'publicOrigin', message: expect.any(String) }] });
  });

  it('has US, en and UTC as the default country, language and time zone', () => {
    expect(defaultSettings()).toMatchObject({
      defaultCountry: 'US',
      defaultLanguage: 'en',
      defaultTimeZone: 'UTC',
    });
  });

  it('accepts a country code, a language tag and an IANA time zone', () => {
    const result = applySettingsChange(defaultSettings(), {
      defaultCountry: 'CH',
      defaultLanguage: 'de-CH',
      defaultTimeZone: 'Europe/Zurich',
    });

    expect(result).toMatchObject({
      ok: true,
      settings: { defaultCountry: 'CH', defaultLanguage: 'de-CH', defaultTimeZone: 'Europe/Zurich' },
    });
  });

  it.each([
    ['defaultCountry', 'usa'],
    ['defaultLanguage', 'English'],
    ['defaultTimeZone', 'Mars/Olympus_Mons'],
  ])('refuses %s %j, naming its path', (field, value) => {
    const result = applySettingsChange(defaultSettings(), { [field]: value });

    expect(result).toEqual({ ok: false, issues: [{ path: field, message: expect.any(String) }] });
  });

  it('gives the same answer for a time zone the second time it is checked (the check is cached)', () => {
    const twice = (zone: string) =>
      [1, 2].map(() => applySettingsChange(defaultSettings(), { defaultTimeZone: zone }).ok);

    expect(twice('Mars/Olympus_Mons')).toEqual([false, false]);
    expect(twice('Asia/Kolkata')).toEqual([true, true]);
  });

  it('refuses a wrong nested field with its full path', () => {
    const result = applySettingsChange(defaultSettings(), { helpdesk: { email: 'x'.repeat(300) } });

    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path)).toEqual(['helpdesk.email']);
  });
});
