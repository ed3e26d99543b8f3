import { registrationPorts } from '../adapters/default-ports.ts';
import { createRegistration } from '../core/registration.ts';
import { userApi } from '../http/api-handler.ts';
import { CreateRegistration } from '../routes.ts';

export const handler = userApi(CreateRegistration, async (request) => ({
  status: 201,
  body: await createRegistration(registrationPorts(), request.caller, request.body, request),
}));
