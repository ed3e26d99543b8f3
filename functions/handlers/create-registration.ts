import { registrationPorts } from '../adapters/default-ports.ts';
import { createRegistration } from '../core/registration.ts';
import { userApi } from '../http/api-handler.ts';
import { createRegistrationBody } from '../http/schemas.ts';

export const handler = userApi('CreateRegistration', { body: createRegistrationBody }, async (request) => ({
  status: 201,
  body: await createRegistration(registrationPorts(), request.caller, request.body, request),
}));
