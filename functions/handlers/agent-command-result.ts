import { commandPorts } from '../adapters/command-ports.ts';
import { devicePorts } from '../adapters/enrollment-ports.ts';
import { recordResult } from '../core/commands.ts';
import { authenticateDevice } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { AgentCommandResult } from '../routes.ts';

export const handler = publicApi(AgentCommandResult, async (request) => {
  const device = await authenticateDevice(devicePorts(), request.event.headers.authorization);
  const command = await recordResult(
    commandPorts(request),
    device,
    request.pathParameters.commandId,
    request.body,
    request,
  );
  return { status: 200, body: { command } };
});
