import { describe, expect, it } from 'vitest';
import { defaultSettings, effectiveRoles } from '../../functions/core/settings.ts';

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
