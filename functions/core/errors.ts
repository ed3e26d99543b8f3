/**
 * Typed errors a use-case throws. The message is for the user and says what to do; the http layer
 * maps the kind to a status. Anything else that escapes is an internal error and is never shown.
 */
export type PortalErrorKind =
  | 'INVALID'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'GONE'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED';

export class PortalError extends Error {
  override readonly name = 'PortalError';
  constructor(
    readonly kind: PortalErrorKind,
    /** Stable, machine-readable, e.g. PIN_EXPIRED. */
    readonly code: string,
    message: string,
    /** For RATE_LIMITED: seconds until the caller may try again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const STATUS_BY_KIND: Record<PortalErrorKind, number> = {
  INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
};
