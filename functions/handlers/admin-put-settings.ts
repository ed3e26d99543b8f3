import { portalTable } from '../adapters/portal-table.ts';
import { cryptoRandom, systemClock } from '../adapters/system.ts';
import { saveAdminSettings } from '../core/admin-settings.ts';
import { userApi } from '../http/api-handler.ts';
import { AdminPutSettings } from '../routes.ts';

export const handler = userApi(AdminPutSettings, async (request) => ({
  status: 200,
  body: await saveAdminSettings(
    { store: portalTable(), clock: systemClock, random: cryptoRandom },
    request.caller,
    request.body,
    request,
  ),
}));
