import { portalTable } from '../adapters/portal-table.ts';
import { cryptoRandom, systemClock } from '../adapters/system.ts';
import { cancelCommand } from '../core/commands.ts';
import { userApi } from '../http/api-handler.ts';
import { CancelCommand } from '../routes.ts';

export const handler = userApi(CancelCommand, async (request) => ({
  status: 200,
  body: {
    command: await cancelCommand(
      { store: portalTable(), clock: systemClock, random: cryptoRandom },
      request.caller,
      request.pathParameters.deviceId,
      request.pathParameters.commandId,
      request,
    ),
  },
}));
