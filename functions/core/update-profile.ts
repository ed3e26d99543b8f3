/**
 * PATCH /api/me: the user's own name, mobile number and language, written to the user pool
 * (AdminUpdateUserAttributes) and recorded in their audit trail. The email is not theirs to change
 * here: invitations go to the verified address the administrator set up.
 */
import type { Role } from '../routes.ts';
import type { MeResponse } from './api-types.ts';
import { ACCOUNT_DEVICE_ID, auditEvent, type RequestOrigin } from './audit.ts';
import { type GetProfilePorts, getProfile } from './get-profile.ts';
import { normalizeMobile } from './phone.ts';
import type { Caller, Clock, DeviceStore, ProfileChange, RandomSource } from './ports.ts';
import type { PortalSettings } from './settings.ts';

export interface UpdateProfileRequest {
  displayName?: string | undefined;
  /** As typed; with phoneCountry (ISO 3166 alpha-2) when it has no +. */
  phoneNumber?: string | undefined;
  phoneCountry?: string | undefined;
  language?: string | undefined;
}

export interface UpdateProfilePorts extends GetProfilePorts {
  store: Pick<DeviceStore, 'appendAudit'>;
  clock: Clock;
  random: RandomSource;
}

export async function updateProfile(
  ports: UpdateProfilePorts,
  caller: Caller & { roles: Role[]; isAdmin: boolean },
  settings: Pick<PortalSettings, 'defaultCountry'>,
  change: UpdateProfileRequest,
  request: RequestOrigin,
): Promise<MeResponse> {
  const attributes: ProfileChange = {};
  if (change.displayName !== undefined) attributes.name = change.displayName;
  if (change.phoneNumber !== undefined) {
    // 400 PHONE_NUMBER_INVALID before anything is written.
    attributes.phone_number = await normalizeMobile(
      change.phoneNumber,
      change.phoneCountry ?? settings.defaultCountry,
    );
  }
  if (change.language !== undefined) attributes.locale = change.language;
  const fields = Object.keys(attributes);
  if (fields.length > 0) {
    await ports.directory.updateAttributes(caller.username, attributes);
    await ports.store.appendAudit(
      auditEvent(ports, request, {
        userSub: caller.sub,
        deviceId: ACCOUNT_DEVICE_ID,
        action: 'PROFILE_UPDATED',
        // Which fields changed, not their values: the trail is no copy of the profile.
        detail: fields.join(','),
      }),
    );
  }
  return getProfile(ports, caller);
}
