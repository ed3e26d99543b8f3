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
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE';

export class PortalError extends Error {
  override readonly name = 'PortalError';
  constructor(
    readonly kind: PortalErrorKind,
    /** Stable, machine-readable, e.g. PIN_EXPIRED. */
    readonly code: string,
    message: string,
    /** For RATE_LIMITED and UNAVAILABLE: seconds until the caller may try again. */
    readonly retryAfterSeconds?: number,
    /** Extra response headers, e.g. WWW-Authenticate for a step-up sign-in. */
    readonly headers?: Record<string, string>,
    /** What the client needs to go on, sent as error.details (e.g. the registrations to choose from). */
    readonly details?: unknown,
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
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

/**
 * An AWS service failed for a reason that is not a lost race (throttling, a timeout, a validation
 * error): the request may be retried later. Carries what the logs need, never shown to the user.
 */
export class DependencyError extends Error {
  override readonly name = 'DependencyError';
  constructor(
    message: string,
    /** The SDK error's name, e.g. ProvisionedThroughputExceededException. */
    readonly causeName: string,
    /** A cancelled transaction's reasons, one per item, e.g. ["None", "ThrottlingError"]. */
    readonly reasons: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Errors the AWS SDK raises for a service's answer (they carry $metadata), not bugs in our code. */
export function isAwsServiceError(error: unknown): error is Error & { $metadata: object } {
  return error instanceof Error && typeof (error as { $metadata?: unknown }).$metadata === 'object';
}
