import { commandPorts } from '../adapters/command-ports.ts';
import { requestAction } from '../core/commands.ts';
import { userApi } from '../http/api-handler.ts';
import { UnlockDevice } from '../routes.ts';

export const handler = userApi(UnlockDevice, async (request) => {
  const { command } = await requestAction(
    commandPorts(request),
    request.caller,
    request.pathParameters.deviceId,
    { action: 'UNLOCK' },
    request,
  );
  return { status: 202, body: { command } };
});
