/** Signing in and calling the API of the local portal the global setup started. */
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { inject } from 'vitest';
import { DEFAULT_DEMO_PASSWORD } from '../../infra/local/local-portal.ts';

export const portalUrl = (): string => inject('portalUrl');

export const ALICE = 'alice@example.com';
export const BOB = 'bob@example.com';
export const ADMIN = 'admin@example.com';

export interface Tokens {
  accessToken: string;
  idToken: string;
  refreshToken: string;
  expiresIn: number;
}

interface InitiateAuthResponse {
  AuthenticationResult?: { AccessToken: string; IdToken: string; RefreshToken: string; ExpiresIn: number };
  __type?: string;
  message?: string;
}

/** USER_PASSWORD_AUTH through the portal's /_local/cognito/ proxy, as the web app signs in. */
export async function signIn(email: string, password = DEFAULT_DEMO_PASSWORD): Promise<Tokens> {
  const response = await fetch(`${portalUrl()}/_local/cognito/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: inject('userPoolClientId'),
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  });
  const body = (await response.json()) as InitiateAuthResponse;
  const result = body.AuthenticationResult;
  if (!response.ok || !result) {
    throw new Error(
      `Sign-in of ${email} failed: ${response.status} ${body.__type ?? ''} ${body.message ?? ''}`,
    );
  }
  return {
    accessToken: result.AccessToken,
    idToken: result.IdToken,
    refreshToken: result.RefreshToken,
    expiresIn: result.ExpiresIn,
  };
}

const tokenCache = new Map<string, Promise<Tokens>>();

/** One sign-in per user and test file: the tokens live 15 minutes, far longer than a run. */
export function tokensOf(email: string): Promise<Tokens> {
  let tokens = tokenCache.get(email);
  if (!tokens) {
    tokens = signIn(email);
    tokenCache.set(email, tokens);
  }
  return tokens;
}

export interface ApiOptions {
  token?: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiAnswer<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls the portal; a JSON answer is parsed, anything else is returned as text. */
export async function api<T = unknown>(path: string, options: ApiOptions = {}): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${portalUrl()}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.startsWith('application/json') ?? false;
  return {
    status: response.status,
    headers: response.headers,
    body: (isJson && text !== '' ? JSON.parse(text) : text) as T,
  };
}

export type JwtPayload = Record<string, unknown>;

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** The payload of a JWT, unverified: for building look-alike tokens from a real one. */
export function decodeJwt(token: string): JwtPayload {
  const [, payload] = token.split('.');
  if (!payload) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtPayload;
}

/** Signs `payload` as an RS256 JWT with the given key and key id. */
export function signJwt(payload: JwtPayload, key: KeyObject, kid = 'CognitoLocal'): string {
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = base64url(JSON.stringify(payload));
  const signature = sign('sha256', Buffer.from(`${header}.${body}`), key);
  return `${header}.${body}.${base64url(signature)}`;
}

/** cognito-local's own signing key (public in its package): tokens it signs pass the JWKS check. */
export function cognitoLocalPrivateKey(): KeyObject {
  const require = createRequire(import.meta.url);
  const file = require.resolve('cognito-local/lib/keys/cognitoLocal.private.json');
  const { pem } = JSON.parse(readFileSync(file, 'utf8')) as { pem: string };
  return createPrivateKey(pem);
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
