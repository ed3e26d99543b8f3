import { deviceOptionPorts } from '../adapters/device-option-ports.ts';
import { completeDerivedCredential } from '../core/device-options.ts';
import { userApi } from '../http/api-handler.ts';
import { CompleteDerivedCredential } from '../routes.ts';

export const handler = userApi(CompleteDerivedCredential, async (request) => ({
  status: 200,
  body: await completeDerivedCredential(deviceOptionPorts(), request.caller, request.body, request),
}));
