import { enrollmentPorts } from '../adapters/enrollment-ports.ts';
import { enrollAgent } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { AgentEnroll } from '../routes.ts';

export const handler = publicApi(AgentEnroll, async (request) => ({
  status: 201,
  body: await enrollAgent(enrollmentPorts(), request.body, request),
}));
