/** The runtime configuration written next to the site (`/config.json`). No secrets: ids only. */
export interface PortalConfig {
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** Where Cognito requests go instead of the regional endpoint (locally: a same-origin proxy). */
  cognitoEndpoint?: string;
  /** The local twin (cognito-local): calls it does not have (GlobalSignOut) are skipped. */
  local?: boolean;
}

let pending: Promise<PortalConfig> | undefined;

function isConfig(value: unknown): value is PortalConfig {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.region === 'string' &&
    typeof v.userPoolId === 'string' &&
    typeof v.userPoolClientId === 'string' &&
    (v.cognitoEndpoint === undefined || typeof v.cognitoEndpoint === 'string') &&
    (v.local === undefined || typeof v.local === 'boolean')
  );
}

export function loadConfig(): Promise<PortalConfig> {
  pending ??= fetch('/config.json', { cache: 'no-store', credentials: 'same-origin' })
    .then(async (res) => {
      const body: unknown = res.ok ? await res.json() : undefined;
      if (!isConfig(body))
        throw new Error('The portal is not configured (config.json is missing or invalid).');
      return body;
    })
    .catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
  return pending;
}

export function cognitoUrl(config: PortalConfig): string {
  return config.cognitoEndpoint || `https://cognito-idp.${config.region}.amazonaws.com/`;
}
