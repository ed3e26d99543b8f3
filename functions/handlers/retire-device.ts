import { commandPorts } from '../adapters/command-ports.ts';
import { requestAction } from '../core/commands.ts';
import { userApi } from '../http/api-handler.ts';
import { RetireDevice } from '../routes.ts';

export const handler = userApi(RetireDevice, async (request) => {
  const { command } = await requestAction(
    commandPorts(request),
    request.caller,
    request.pathParameters.deviceId,
    { action: 'RETIRE' },
    request,
  );
  return { status: 202, body: { command } };
});
