import { userDirectory } from '../adapters/cognito-directory.ts';
import { deviceOptionPorts } from '../adapters/device-option-ports.ts';
import { devicePorts } from '../adapters/enrollment-ports.ts';
import { verifySecureAppsPasscode } from '../core/device-options.ts';
import { authenticateDevice } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { AgentVerifySecureAppsPasscode } from '../routes.ts';

export const handler = publicApi(AgentVerifySecureAppsPasscode, async (request) => {
  const device = await authenticateDevice(devicePorts(), request.event.headers.authorization);
  return {
    status: 200,
    body: await verifySecureAppsPasscode(
      { ...deviceOptionPorts(), directory: userDirectory() },
      device,
      request.body,
      request,
    ),
  };
});
