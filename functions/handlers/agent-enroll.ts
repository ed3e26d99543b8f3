import { enrollmentPorts } from '../adapters/enrollment-ports.ts';
import { enrollAgent } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { agentEnrollBody } from '../http/schemas.ts';

export const handler = publicApi('AgentEnroll', { body: agentEnrollBody }, async (request) => ({
  status: 201,
  body: await enrollAgent(enrollmentPorts(), request.body, request),
}));
