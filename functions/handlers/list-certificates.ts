import { portalTable } from '../adapters/portal-table.ts';
import { systemClock } from '../adapters/system.ts';
import { listCertificates } from '../core/certificates.ts';
import { userApi } from '../http/api-handler.ts';
import { ListCertificates } from '../routes.ts';

export const handler = userApi(ListCertificates, async (request) => ({
  status: 200,
  body: await listCertificates({ store: portalTable(), clock: systemClock }, request.caller),
}));
