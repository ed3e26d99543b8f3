import { registrationPorts } from '../adapters/default-ports.ts';
import { resendRegistration } from '../core/registration.ts';
import { userApi } from '../http/api-handler.ts';
import { deviceIdParam, resendRegistrationBody } from '../http/schemas.ts';

export const handler = userApi('ResendRegistration', { body: resendRegistrationBody }, async (request) => ({
  status: 200,
  body: await resendRegistration(
    registrationPorts(),
    request.caller,
    deviceIdParam(request.pathParameters),
    request.body,
    request,
  ),
}));
