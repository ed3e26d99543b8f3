import { commandPorts } from '../adapters/command-ports.ts';
import { requestAction } from '../core/commands.ts';
import { userApi } from '../http/api-handler.ts';
import { StartLostMode } from '../routes.ts';

export const handler = userApi(StartLostMode, async (request) => {
  const { command } = await requestAction(
    commandPorts(request),
    request.caller,
    request.pathParameters.deviceId,
    { action: 'LOST_MODE', lostMode: 'ON', lockScreen: request.body },
    request,
  );
  return { status: 202, body: { command } };
});
