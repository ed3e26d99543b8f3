import { portalTable } from '../adapters/portal-table.ts';
import { listActivity } from '../core/activity.ts';
import { userApi } from '../http/api-handler.ts';
import { ListActivity } from '../routes.ts';

export const handler = userApi(ListActivity, async (request) => ({
  status: 200,
  body: await listActivity({ store: portalTable() }, request.caller.sub, {
    ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
  }),
}));
