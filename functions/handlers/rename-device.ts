import { deviceOptionPorts } from '../adapters/device-option-ports.ts';
import { renameDevice } from '../core/device-options.ts';
import { userApi } from '../http/api-handler.ts';
import { RenameDevice } from '../routes.ts';

export const handler = userApi(RenameDevice, async (request) => ({
  status: 200,
  body: await renameDevice(
    deviceOptionPorts(),
    request.caller,
    request.pathParameters.deviceId,
    request.body,
    request,
    request.settings,
  ),
}));
