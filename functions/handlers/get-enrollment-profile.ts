import { portalTable } from '../adapters/portal-table.ts';
import { cryptoRandom, systemClock } from '../adapters/system.ts';
import { enrollmentProfile } from '../core/enrollment.ts';
import { PortalError } from '../core/errors.ts';
import { publicApi } from '../http/api-handler.ts';

export const handler = publicApi('GetEnrollmentProfile', {}, async (request) => {
  const token = request.query.token ?? '';
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) {
    throw new PortalError(
      'INVALID',
      'TOKEN_REQUIRED',
      'Open the profile link from the /go page; it carries a token.',
    );
  }
  const profile = await enrollmentProfile(
    { store: portalTable(), clock: systemClock, random: cryptoRandom },
    token,
    request,
  );
  return {
    status: 200,
    text: profile.body,
    headers: {
      'content-type': 'application/x-apple-aspen-config',
      'content-disposition': `attachment; filename="${profile.fileName}"`,
    },
  };
});
