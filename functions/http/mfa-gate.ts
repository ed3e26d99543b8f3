/**
 * The administrator's mfaRequired setting, enforced in the shared stack. Cognito puts nothing in
 * the access token that says a second factor was used (no amr claim for user-pool tokens), so the
 * user's MFA state is read with AdminGetUser (UserMFASettingList), and only when the setting asks
 * for it on this route: with OFF, or on a route that is not concerned, nothing is read.
 *
 * A "has a second factor" answer is kept per container for MFA_CACHE_MS; a "has none" is never
 * kept, so a user who has just set one up is let in on their next request. The cost: a user who
 * turns the second factor off keeps passing for up to a minute in containers that saw them.
 */
import { PortalError } from '../core/errors.ts';
import type { Caller } from '../core/ports.ts';
import type { PortalSettings } from '../core/settings.ts';
import type { Route } from '../routes.ts';

export const MFA_CACHE_MS = 60_000;
const MAX_CACHED = 5_000;

/** True when the user has an authenticator app (TOTP) as second factor. */
export type MfaLookup = (username: string) => Promise<boolean>;

const verified = new Map<string, number>();

async function cognitoLookup(username: string): Promise<boolean> {
  // Loaded when the setting needs it: the common case (OFF) costs no Cognito client at start-up.
  const { userDirectory } = await import('../adapters/cognito-directory.ts');
  const user = await userDirectory().findUser(username);
  return user?.mfaEnabled ?? false;
}

/** Whether this route, under these settings, needs the caller to have a second factor. */
export function routeNeedsMfa(
  route: Pick<Route, 'recentSignIn' | 'withoutMfa'>,
  settings: Pick<PortalSettings, 'mfaRequired'>,
): boolean {
  switch (settings.mfaRequired) {
    case 'ALL':
      return !route.withoutMfa;
    case 'SENSITIVE':
      return route.recentSignIn === true;
    default:
      return false;
  }
}

export function mfaRequiredError(): PortalError {
  return new PortalError(
    'FORBIDDEN',
    'MFA_REQUIRED',
    'Your portal requires a second sign-in step. Set up an authenticator app in Account settings, then try again.',
    undefined,
    undefined,
    { setUpAt: '/account' },
  );
}

export async function requireMfa(
  route: Pick<Route, 'recentSignIn' | 'withoutMfa'>,
  settings: Pick<PortalSettings, 'mfaRequired'>,
  caller: Pick<Caller, 'username'>,
  lookup: MfaLookup = cognitoLookup,
  now: () => number = Date.now,
): Promise<void> {
  if (!routeNeedsMfa(route, settings)) return;
  const until = verified.get(caller.username);
  if (until !== undefined && until > now()) return;
  if (!(await lookup(caller.username))) {
    verified.delete(caller.username);
    throw mfaRequiredError();
  }
  if (verified.size >= MAX_CACHED) verified.clear();
  verified.set(caller.username, now() + MFA_CACHE_MS);
}

/** For tests: forget what was cached. */
export function clearMfaCache(): void {
  verified.clear();
}
