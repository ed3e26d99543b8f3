import { certificateDeletePorts } from '../adapters/certificate-ports.ts';
import { deleteCertificate } from '../core/certificates.ts';
import { userApi } from '../http/api-handler.ts';
import { DeleteCertificate } from '../routes.ts';

export const handler = userApi(DeleteCertificate, async (request) => {
  await deleteCertificate(
    certificateDeletePorts(),
    request.caller,
    request.pathParameters.certificateId,
    request,
  );
  return { status: 204 };
});
