import { commandPorts } from '../adapters/command-ports.ts';
import { requestAction } from '../core/commands.ts';
import { userApi } from '../http/api-handler.ts';
import { WipeDevice } from '../routes.ts';

export const handler = userApi(WipeDevice, async (request) => {
  const { command } = await requestAction(
    commandPorts(request),
    request.caller,
    request.pathParameters.deviceId,
    { action: 'WIPE' },
    request,
  );
  return { status: 202, body: { command } };
});
