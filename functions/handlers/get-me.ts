import { userDirectory } from '../adapters/cognito-directory.ts';
import { portalTable } from '../adapters/portal-table.ts';
import { getProfile } from '../core/get-profile.ts';
import { userApi } from '../http/api-handler.ts';
import { GetMe } from '../routes.ts';

export const handler = userApi(GetMe, async ({ caller }) => ({
  status: 200,
  body: await getProfile({ directory: userDirectory(), settings: portalTable() }, caller),
}));
