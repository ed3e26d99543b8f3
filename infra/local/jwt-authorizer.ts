/**
 * Does locally what API Gateway's JWT authorizer does in AWS: admits a request only with a Bearer
 * access token whose signature (against the emulator's JWKS), issuer, client id, expiry and token
 * use check out, and hands the handler its claims as strings, as API Gateway does.
 */
import { JwtRsaVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';

export type JwtClaims = Record<string, string>;

export interface LocalJwtAuthorizer {
  /** The claims of a valid access token, or null. */
  authorize(authorizationHeader: string | undefined): Promise<JwtClaims | null>;
}

/** API Gateway's rendering of claim values: arrays as "[a b]", everything else as a string. */
function asApiGatewayClaim(value: unknown): string {
  if (Array.isArray(value)) return `[${value.join(' ')}]`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

export async function createJwtAuthorizer(options: {
  cognitoEndpoint: string;
  issuer: string;
  userPoolId: string;
  clientId: string;
}): Promise<LocalJwtAuthorizer> {
  const jwksUri = `${options.cognitoEndpoint}/${options.userPoolId}/.well-known/jwks.json`;
  const verifier = JwtRsaVerifier.create({
    issuer: options.issuer,
    // Cognito access tokens carry client_id instead of aud; API Gateway accepts either.
    audience: null,
    jwksUri,
    customJwtCheck: ({ payload }) => {
      const now = Date.now() / 1000;
      // API Gateway requires exp (aws-jwt-verify checks it only when present) and an iat not ahead.
      if (typeof payload.exp !== 'number') throw new Error('no expiry');
      if (typeof payload.iat === 'number' && payload.iat > now + 5) throw new Error('issued in the future');
      if (payload.token_use !== 'access') throw new Error('not an access token');
      const audience = payload.aud === undefined ? [] : [payload.aud].flat();
      if (
        audience.length > 0 ? !audience.includes(options.clientId) : payload.client_id !== options.clientId
      ) {
        throw new Error('token issued to another client');
      }
    },
  });
  // The verifier's own fetcher insists on https; the emulator serves http on loopback.
  const response = await fetch(jwksUri);
  if (!response.ok) throw new Error(`Could not read the emulator's JWKS at ${jwksUri}: ${response.status}`);
  verifier.cacheJwks((await response.json()) as Jwks);

  return {
    async authorize(header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
      if (!match?.[1]) return null;
      try {
        const payload = await verifier.verify(match[1]);
        return Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, asApiGatewayClaim(v)]));
      } catch {
        return null;
      }
    },
  };
}
