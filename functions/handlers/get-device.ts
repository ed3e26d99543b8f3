import { portalTable } from '../adapters/portal-table.ts';
import { systemClock } from '../adapters/system.ts';
import { getDeviceDetail } from '../core/commands.ts';
import type { Caller } from '../core/ports.ts';
import { userApi } from '../http/api-handler.ts';
import { GetDevice } from '../routes.ts';

export const handler = userApi(
  GetDevice,
  async (request) => ({
    status: 200,
    body: await getDeviceDetail(
      { store: portalTable(), clock: systemClock },
      request.caller,
      request.pathParameters.deviceId,
      request.settings,
      request.prefetched,
    ),
  }),
  // The device and its commands are read while the stack reads the settings: one round trip of wait.
  {
    prefetch: (caller: Caller, path: { deviceId: string }) =>
      portalTable().getDeviceWithCommands(caller.sub, path.deviceId),
  },
);
