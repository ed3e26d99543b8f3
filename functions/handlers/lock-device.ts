import { commandPorts } from '../adapters/command-ports.ts';
import { requestAction } from '../core/commands.ts';
import { userApi } from '../http/api-handler.ts';
import { LockDevice } from '../routes.ts';

export const handler = userApi(LockDevice, async (request) => {
  const { command } = await requestAction(
    commandPorts(request),
    request.caller,
    request.pathParameters.deviceId,
    { action: 'LOCK', lockScreen: request.body },
    request,
  );
  return { status: 202, body: { command } };
});
