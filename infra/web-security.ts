/**
 * Browser-facing security settings shared by CloudFront and (if it wants) the local server, so
 * both serve the same policy (DESIGN §8 rule 12).
 */

/** Where the device page's map tiles come from unless the settings name another tile server. */
export const DEFAULT_MAP_TILE_ORIGIN = 'https://tile.openstreetmap.org';

/** The origin of a tile URL template (`https://tile.example.org/{z}/{x}/{y}.png`). */
export function mapTileOrigin(urlTemplate: string): string {
  return new URL(urlTemplate.replace(/\{[a-z]\}/g, '0')).origin;
}

/**
 * Content-Security-Policy for the portal. The SPA talks to its own origin (`/api/*`) and to the
 * Cognito endpoint for sign-in; inline styles are allowed because components set `style` attributes
 * and the QR code is inline SVG; scripts stay same-origin only. Images may also come from the map tile
 * server the device page shows a located device on (`tileOrigin`: the origin of the settings'
 * map tiles, see `mapTileOrigin`; OpenStreetMap by default).
 */
export function contentSecurityPolicy(
  cognitoEndpoint: string,
  tileOrigin: string = DEFAULT_MAP_TILE_ORIGIN,
): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: ${tileOrigin}`,
    `connect-src 'self' ${cognitoEndpoint}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * CloudFront Function (cloudfront-js-2.0, viewer request) for the SPA fallback: a path whose last
 * segment has no file extension (`/go`, `/devices/abc`) is a client-side route, so it gets
 * `/index.html`. Attached only to the S3 behaviour, so API 403/404s are never rewritten (which
 * distribution-wide errorResponses would do).
 */
export const SPA_REWRITE_FUNCTION_CODE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var lastSegment = uri.substring(uri.lastIndexOf('/') + 1);
  if (lastSegment.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}`;
