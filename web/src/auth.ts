/**
 * Sign-in with the Cognito user pool by plain fetch (no AWS SDK in the browser): USER_PASSWORD_AUTH,
 * then REFRESH_TOKEN_AUTH a minute before the access token expires. Tokens live in sessionStorage,
 * so they go away with the tab.
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
}

const STORAGE_KEY = 'device-portal.session';
const REFRESH_MARGIN_MS = 60_000;

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

async function initiateAuth(body: Record<string, unknown>): Promise<AuthenticationResult> {
  const config = await loadConfig();
  let res: Response;
  try {
    res = await fetch(cognitoUrl(config), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth',
      },
      body: JSON.stringify({ ...body, ClientId: config.userPoolClientId }),
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
  if (typeof record.ChallengeName === 'string') {
    throw new CognitoError('Challenge', record.ChallengeName);
  }
  const result = record.AuthenticationResult;
  if (typeof result !== 'object' || result === null) {
    throw new CognitoError('UnknownError', 'No tokens in the answer.');
  }
  return result as AuthenticationResult;
}

function signInMessage(error: unknown): string {
  if (!(error instanceof CognitoError)) {
    return error instanceof Error ? error.message : 'Sign-in failed. Try again.';
  }
  switch (error.type) {
    case 'NotAuthorizedException':
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
      return 'Your account needs attention before you can sign in here (for example a new password). Contact your helpdesk.';
    case 'NetworkError':
      return 'The sign-in service cannot be reached. Check your connection and try again.';
    default:
      return 'Sign-in failed. Try again in a moment.';
  }
}

export async function signIn(email: string, password: string): Promise<void> {
  let result: AuthenticationResult;
  try {
    result = await initiateAuth({
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email.trim(), PASSWORD: password },
    });
  } catch (error) {
    throw new SignInError(signInMessage(error));
  }
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

export function signOut(notice?: string): void {
  setState(notice ? { signedIn: false, notice } : { signedIn: false });
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
      if (error instanceof CognitoError && error.type === 'NetworkError') {
        // Offline for a moment: keep the session and try again shortly.
        if (state.signedIn) refreshTimer = setTimeout(() => void refreshSession().catch(() => {}), 15_000);
        throw new SignInError(signInMessage(error));
      }
      signOut('Your session has ended. Sign in again.');
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
