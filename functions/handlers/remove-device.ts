import { portalTable } from '../adapters/portal-table.ts';
import { cryptoRandom, systemClock } from '../adapters/system.ts';
import { removeDevice } from '../core/registration.ts';
import { userApi } from '../http/api-handler.ts';
import { RemoveDevice } from '../routes.ts';

export const handler = userApi(RemoveDevice, async (request) => {
  await removeDevice(
    { store: portalTable(), clock: systemClock, random: cryptoRandom },
    request.caller,
    request.pathParameters.deviceId,
    request,
  );
  return { status: 204 };
});
