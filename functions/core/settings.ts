import * as z from 'zod/mini';
import type { Role } from '../routes.ts';
import type { HelpdeskContact, Ownership, Platform, RegistrationMethods } from './api-types.ts';

/** The portal roles (DESIGN §7); routes.ts names the one each route needs. */
export const ROLES = [
  'self-service',
  'register-device',
  'lock',
  'unlock',
  'locate',
  'wipe',
  'retire',
  'change-ownership',
  'reset-secure-apps-passcode',
] as const;

/** Portal settings and role assignments: the CONFIG/SETTINGS item (DESIGN §7). */
export interface PortalSettings {
  version: number;
  /** Roles every signed-in user has. */
  defaultRoles: Role[];
  /** Cognito group name → the roles its members get on top of the defaults. */
  groupRoles: Record<string, Role[]>;
  registrationMethods: RegistrationMethods;
  pinLength: number;
  /** Lifetime of a registration PIN, QR token and invitation (DESIGN §8 rule 1: 10 min to 72 h). */
  pinLifetimeMinutes: number;
  deviceLimitPerUser: number;
  defaultOwnership: Ownership;
  usersMayChooseOwnership: boolean;
  derivedCredential: { enabled: boolean; entrustUrl: string };
  secureAppsPinLifetimeMinutes: number;
  helpdesk: HelpdeskContact;
  invitationTemplates: Record<Platform, { emailSubject: string; emailBody: string; sms: string }>;
  /**
   * The origin used in links (/go in invitations, the iOS profile, the Android referrer), e.g.
   * https://devices.example.com; empty means the deployment's own (PORTAL_ORIGIN).
   */
  publicOrigin: string;
  /** Rate limits (DESIGN §8 rule 10). */
  invitationsPerUserPerHour: number;
  smsPerDayCap: number;
  /** Attempts at /go and agent enrollment by PIN, per source address per 15 minutes. */
  goAttemptsPerAddress: number;
  /** Store links for the agent app. */
  agentApp: { androidStoreUrl: string; iosAppStoreUrl: string };
  /** Map tiles for a located device (OpenStreetMap unless the administrator sets another server). */
  mapTiles: { urlTemplate: string; attribution: string };
  /** Commands not picked up by the device within this many hours become EXPIRED. */
  commandLifetimeHours: number;
  /** What device actions the administrator allows beyond the platform's rules. */
  actionPolicy: {
    /** A full wipe of an employee-owned device (default off: retire removes only company data). */
    wipeEmployeeOwned: boolean;
  };
  /** Email the user after each action on their device and when its result arrives. */
  notifyActionsByEmail: boolean;
  /** Country (ISO 3166 alpha-2) of phone numbers typed without a +, unless the user picks another. */
  defaultCountry: string;
  /** Language and time zone of invitations for users whose profile names none. */
  defaultLanguage: string;
  defaultTimeZone: string;
  /**
   * A second sign-in factor (an authenticator app, TOTP): OFF leaves it to each user; ALL refuses
   * every user route but GET /api/me (403 MFA_REQUIRED) until the user has turned it on; SENSITIVE
   * refuses only the routes that need a recent sign-in (wipe, retire, ownership).
   */
  mfaRequired: MfaRequirement;
}

export const MFA_REQUIREMENTS = ['OFF', 'ALL', 'SENSITIVE'] as const;
export type MfaRequirement = (typeof MFA_REQUIREMENTS)[number];

export const ADMIN_GROUP = 'portal-admins';

export function defaultSettings(): PortalSettings {
  return {
    version: 1,
    defaultRoles: ['self-service', 'register-device', 'lock', 'locate'],
    groupRoles: {
      [ADMIN_GROUP]: [...ROLES],
    },
    registrationMethods: { invitation: true, pin: true, qr: true, passwordAtGo: true },
    pinLength: 8,
    pinLifetimeMinutes: 60,
    deviceLimitPerUser: 5,
    defaultOwnership: 'EMPLOYEE',
    usersMayChooseOwnership: true,
    derivedCredential: { enabled: false, entrustUrl: '' },
    secureAppsPinLifetimeMinutes: 15,
    helpdesk: {
      name: 'IT Service Desk',
      phone: '+1 555 0100',
      email: 'helpdesk@example.com',
      url: 'https://help.example.com',
      hours: 'Mon–Fri 8:00–18:00',
      note: 'Lost or stolen device? Call us straight away, day or night.',
    },
    invitationTemplates: {
      IOS: {
        emailSubject: 'Register your iPhone or iPad',
        emailBody:
          'Hello {{displayName}},\n\nOpen {{goUrl}} on your {{platform}}, sign in with {{username}} and {{signInWith}}, then install the enrollment profile.\n\nThis invitation expires on {{expiresAt}}.\n\nQuestions? {{helpdesk}}',
        sms: 'Register your {{platform}}: open {{goUrl}} on it and sign in with {{signInWith}}. Expires {{expiresAt}}. Help: {{helpdesk}}',
      },
      ANDROID: {
        emailSubject: 'Register your Android device',
        emailBody:
          'Hello {{displayName}},\n\nOpen {{goUrl}} on your {{platform}}, sign in with {{username}} and {{signInWith}}, then install the agent app from Google Play and open it.\n\nThis invitation expires on {{expiresAt}}.\n\nQuestions? {{helpdesk}}',
        sms: 'Register your {{platform}}: open {{goUrl}} on it and sign in with {{signInWith}}. Expires {{expiresAt}}. Help: {{helpdesk}}',
      },
    },
    publicOrigin: '',
    invitationsPerUserPerHour: 10,
    smsPerDayCap: 200,
    goAttemptsPerAddress: 60,
    agentApp: {
      androidStoreUrl: 'https://play.google.com/store/apps/details?id=com.example.mdmagent',
      iosAppStoreUrl: 'https://apps.apple.com/app/id000000000',
    },
    mapTiles: {
      urlTemplate: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      attribution: '© OpenStreetMap contributors',
    },
    commandLifetimeHours: 72,
    actionPolicy: { wipeEmployeeOwned: false },
    notifyActionsByEmail: true,
    defaultCountry: 'US',
    defaultLanguage: 'en',
    defaultTimeZone: 'UTC',
    mfaRequired: 'OFF',
  };
}

/** The administrator turned the Entrust derived credential on and gave its self-service address. */
export function derivedCredentialOffered(settings: Pick<PortalSettings, 'derivedCredential'>): boolean {
  return settings.derivedCredential.enabled && settings.derivedCredential.entrustUrl !== '';
}

/** The roles a user has: the defaults plus those of each of their groups. */
export function effectiveRoles(settings: PortalSettings, groups: readonly string[]): Role[] {
  const roles = new Set<Role>(settings.defaultRoles);
  for (const group of groups) {
    for (const role of Object.hasOwn(settings.groupRoles, group) ? (settings.groupRoles[group] ?? []) : []) {
      roles.add(role);
    }
  }
  roles.add('self-service');
  return [...roles];
}

const role = z.enum(ROLES);
const text = (max: number) => z.string().check(z.maxLength(max));
const minutes = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));
const template = z.strictObject({ emailSubject: text(200), emailBody: text(5000), sms: text(480) });
/** An exact https origin (no path, query or user info), so a link can only ever point at it. */
const origin = z
  .string()
  .check(
    z.refine(
      (value) => value === '' || /^https:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(value),
      'an https origin such as https://devices.example.com, or empty',
    ),
  );

/**
 * The Entrust self-service address: https, a host and at most a path (no query, fragment or user
 * info), so the portal only ever sends people to that one place; http only on loopback (the local
 * stand-in).
 */
const entrustUrl = z
  .string()
  .check(
    z.refine(
      (value) =>
        value === '' ||
        /^https:\/\/[a-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%/-]*)?$/i.test(value) ||
        /^http:\/\/(127\.0\.0\.1|localhost)(:\d{1,5})?(\/[A-Za-z0-9._~%/-]*)?$/.test(value),
      'an https address such as https://entrust.example.com/IdentityGuardSelfService, with no query',
    ),
  );

/** The one schema of the settings: every read and every write goes through it (DESIGN §7). */
export const settingsSchema = z.strictObject({
  version: z.int().check(z.gte(0)),
  defaultRoles: z.array(role),
  groupRoles: z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.array(role)),
  registrationMethods: z.strictObject({
    invitation: z.boolean(),
    pin: z.boolean(),
    qr: z.boolean(),
    passwordAtGo: z.boolean(),
  }),
  pinLength: z.int().check(z.gte(6), z.lte(12)),
  pinLifetimeMinutes: minutes(10, 72 * 60),
  deviceLimitPerUser: z.int().check(z.gte(1), z.lte(50)),
  defaultOwnership: z.enum(['EMPLOYEE', 'COMPANY']),
  usersMayChooseOwnership: z.boolean(),
  derivedCredential: z.strictObject({ enabled: z.boolean(), entrustUrl: entrustUrl }),
  secureAppsPinLifetimeMinutes: minutes(5, 24 * 60),
  helpdesk: z.strictObject({
    name: text(100),
    phone: text(40),
    email: text(254),
    url: text(500),
    hours: text(200),
    note: text(500),
  }),
  invitationTemplates: z.strictObject({ IOS: template, ANDROID: template }),
  publicOrigin: origin,
  invitationsPerUserPerHour: z.int().check(z.gte(1), z.lte(1000)),
  smsPerDayCap: z.int().check(z.gte(0), z.lte(100_000)),
  goAttemptsPerAddress: z.int().check(z.gte(1), z.lte(100_000)),
  agentApp: z.strictObject({ androidStoreUrl: text(500), iosAppStoreUrl: text(500) }),
  mapTiles: z.strictObject({
    urlTemplate: z
      .string()
      .check(
        z.regex(
          /^https:\/\/[a-z0-9.-]+(:\d+)?\/[^\s]*\{z\}[^\s]*$/i,
          'an https tile URL with {z}, {x} and {y}',
        ),
      ),
    attribution: text(200),
  }),
  commandLifetimeHours: z.int().check(z.gte(1), z.lte(30 * 24)),
  actionPolicy: z.strictObject({ wipeEmployeeOwned: z.boolean() }),
  notifyActionsByEmail: z.boolean(),
  defaultCountry: z.string().check(z.regex(/^[A-Z]{2}$/, 'a two-letter country code such as US')),
  defaultLanguage: z
    .string()
    .check(z.regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a language tag such as en or de-CH')),
  defaultTimeZone: z
    .string()
    .check(z.refine((zone) => isTimeZone(zone), 'an IANA time zone such as Europe/Berlin or UTC')),
  mfaRequired: z.enum(MFA_REQUIREMENTS),
});

/**
 * Zones already checked: building an Intl.DateTimeFormat costs about 80 µs, and the settings are
 * checked on every read. Bounded, since an administrator's PUT can name any string.
 */
const checkedZones = new Map<string, boolean>();
const MAX_CHECKED_ZONES = 64;

function isTimeZone(zone: string): boolean {
  const known = checkedZones.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  if (checkedZones.size >= MAX_CHECKED_ZONES) checkedZones.clear();
  checkedZones.set(zone, valid);
  return valid;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `base` with `override` laid over it field by field, objects merged to any depth, so a stored
 * partial object (helpdesk: { phone }) keeps the sibling fields it does not name. Arrays and
 * scalars replace; fields the base does not have are dropped (a stale or unknown field).
 */
export function mergeDeep<T>(base: T, override: unknown): T {
  if (!isObject(base) || !isObject(override)) return base;
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (!Object.hasOwn(base, key) || value === undefined) continue;
    const current = (base as Json)[key];
    // groupRoles is a map whose keys are data (group names), not fields: it replaces whole.
    merged[key] =
      isObject(current) && isObject(value) && key !== 'groupRoles' ? mergeDeep(current, value) : value;
  }
  return merged as T;
}

/**
 * Stored settings made whole: the defaults with what is stored laid over them, then validated.
 * A stored field that does not validate (a hand edit, an older release) falls back to its default,
 * alone: its siblings are kept. `invalid` names what fell back, for the log.
 */
export function readSettings(
  stored: unknown,
  version?: number,
): { settings: PortalSettings; invalid: string[] } {
  const defaults = defaultSettings();
  let candidate = mergeDeep(defaults, stored);
  if (typeof version === 'number') candidate = { ...candidate, version };
  const invalid: string[] = [];
  for (let round = 0; round < 3; round++) {
    const result = settingsSchema.safeParse(candidate);
    if (result.success) return { settings: result.data as PortalSettings, invalid };
    for (const issue of result.error.issues) {
      const path = issue.path.map(String);
      invalid.push(path.join('.'));
      candidate = resetPath(candidate, defaults, path);
    }
  }
  return { settings: { ...defaults, version: candidate.version }, invalid };
}

/** `target` with the value at `path` put back to the default's (the nearest path the default has). */
function resetPath<T>(target: T, defaults: T, path: string[]): T {
  const [head, ...rest] = path;
  if (head === undefined || !isObject(target) || !isObject(defaults)) return defaults;
  const base = (defaults as Json)[head];
  if (rest.length === 0 || !isObject(base)) return { ...target, [head]: base } as T;
  return { ...target, [head]: resetPath((target as Json)[head], base, rest) } as T;
}

/**
 * An administrator's change laid over the current settings and checked: the whole result must
 * validate, or the change is refused with every field that is wrong.
 */
export function applySettingsChange(
  current: PortalSettings,
  change: unknown,
): { ok: true; settings: PortalSettings } | { ok: false; issues: { path: string; message: string }[] } {
  const candidate = mergeDeep(current, change);
  const result = settingsSchema.safeParse({ ...candidate, version: current.version });
  if (result.success) return { ok: true, settings: result.data as PortalSettings };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  };
}

/** The variables an invitation template may use (filled by the invitation's sender). */
export const TEMPLATE_VARIABLES = [
  '{{displayName}}',
  '{{username}}',
  '{{goUrl}}',
  '{{expiresAt}}',
  '{{platform}}',
  '{{signInWith}}',
  '{{helpdesk}}',
] as const;

/**
 * The fields an administrator's change names that the settings do not have, as issues: mergeDeep
 * would drop them silently, and a typo must not look saved. groupRoles' keys are group names (data).
 */
export function unknownSettingPaths(
  current: unknown,
  change: unknown,
  prefix: string[] = [],
): { path: string; message: string }[] {
  if (!isObject(change) || !isObject(current)) return [];
  const issues: { path: string; message: string }[] = [];
  for (const [key, value] of Object.entries(change)) {
    const path = [...prefix, key];
    if (!Object.hasOwn(current, key)) {
      issues.push({ path: path.join('.'), message: 'There is no such setting.' });
      continue;
    }
    if (prefix.length === 0 && key === 'groupRoles') continue;
    issues.push(...unknownSettingPaths(current[key], value, path));
  }
  return issues;
}

/**
 * The leaf paths whose value differs between two settings (objects compared field by field,
 * groupRoles group by group, arrays and scalars whole), e.g. ["pinLength", "groupRoles.sales"].
 */
export function changedPaths(before: unknown, after: unknown, prefix: string[] = []): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const paths: string[] = [];
    for (const key of keys) {
      if (prefix.length === 0 && key === 'version') continue;
      paths.push(...changedPaths(before[key], after[key], [...prefix, key]));
    }
    return paths;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix.join('.')];
}
