import { commandPorts } from '../adapters/command-ports.ts';
import { requestAction } from '../core/commands.ts';
import { userApi } from '../http/api-handler.ts';
import { LocateDevice } from '../routes.ts';

export const handler = userApi(LocateDevice, async (request) => {
  const { command } = await requestAction(
    commandPorts(request),
    request.caller,
    request.pathParameters.deviceId,
    { action: 'LOCATE' },
    request,
  );
  return { status: 202, body: { command } };
});
