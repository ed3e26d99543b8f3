import type { Role } from '../routes.ts';
import type { MeResponse } from './api-types.ts';
import { PortalError } from './errors.ts';
import type { Caller, SettingsStore, UserDirectory } from './ports.ts';

export interface GetProfilePorts {
  directory: UserDirectory;
  settings: SettingsStore;
}

/** GET /api/me: who I am, what I may do, and whom to call. */
export async function getProfile(
  ports: GetProfilePorts,
  caller: Caller & { roles: Role[]; isAdmin: boolean },
): Promise<MeResponse> {
  const [user, settings] = await Promise.all([
    ports.directory.findUser(caller.username),
    ports.settings.getSettings(),
  ]);
  if (!user?.enabled) {
    throw new PortalError(
      'UNAUTHORIZED',
      'USER_DISABLED',
      'Your account is not active. Contact your helpdesk.',
    );
  }
  return {
    user: {
      sub: caller.sub,
      username: user.username,
      email: user.email,
      displayName: user.displayName,
      phoneNumber: user.phoneNumber,
      language: user.language || settings.defaultLanguage,
    },
    roles: caller.roles,
    isAdmin: caller.isAdmin,
    features: {
      registrationMethods: settings.registrationMethods,
      ownershipChoice: settings.usersMayChooseOwnership,
      defaultOwnership: settings.defaultOwnership,
      derivedCredential: settings.derivedCredential.enabled,
      mapTiles: settings.mapTiles,
    },
    helpdesk: settings.helpdesk,
    deviceLimit: settings.deviceLimitPerUser,
    mfa: { enabled: user.mfaEnabled, required: settings.mfaRequired },
  };
}
