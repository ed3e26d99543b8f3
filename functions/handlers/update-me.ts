import { userDirectory } from '../adapters/cognito-directory.ts';
import { portalTable } from '../adapters/portal-table.ts';
import { cryptoRandom, systemClock } from '../adapters/system.ts';
import { updateProfile } from '../core/update-profile.ts';
import { userApi } from '../http/api-handler.ts';
import { UpdateMe } from '../routes.ts';

export const handler = userApi(UpdateMe, async ({ caller, settings, body, origin, sourceIp, userAgent }) => ({
  status: 200,
  body: await updateProfile(
    {
      directory: userDirectory(),
      settings: { getSettings: async () => settings },
      store: portalTable(),
      clock: systemClock,
      random: cryptoRandom,
    },
    caller,
    settings,
    body,
    { origin, sourceIp, userAgent },
  ),
}));
