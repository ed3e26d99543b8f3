import { certificatePorts } from '../adapters/certificate-ports.ts';
import { parseCertificateFile } from '../core/certificate-file.ts';
import { uploadCertificate } from '../core/certificates.ts';
import { userApi } from '../http/api-handler.ts';
import { UploadCertificate } from '../routes.ts';

export const handler = userApi(UploadCertificate, async (request) => {
  const { certificate, replaced } = await uploadCertificate(
    certificatePorts(parseCertificateFile),
    request.caller,
    request.body,
    request,
  );
  return { status: replaced ? 200 : 201, body: { certificate } };
});
