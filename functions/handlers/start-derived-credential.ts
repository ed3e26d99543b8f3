import { deviceOptionPorts } from '../adapters/device-option-ports.ts';
import { startDerivedCredential } from '../core/device-options.ts';
import { userApi } from '../http/api-handler.ts';
import { StartDerivedCredential } from '../routes.ts';

export const handler = userApi(StartDerivedCredential, async (request) => ({
  status: 200,
  body: await startDerivedCredential(
    deviceOptionPorts(),
    request.caller,
    request.pathParameters.deviceId,
    request,
  ),
}));
