import { deviceOptionPorts } from '../adapters/device-option-ports.ts';
import { changeOwnership } from '../core/device-options.ts';
import { userApi } from '../http/api-handler.ts';
import { ChangeOwnership } from '../routes.ts';

export const handler = userApi(ChangeOwnership, async (request) => ({
  status: 200,
  body: await changeOwnership(
    deviceOptionPorts(),
    request.caller,
    request.pathParameters.deviceId,
    request.body,
    request,
  ),
}));
