import { portalTable } from '../adapters/portal-table.ts';
import { cryptoRandom, systemClock } from '../adapters/system.ts';
import { checkIn } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { agentCheckinBody } from '../http/schemas.ts';

export const handler = publicApi('AgentCheckin', { body: agentCheckinBody }, async (request) => ({
  status: 200,
  body: await checkIn(
    { store: portalTable(), clock: systemClock, random: cryptoRandom },
    request.event.headers.authorization,
    request.body.device,
  ),
}));
