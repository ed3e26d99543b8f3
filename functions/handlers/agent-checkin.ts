import { devicePorts } from '../adapters/enrollment-ports.ts';
import { checkIn } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { AgentCheckin } from '../routes.ts';

export const handler = publicApi(AgentCheckin, async (request) => ({
  status: 200,
  body: await checkIn(devicePorts(), request.event.headers.authorization, request.body.device, request, {
    pushToken: request.body.pushToken,
    secureAppsContainer: request.body.secureAppsContainer,
  }),
}));
