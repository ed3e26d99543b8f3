import { portalTable } from '../adapters/portal-table.ts';
import { getAdminSettings } from '../core/admin-settings.ts';
import { userApi } from '../http/api-handler.ts';
import { AdminGetSettings } from '../routes.ts';

export const handler = userApi(AdminGetSettings, async () => ({
  status: 200,
  body: await getAdminSettings({ store: portalTable() }),
}));
