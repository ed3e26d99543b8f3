import { portalTable } from '../adapters/portal-table.ts';
import { cryptoRandom, systemClock } from '../adapters/system.ts';
import { toDeviceSummary } from '../core/device.ts';
import { cancelRegistration } from '../core/registration.ts';
import { userApi } from '../http/api-handler.ts';
import { CancelRegistration } from '../routes.ts';

export const handler = userApi(CancelRegistration, async (request) => {
  const device = await cancelRegistration(
    { store: portalTable(), clock: systemClock, random: cryptoRandom },
    request.caller,
    request.pathParameters.deviceId,
    request,
  );
  return { status: 200, body: { device: toDeviceSummary(device, systemClock.now()) } };
});
