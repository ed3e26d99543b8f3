import { devicePorts } from '../adapters/enrollment-ports.ts';
import { kmsKeyVault } from '../adapters/kms-key-vault.ts';
import { portalTable } from '../adapters/portal-table.ts';
import { certificateForDevice } from '../core/certificates.ts';
import { authenticateDevice } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { AgentGetCertificate } from '../routes.ts';

export const handler = publicApi(AgentGetCertificate, async (request) => {
  const device = await authenticateDevice(devicePorts(), request.event.headers.authorization);
  return {
    status: 200,
    body: await certificateForDevice(
      { store: portalTable(), vault: kmsKeyVault() },
      device,
      request.pathParameters.certificateId,
      request.body.devicePublicKey,
    ),
  };
});
