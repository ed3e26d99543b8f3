import { portalTable } from '../adapters/portal-table.ts';
import { systemClock } from '../adapters/system.ts';
import { listDevices } from '../core/list-devices.ts';
import { userApi } from '../http/api-handler.ts';
import { ListDevices } from '../routes.ts';

export const handler = userApi(ListDevices, async ({ caller, settings }) => ({
  status: 200,
  body: await listDevices(
    // The settings the shared stack already read: the list stays at two round trips.
    { devices: portalTable(), clock: systemClock, settings: { getSettings: async () => settings } },
    caller.sub,
  ),
}));
