import { deviceOptionPorts } from '../adapters/device-option-ports.ts';
import { resetSecureAppsPasscode } from '../core/device-options.ts';
import { userApi } from '../http/api-handler.ts';
import { ResetSecureAppsPasscode } from '../routes.ts';

export const handler = userApi(ResetSecureAppsPasscode, async (request) => ({
  status: 201,
  body: await resetSecureAppsPasscode(
    deviceOptionPorts(),
    request.caller,
    request.pathParameters.deviceId,
    request,
  ),
}));
