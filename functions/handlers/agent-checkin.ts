import { enrollmentPorts } from '../adapters/default-ports.ts';
import { checkIn } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { agentCheckinBody } from '../http/schemas.ts';

export const handler = publicApi('AgentCheckin', { body: agentCheckinBody }, async (request) => ({
  status: 200,
  body: await checkIn(enrollmentPorts(), request.event.headers.authorization, request.body.device),
}));
