/**
 * Sign-in with the Cognito user pool by plain fetch (no AWS SDK in the browser): USER_PASSWORD_AUTH,
 * then REFRESH_TOKEN_AUTH a minute before the access token expires. Tokens live in sessionStorage,
 * so they go away with the tab.
 *
 * Accounts an administrator creates (AdminCreateUser, and the first admin from cdk.json) start with
 * a temporary password: their first sign-in answers NEW_PASSWORD_REQUIRED, which `signIn` hands back
 * so the page can ask for a new password, and `completeNewPassword` answers with
 * RespondToAuthChallenge.
 */
import { cognitoUrl, loadConfig } from './config.ts';

export interface Session {
  accessToken: string;
  idToken: string;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
}

export type AuthState = { signedIn: true; session: Session } | { signedIn: false; notice?: string };

export class SignInError extends Error {
  override name = 'SignInError';
  constructor(
    message: string,
    /** The new-password step is over (timed out, refused): start again from the sign-in form. */
    readonly restart = false,
  ) {
    super(message);
  }
}

/** What the new-password step needs from the NEW_PASSWORD_REQUIRED answer. */
export interface NewPasswordChallenge {
  kind: 'NEW_PASSWORD';
  /** The address the user signed in with. */
  email: string;
  /** USERNAME for the answer: Cognito's USER_ID_FOR_SRP (the internal user name) or the email. */
  username: string;
  /** Cognito's challenge session (valid a few minutes, once). */
  session: string;
}

/** The second sign-in step: a 6-digit code from the user's authenticator app (SOFTWARE_TOKEN_MFA). */
export interface MfaChallenge {
  kind: 'SOFTWARE_TOKEN_MFA';
  email: string;
  /** USERNAME for the answer. */
  username: string;
  session: string;
}

export type SignInChallenge = NewPasswordChallenge | MfaChallenge;

const STORAGE_KEY = 'device-portal.session';
const REFRESH_MARGIN_MS = 60_000;
/** For challenges this page cannot answer (MFA and the like). */
const HELPDESK_CHALLENGE =
  'Your account needs attention before you can sign in here (for example a second sign-in step). Contact your helpdesk.';

let state: AuthState = readStoredState();
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<Session> | undefined;
const listeners = new Set<(state: AuthState) => void>();

function readStoredState(): AuthState {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return { signedIn: false };
    const s = JSON.parse(raw) as Partial<Session>;
    if (
      typeof s.accessToken === 'string' &&
      typeof s.idToken === 'string' &&
      typeof s.refreshToken === 'string' &&
      typeof s.expiresAt === 'number'
    ) {
      return { signedIn: true, session: s as Session };
    }
  } catch {
    // Storage blocked or corrupt: start signed out.
  }
  return { signedIn: false };
}

function setState(next: AuthState): void {
  state = next;
  clearTimeout(refreshTimer);
  refreshTimer = undefined;
  if (next.signedIn) {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next.session));
    } catch {
      // Private mode without storage: the session lasts as long as the page.
    }
    scheduleRefresh(next.session);
  } else {
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
  }
  for (const listener of listeners) listener(next);
}

function scheduleRefresh(session: Session): void {
  // A minute before expiry; for unusually short lifetimes, half-way (never a tight loop).
  const remaining = session.expiresAt - Date.now();
  const delay = Math.max(1_000, remaining - Math.min(REFRESH_MARGIN_MS, remaining / 2));
  refreshTimer = setTimeout(() => {
    refreshSession().catch(() => {
      // refreshSession already signed out with a notice.
    });
  }, delay);
}

export function getAuthState(): AuthState {
  return state;
}

export function onAuthChange(listener: (state: AuthState) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Starts the refresh timer for a session restored from storage (call once at start-up). */
export function resumeSession(): void {
  if (state.signedIn && !refreshTimer) scheduleRefresh(state.session);
}

interface AuthenticationResult {
  AccessToken?: string;
  IdToken?: string;
  RefreshToken?: string;
  ExpiresIn?: number;
}

class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

type AuthAnswer =
  | { kind: 'tokens'; result: AuthenticationResult }
  | { kind: 'challenge'; name: string; session: string | undefined; parameters: Record<string, string> };

type AuthTarget =
  | 'InitiateAuth'
  | 'RespondToAuthChallenge'
  | 'RevokeToken'
  | 'ChangePassword'
  | 'AssociateSoftwareToken'
  | 'VerifySoftwareToken'
  | 'SetUserMFAPreference'
  | 'GlobalSignOut';

/** One Cognito user-pool call (JSON 1.1) with the app client's id; its answer, or a CognitoError. */
async function cognito(target: AuthTarget, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const config = await loadConfig();
  let res: Response;
  try {
    res = await fetch(cognitoUrl(config), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${target}`,
      },
      // Calls made with an access token take no client id (Cognito refuses unknown fields).
      body: JSON.stringify(body.AccessToken ? body : { ...body, ClientId: config.userPoolClientId }),
    });
  } catch {
    throw new CognitoError('NetworkError', 'The sign-in service cannot be reached.');
  }
  const data: unknown = await res.json().catch(() => undefined);
  const record = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  if (!res.ok) {
    const type = String(record.__type ?? record.code ?? 'UnknownError')
      .split('#')
      .pop();
    throw new CognitoError(type ?? 'UnknownError', String(record.message ?? record.Message ?? ''));
  }
  return record;
}

async function callCognito(
  target: 'InitiateAuth' | 'RespondToAuthChallenge',
  body: Record<string, unknown>,
): Promise<AuthAnswer> {
  const record = await cognito(target, body);
  if (typeof record.ChallengeName === 'string') {
    const parameters: Record<string, string> = {};
    if (typeof record.ChallengeParameters === 'object' && record.ChallengeParameters !== null) {
      for (const [key, value] of Object.entries(record.ChallengeParameters)) {
        if (typeof value === 'string') parameters[key] = value;
      }
    }
    const session = typeof record.Session === 'string' && record.Session ? record.Session : undefined;
    return { kind: 'challenge', name: record.ChallengeName, session, parameters };
  }
  const result = record.AuthenticationResult;
  if (typeof result !== 'object' || result === null) {
    throw new CognitoError('UnknownError', 'No tokens in the answer.');
  }
  return { kind: 'tokens', result: result as AuthenticationResult };
}

/** Tokens, or the challenge as an error (for flows that cannot answer one). */
async function initiateAuth(body: Record<string, unknown>): Promise<AuthenticationResult> {
  const answer = await callCognito('InitiateAuth', body);
  if (answer.kind === 'challenge') throw new CognitoError('Challenge', answer.name);
  return answer.result;
}

function signInMessage(error: unknown): string {
  if (!(error instanceof CognitoError)) {
    return error instanceof Error ? error.message : 'Sign-in failed. Try again.';
  }
  switch (error.type) {
    case 'NotAuthorizedException':
      // Temporary passwords expire (7 days in this pool); only an administrator can issue a new one.
      if (/temporary password has expired/i.test(error.message)) {
        return 'Your temporary password has expired. Ask your helpdesk for a new one.';
      }
      return 'Wrong email or password.';
    case 'UserNotFoundException':
    // cognito-local (the local emulator) answers a wrong password with this one.
    case 'InvalidPasswordException':
      return 'Wrong email or password.';
    case 'PasswordResetRequiredException':
      return 'Your password must be reset first. Contact your helpdesk.';
    case 'UserNotConfirmedException':
      return 'Your account is not activated yet. Contact your helpdesk.';
    case 'TooManyRequestsException':
    case 'LimitExceededException':
      return 'Too many sign-in attempts. Wait a few minutes, then try again.';
    case 'Challenge':
      return HELPDESK_CHALLENGE;
    case 'NetworkError':
      return 'The sign-in service cannot be reached. Check your connection and try again.';
    default:
      return 'Sign-in failed. Try again in a moment.';
  }
}

function startSession(result: AuthenticationResult): void {
  if (!result.AccessToken || !result.IdToken || !result.RefreshToken) {
    throw new SignInError('Sign-in failed. Try again in a moment.');
  }
  setState({
    signedIn: true,
    session: {
      accessToken: result.AccessToken,
      idToken: result.IdToken,
      refreshToken: result.RefreshToken,
      expiresAt: Date.now() + (result.ExpiresIn ?? 900) * 1000,
    },
  });
}

/**
 * Signs in with email and password. Resolves with the challenge when Cognito wants a new password
 * first (the account still has its temporary password); otherwise the user is signed in.
 */
export async function signIn(email: string, password: string): Promise<SignInChallenge | undefined> {
  let username = email.trim();
  const attempt = (name: string) =>
    callCognito('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: name, PASSWORD: password },
    });
  let answer: AuthAnswer;
  try {
    answer = await attempt(username);
  } catch (error) {
    // Email addresses are matched without regard to case. The pool does that itself in AWS
    // (signInCaseSensitive false); a pool that does not (cognito-local) gets the lower-case form.
    const lower = username.toLowerCase();
    const wrongAccount =
      error instanceof CognitoError &&
      ['NotAuthorizedException', 'UserNotFoundException', 'InvalidPasswordException'].includes(error.type);
    if (!wrongAccount || lower === username) throw new SignInError(signInMessage(error));
    try {
      answer = await attempt(lower);
      username = lower;
    } catch (again) {
      throw new SignInError(signInMessage(again));
    }
  }
  if (answer.kind === 'tokens') {
    startSession(answer.result);
    return undefined;
  }
  if (answer.name === 'SOFTWARE_TOKEN_MFA' && answer.session) {
    return {
      kind: 'SOFTWARE_TOKEN_MFA',
      email: username,
      username: answer.parameters.USER_ID_FOR_SRP || username,
      session: answer.session,
    };
  }
  if (answer.name !== 'NEW_PASSWORD_REQUIRED' || !answer.session) {
    throw new SignInError(HELPDESK_CHALLENGE);
  }
  // Attributes the pool requires and the account lacks would have to be asked for too; accounts made
  // by administrators have them (the pool requires only email), so this page does not ask.
  if (requiredAttributes(answer.parameters).length > 0) {
    throw new SignInError('Your account is missing some details. Contact your helpdesk.');
  }
  return {
    kind: 'NEW_PASSWORD',
    email: username,
    username: answer.parameters.USER_ID_FOR_SRP || username,
    session: answer.session,
  };
}

/**
 * Answers SOFTWARE_TOKEN_MFA with the code from the authenticator app and signs in. A wrong code
 * (CodeMismatchException) may be tried again on the same session in AWS (a few times, within its
 * lifetime); an expired session (NotAuthorizedException) needs the password again: `restart`.
 *
 * cognito-local 5.3 keeps no refresh token it hands out from RespondToAuthChallenge, so locally a
 * session that began with a code ends when its access token does (15 minutes); in AWS it refreshes.
 */
export async function answerMfa(challenge: MfaChallenge, code: string): Promise<void> {
  let answer: AuthAnswer;
  try {
    answer = await callCognito('RespondToAuthChallenge', {
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, SOFTWARE_TOKEN_MFA_CODE: code.replace(/\s/g, '') },
    });
  } catch (error) {
    if (error instanceof CognitoError) {
      if (error.type === 'CodeMismatchException' || error.type === 'InvalidParameterException') {
        throw new SignInError(
          'That code is not right. Enter the 6-digit code your authenticator app shows now.',
        );
      }
      if (error.type === 'NotAuthorizedException' || error.type === 'ExpiredCodeException') {
        throw new SignInError('This step timed out; sign in again with your password.', true);
      }
    }
    throw new SignInError(signInMessage(error));
  }
  if (answer.kind === 'challenge') throw new SignInError(HELPDESK_CHALLENGE, true);
  startSession(answer.result);
}

/** A Cognito call on behalf of the signed-in user (their access token); its answer. */
async function asUser(
  target: AuthTarget,
  body: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return cognito(target, { ...body, AccessToken: await accessToken() });
}

export class AccountError extends Error {
  override name = 'AccountError';
}

function accountMessage(error: unknown, fallback: string): string {
  if (!(error instanceof CognitoError)) return error instanceof Error ? error.message : fallback;
  switch (error.type) {
    case 'TooManyRequestsException':
    case 'LimitExceededException':
      return 'Too many attempts. Wait a few minutes, then try again.';
    case 'NetworkError':
      return 'The sign-in service cannot be reached. Check your connection and try again.';
    default:
      return fallback;
  }
}

/**
 * Cognito ChangePassword with the access token. A wrong current password is NotAuthorizedException
 * in AWS (InvalidPasswordException in cognito-local, which applies no password policy); a new one
 * the policy refuses is InvalidPasswordException with the policy's words in AWS.
 */
export async function changePassword(current: string, proposed: string): Promise<void> {
  try {
    await asUser('ChangePassword', { PreviousPassword: current, ProposedPassword: proposed });
  } catch (error) {
    if (error instanceof CognitoError) {
      if (error.type === 'NotAuthorizedException' && !/token/i.test(error.message)) {
        throw new AccountError('Your current password is not right.');
      }
      if (error.type === 'InvalidPasswordException') {
        throw new AccountError(
          /conform to policy/i.test(error.message)
            ? `The new password does not meet the password rules: ${error.message.replace(/^.*policy:\s*/i, '')}. Use at least 12 characters.`
            : 'Your current password is not right.',
        );
      }
      if (error.type === 'InvalidParameterException') {
        throw new AccountError('The new password cannot be used. Use at least 12 characters.');
      }
    }
    throw new AccountError(
      accountMessage(error, 'Your password could not be changed. Try again in a moment.'),
    );
  }
}

/** AssociateSoftwareToken: a new TOTP secret (base32) for an authenticator app, not active yet. */
export async function startTotpSetup(): Promise<string> {
  try {
    const answer = await asUser('AssociateSoftwareToken');
    if (typeof answer.SecretCode !== 'string') throw new CognitoError('UnknownError', 'No secret.');
    return answer.SecretCode;
  } catch (error) {
    throw new AccountError(accountMessage(error, 'The authenticator set-up could not start. Try again.'));
  }
}

/** VerifySoftwareToken with the app's first code, then SetUserMFAPreference: TOTP on and preferred. */
export async function finishTotpSetup(code: string, deviceName: string): Promise<void> {
  try {
    await asUser('VerifySoftwareToken', {
      UserCode: code.replace(/\s/g, ''),
      FriendlyDeviceName: deviceName,
    });
  } catch (error) {
    if (
      error instanceof CognitoError &&
      ['CodeMismatchException', 'EnableSoftwareTokenMFAException', 'InvalidParameterException'].includes(
        error.type,
      )
    ) {
      throw new AccountError(
        'That code is not right. Enter the 6-digit code your authenticator app shows now.',
      );
    }
    throw new AccountError(accountMessage(error, 'The code could not be checked. Try again.'));
  }
  await setTotp(true);
}

/** SetUserMFAPreference: the authenticator app on (and preferred) or off. */
export async function setTotp(enabled: boolean): Promise<void> {
  try {
    await asUser('SetUserMFAPreference', {
      SoftwareTokenMfaSettings: { Enabled: enabled, PreferredMfa: enabled },
    });
  } catch (error) {
    throw new AccountError(accountMessage(error, 'The second sign-in step could not be changed. Try again.'));
  }
}

/**
 * Signs out on every device: GlobalSignOut in AWS (every refresh token of the user is revoked, and
 * access tokens stop working for Cognito's own APIs; API Gateway accepts those already issued until
 * they expire, at most 15 minutes), then RevokeToken and sign-out here. cognito-local has no
 * GlobalSignOut: the local twin (config.json local: true) skips it, and an UnsupportedOperation
 * answer is ignored too, so only this tab's refresh token is revoked there.
 */
export async function signOutEverywhere(): Promise<void> {
  const config = await loadConfig();
  if (!config.local) {
    try {
      await asUser('GlobalSignOut');
    } catch (error) {
      const unsupported =
        error instanceof CognitoError && /Unsupported|InvalidAction/i.test(`${error.type} ${error.message}`);
      if (!unsupported) {
        throw new AccountError(
          accountMessage(error, 'Signing out everywhere failed. Try again in a moment.'),
        );
      }
    }
  }
  signOut('You are signed out on all your devices.');
}

function requiredAttributes(parameters: Record<string, string>): string[] {
  try {
    const list: unknown = JSON.parse(parameters.requiredAttributes ?? '[]');
    return Array.isArray(list) ? list.filter((name): name is string => typeof name === 'string') : [];
  } catch {
    return [];
  }
}

function newPasswordError(error: unknown): SignInError {
  if (!(error instanceof CognitoError)) {
    return new SignInError(error instanceof Error ? error.message : 'Your password could not be saved.');
  }
  switch (error.type) {
    case 'InvalidPasswordException':
      // Cognito says what the policy wants, e.g. "Password does not conform to policy: Password not
      // long enough".
      return new SignInError(
        error.message || 'That password does not meet the password rules. Choose another.',
      );
    case 'InvalidParameterException':
      return new SignInError('That password cannot be used. Choose another.');
    case 'NotAuthorizedException':
      // "Invalid session for the user, session is expired." (the session lasts 3 minutes by
      // default) or "... session can only be used once."; anything else (a disabled account, say)
      // is for the sign-in form to explain.
      return new SignInError(
        /session/i.test(error.message)
          ? 'This step timed out; sign in again with your temporary password.'
          : 'Sign-in failed. Sign in again with your temporary password.',
        true,
      );
    case 'TooManyRequestsException':
    case 'LimitExceededException':
    case 'NetworkError':
      return new SignInError(signInMessage(error));
    default:
      return new SignInError('Your new password could not be saved. Try again in a moment.');
  }
}

/**
 * Answers NEW_PASSWORD_REQUIRED with the new password and signs in. Throws SignInError; with
 * `restart` set, the challenge is spent and the user must sign in with the temporary password again.
 *
 * cognito-local 5.3 (the local emulator) is laxer than Cognito here: it answers NEW_PASSWORD_REQUIRED
 * without checking the temporary password, accepts any Session (none expires), and applies no
 * password policy, so InvalidPasswordException and the expired session only come from AWS.
 */
export async function completeNewPassword(
  challenge: NewPasswordChallenge,
  newPassword: string,
): Promise<void> {
  let answer: AuthAnswer;
  try {
    answer = await callCognito('RespondToAuthChallenge', {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
    });
  } catch (error) {
    throw newPasswordError(error);
  }
  if (answer.kind === 'challenge') {
    // The password is changed, but another step (MFA, say) follows that this page cannot do.
    throw new SignInError(`Your new password is saved. ${HELPDESK_CHALLENGE}`, true);
  }
  let result = answer.result;
  // cognito-local (the local emulator, 5.3) does not store the refresh token it hands out from
  // RespondToAuthChallenge, so refreshing with it fails and the session would end after 15 minutes.
  // A fresh USER_PASSWORD_AUTH with the new password gives a refresh token both it and Cognito know;
  // should that fail for any reason, the challenge's own tokens (good in AWS) are kept.
  try {
    const again = await callCognito('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: challenge.email, PASSWORD: newPassword },
    });
    if (again.kind === 'tokens' && again.result.RefreshToken) result = again.result;
  } catch {
    // Keep the tokens from the challenge answer.
  }
  startSession(result);
}

/**
 * Signs out at once, and revokes the refresh token (Cognito RevokeToken) in the background, so that
 * a copy of it cannot get new tokens. A failed revocation does not hold up the sign-out. With
 * `revoke: false` (the refresh was refused: the token is dead already) nothing is sent.
 */
export function signOut(notice?: string, { revoke = true }: { revoke?: boolean } = {}): void {
  const ending = state;
  setState(notice ? { signedIn: false, notice } : { signedIn: false });
  if (revoke && ending.signedIn) void revokeRefreshToken(ending.session.refreshToken);
}

async function revokeRefreshToken(token: string): Promise<void> {
  try {
    await cognito('RevokeToken', { Token: token });
  } catch {
    // Offline, or already revoked: the tokens are gone from this tab all the same.
  }
}

/** Gets new access and id tokens with the refresh token; signs out if that fails. */
export function refreshSession(): Promise<Session> {
  if (refreshing) return refreshing;
  const current = state;
  if (!current.signedIn) return Promise.reject(new SignInError('Not signed in.'));
  refreshing = initiateAuth({
    AuthFlow: 'REFRESH_TOKEN_AUTH',
    AuthParameters: { REFRESH_TOKEN: current.session.refreshToken },
  })
    .then((result) => {
      // Signed out, or in as someone else, while this was in flight: leave the newer state alone.
      if (state !== current) throw new SignInError('Not signed in.');
      if (!result.AccessToken || !result.IdToken) throw new CognitoError('UnknownError', 'No tokens.');
      const session: Session = {
        accessToken: result.AccessToken,
        idToken: result.IdToken,
        refreshToken: result.RefreshToken ?? current.session.refreshToken,
        expiresAt: Date.now() + (result.ExpiresIn ?? 900) * 1000,
      };
      setState({ signedIn: true, session });
      return session;
    })
    .catch((error: unknown) => {
      if (state !== current) throw error instanceof SignInError ? error : new SignInError('Not signed in.');
      if (error instanceof CognitoError && error.type === 'NetworkError') {
        // Offline for a moment: keep the session and try again shortly.
        if (state.signedIn) refreshTimer = setTimeout(() => void refreshSession().catch(() => {}), 15_000);
        throw new SignInError(signInMessage(error));
      }
      signOut('Your session has ended. Sign in again.', { revoke: false });
      throw new SignInError('Your session has ended. Sign in again.');
    })
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

/** A valid access token, refreshed first when it expires within a minute. */
export async function accessToken(): Promise<string> {
  const current = state;
  if (!current.signedIn) throw new SignInError('Not signed in.');
  if (current.session.expiresAt - REFRESH_MARGIN_MS > Date.now()) return current.session.accessToken;
  return (await refreshSession()).accessToken;
}
