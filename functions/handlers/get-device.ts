import { portalTable } from '../adapters/portal-table.ts';
import { systemClock } from '../adapters/system.ts';
import { getDeviceDetail } from '../core/commands.ts';
import { userApi } from '../http/api-handler.ts';
import { GetDevice } from '../routes.ts';

export const handler = userApi(GetDevice, async (request) => ({
  status: 200,
  body: await getDeviceDetail(
    { store: portalTable(), clock: systemClock },
    request.caller,
    request.pathParameters.deviceId,
    request.settings,
  ),
}));
