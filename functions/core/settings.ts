import { ROLES, type Role } from '../routes.ts';
import type { HelpdeskContact, Ownership, Platform, RegistrationMethods } from './api-types.ts';

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
  /** Host name used in /go links, e.g. portal.example.com; empty means the request's own host. */
  externalHost: string;
  /** Rate limits (DESIGN §8 rule 10). */
  invitationsPerUserPerHour: number;
  smsPerDayCap: number;
  /** Attempts at /go and agent enrollment by PIN, per source address per 15 minutes. */
  goAttemptsPerAddress: number;
  /** Store links for the agent app. */
  agentApp: { androidStoreUrl: string; iosAppStoreUrl: string };
}

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
          'Hello {{displayName}},\n\nOpen {{goUrl}} on your iPhone or iPad, sign in with {{username}} and the registration PIN shown in the portal (or your password), then install the enrollment profile.\n\nThis invitation expires at {{expiresAt}}.',
        sms: 'Register your iPhone: open {{goUrl}} on the device, then install the profile. Expires {{expiresAt}}.',
      },
      ANDROID: {
        emailSubject: 'Register your Android device',
        emailBody:
          'Hello {{displayName}},\n\nOpen {{goUrl}} on your Android device, sign in with {{username}} and the registration PIN shown in the portal (or your password), then install the agent app from Google Play and open it.\n\nThis invitation expires at {{expiresAt}}.',
        sms: 'Register your Android device: open {{goUrl}} on the device, then install the agent app. Expires {{expiresAt}}.',
      },
    },
    externalHost: '',
    invitationsPerUserPerHour: 10,
    smsPerDayCap: 200,
    goAttemptsPerAddress: 60,
    agentApp: {
      androidStoreUrl: 'https://play.google.com/store/apps/details?id=com.example.mdmagent',
      iosAppStoreUrl: 'https://apps.apple.com/app/id000000000',
    },
  };
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
