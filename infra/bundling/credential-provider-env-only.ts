/**
 * Stands in for `@aws-sdk/credential-provider-node` in every function bundle (esbuild alias in
 * function-build.ts). A Lambda function gets its credentials from the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the default chain's other
 * providers (SSO, INI files, process, web identity, container and instance metadata) and the
 * nested STS/SSO clients they pull in are dead weight: about 60–90 KB of every bundle and part of
 * its import time.
 *
 * The SDK clients' runtimeConfig imports `defaultProvider` from the package; these are the same
 * three names the package exports, with the same behaviour for credentials from the environment.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

type FromEnvInit = Parameters<typeof fromEnv>[0];

export const defaultProvider = (init: FromEnvInit = {}): ReturnType<typeof fromEnv> => fromEnv(init);

export const credentialsWillNeedRefresh = (credentials?: { expiration?: Date }): boolean =>
  credentials?.expiration !== undefined;

export const credentialsTreatedAsExpired = (credentials?: { expiration?: Date }): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
