import { portalTable } from '../adapters/portal-table.ts';
import { listActivity } from '../core/activity.ts';
import { userApi } from '../http/api-handler.ts';
import { ListDeviceActivity } from '../routes.ts';

export const handler = userApi(ListDeviceActivity, async (request) => ({
  status: 200,
  body: await listActivity({ store: portalTable() }, request.caller.sub, {
    deviceId: request.pathParameters.deviceId,
    ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
  }),
}));
