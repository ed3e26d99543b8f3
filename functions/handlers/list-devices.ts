import { portalTable } from '../adapters/portal-table.ts';
import { systemClock } from '../adapters/system.ts';
import { listDevices } from '../core/list-devices.ts';
import { userApi } from '../http/api-handler.ts';
import { ListDevices } from '../routes.ts';

export const handler = userApi(ListDevices, async ({ caller }) => ({
  status: 200,
  body: await listDevices(
    { devices: portalTable(), clock: systemClock, settings: portalTable() },
    caller.sub,
  ),
}));
