import { registrationPorts } from '../adapters/default-ports.ts';
import { resendRegistration } from '../core/registration.ts';
import { userApi } from '../http/api-handler.ts';
import { ResendRegistration } from '../routes.ts';

export const handler = userApi(ResendRegistration, async (request) => ({
  status: 200,
  body: await resendRegistration(
    registrationPorts(),
    request.caller,
    request.pathParameters.deviceId,
    request.body,
    request,
  ),
}));
