import { devicePorts } from '../adapters/enrollment-ports.ts';
import { enrollmentProfile } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { GetEnrollmentProfile } from '../routes.ts';

export const handler = publicApi(GetEnrollmentProfile, async (request) => {
  const profile = await enrollmentProfile(devicePorts(), request.query.token, request);
  return {
    status: 200,
    text: profile.body,
    headers: {
      'content-type': 'application/x-apple-aspen-config',
      'content-disposition': `attachment; filename="${profile.fileName}"`,
    },
  };
});
