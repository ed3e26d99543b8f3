/**
 * The shared middy stack every handler is built with. A handler is bound to its own entry of the
 * route table (it receives the entry, not a name), and the stack takes everything it enforces from
 * that entry: only requests that came through CloudFront (the origin secret), the caller's token,
 * role and a recent sign-in, then the path, query and body schemas; then the use-case; then JSON
 * errors and one log line per request.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { emfMetrics } from '../adapters/emf-metrics.ts';
import { portalTable } from '../adapters/portal-table.ts';
import { isOriginSecret } from '../adapters/secret-values.ts';
import { DependencyError, isAwsServiceError, PortalError, STATUS_BY_KIND } from '../core/errors.ts';
import type { Caller } from '../core/ports.ts';
import { ADMIN_GROUP, effectiveRoles, type PortalSettings } from '../core/settings.ts';
import type { Role, Route } from '../routes.ts';
import { requireMfa } from './mfa-gate.ts';

/** A payload 2.0 event; on user and admin routes the JWT authorizer has filled the claims. */
export type ApiEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { jwt?: { claims: Record<string, string | number | boolean | string[]> } };
  };
};
export type ApiResult = APIGatewayProxyStructuredResultV2;

export interface SignedInCaller extends Caller {
  roles: Role[];
  isAdmin: boolean;
}

export interface ApiRequest<TBody, TPath = Record<string, string>, TQuery = Record<string, string>> {
  event: ApiEvent;
  body: TBody;
  pathParameters: TPath;
  query: TQuery;
  /** The viewer's address as CloudFront saw it (never a header the client chose). */
  sourceIp: string;
  userAgent: string;
  /** The portal's public origin from configuration, for links back to it; never from a request header. */
  origin: string;
}

export interface UserRequest<TBody, TPath, TQuery> extends ApiRequest<TBody, TPath, TQuery> {
  caller: SignedInCaller;
  /** The settings the stack read to decide the caller's roles: a use-case need not read them again. */
  settings: PortalSettings;
}

export interface ApiResponse {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, for non-JSON answers (set content-type in headers). */
  text?: string;
  headers?: Record<string, string>;
}

/** Bodies above this are refused before parsing (DESIGN §8 rule 7). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Rule 9: wipe, retire and ownership changes need a sign-in this recent. */
export const RECENT_SIGN_IN_SECONDS = 5 * 60;
/** The header CloudFront adds with the origin secret; requests without it did not come through it. */
export const ORIGIN_SECRET_HEADER = 'x-origin-verify';
/** Seconds a caller is asked to wait when an AWS service is throttling or failing. */
const RETRY_AFTER_UNAVAILABLE_S = 5;

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(status: number, body?: unknown, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode: status,
    headers: { ...BASE_HEADERS, ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

function errorResponse(error: PortalError): ApiResult {
  const headers: Record<string, string> = { ...error.headers };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  const body = {
    code: error.code,
    message: error.message,
    ...(error.details === undefined ? {} : { details: error.details }),
  };
  return json(STATUS_BY_KIND[error.kind], { error: body }, headers);
}

/** API Gateway passes array claims as "[a b]"; the local twin passes the same. */
export function claimList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string' || value === '') return [];
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter(Boolean);
}

const SIGN_IN_AGAIN = () =>
  new PortalError('UNAUTHORIZED', 'UNAUTHORIZED', 'Sign in again: your session is missing or not valid.');

function callerFromClaims(event: ApiEvent): Caller {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  // The authorizer admits only verified tokens; a route without claims was deployed wrong.
  if (claims?.token_use !== 'access' || typeof claims.sub !== 'string' || claims.sub.length > 128) {
    throw SIGN_IN_AGAIN();
  }
  return {
    sub: claims.sub,
    username: String(claims.username ?? claims['cognito:username'] ?? claims.sub),
    groups: claimList(claims['cognito:groups']),
    authTime: Number(claims.auth_time ?? 0),
  };
}

/** Rule 9, as a step-up challenge the web app understands (RFC 9470). */
function requireRecentSignIn(caller: Caller): void {
  const age = Math.floor(Date.now() / 1000) - caller.authTime;
  if (!Number.isFinite(caller.authTime) || age > RECENT_SIGN_IN_SECONDS) {
    throw new PortalError(
      'UNAUTHORIZED',
      'RECENT_SIGN_IN_REQUIRED',
      'For this, confirm it is you: enter your password again.',
      undefined,
      {
        'www-authenticate': `Bearer error="insufficient_user_authentication", max_age=${RECENT_SIGN_IN_SECONDS}`,
      },
    );
  }
}

/**
 * What to fix, in words: the schemas' own sentences as they are; zod's generic messages (no full
 * stop) with the field they are about, for API clients that sent something no form would.
 */
function formatIssues(error: z.core.$ZodError, where: string): string {
  const lines = error.issues.slice(0, 5).map((issue) => {
    if (/[.!?]$/.test(issue.message)) return issue.message;
    const field = issue.path.length > 0 ? issue.path.join('.') : where;
    return `${field}: ${issue.message}.`;
  });
  return [...new Set(lines)].join(' ');
}

function parseBody<T>(
  event: ApiEvent,
  schema: z.ZodMiniType<T> | undefined,
  maxBytes: number = MAX_BODY_BYTES,
): T {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (Buffer.byteLength(raw, 'utf8') > maxBytes) {
    throw new PortalError(
      'PAYLOAD_TOO_LARGE',
      'BODY_TOO_LARGE',
      `The request body is over ${maxBytes} bytes.`,
    );
  }
  if (!schema) {
    if (raw.trim() !== '') {
      throw new PortalError('INVALID', 'UNEXPECTED_BODY', 'This request takes no body; send none.');
    }
    return undefined as T;
  }
  if (raw !== '') {
    const contentType = (event.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      throw new PortalError(
        'UNSUPPORTED_MEDIA_TYPE',
        'JSON_REQUIRED',
        'Send the request body as JSON with Content-Type: application/json.',
      );
    }
  }
  let data: unknown;
  try {
    data = raw === '' ? {} : JSON.parse(raw);
  } catch {
    throw new PortalError('INVALID', 'MALFORMED_JSON', 'The request body is not valid JSON.');
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new PortalError('INVALID', 'VALIDATION_FAILED', formatIssues(result.error, 'body'));
  }
  return result.data;
}

function parsePath<T>(event: ApiEvent, schema: z.ZodMiniType<T> | undefined): T {
  const values = event.pathParameters ?? {};
  if (!schema) return {} as T;
  const result = schema.safeParse(values);
  // An id of the wrong shape names nothing this portal issued: the same answer as an unknown one.
  if (!result.success) throw new PortalError('NOT_FOUND', 'NOT_FOUND', 'There is nothing here by that id.');
  return result.data;
}

function parseQuery<T>(event: ApiEvent, schema: z.ZodMiniType<T> | undefined): T {
  const values = event.queryStringParameters ?? {};
  if (!schema) return values as T;
  const result = schema.safeParse(values);
  if (!result.success) {
    throw new PortalError('INVALID', 'VALIDATION_FAILED', formatIssues(result.error, 'query'));
  }
  return result.data;
}

/**
 * The viewer's address: CloudFront-Viewer-Address ("ip:port", IPv6 unbracketed), which CloudFront
 * sets itself; it is trusted because only requests carrying the origin secret get this far.
 */
export function viewerAddress(event: ApiEvent): string {
  const header = event.headers['cloudfront-viewer-address'];
  const cut = header?.lastIndexOf(':') ?? -1;
  const ip = header && cut > 0 ? header.slice(0, cut) : '';
  return /^[0-9A-Fa-f.:]{2,45}$/.test(ip) ? ip : event.requestContext.http.sourceIp;
}

/** The portal's public origin (DESIGN §8 rule 13): the deployment says it, a request never does. */
export function portalOrigin(): string {
  const origin = process.env.PORTAL_ORIGIN;
  if (!origin) throw new Error('Environment variable PORTAL_ORIGIN is not set');
  return origin.replace(/\/+$/, '');
}

function baseRequest(
  event: ApiEvent,
): Omit<ApiRequest<unknown, unknown, unknown>, 'body' | 'pathParameters' | 'query'> {
  return {
    event,
    sourceIp: viewerAddress(event),
    userAgent: (event.requestContext.http.userAgent ?? '').slice(0, 512),
    origin: portalOrigin(),
  };
}

function toResult(response: ApiResponse): ApiResult {
  if (response.text !== undefined) {
    return {
      statusCode: response.status,
      headers: { ...BASE_HEADERS, ...response.headers },
      body: response.text,
    };
  }
  return json(response.status, response.body, response.headers);
}

async function logUnexpected(message: string, fields: Record<string, unknown>): Promise<void> {
  // Loaded on the first unexpected error only: the logger costs ~6 ms of every cold start
  // (measured with npm run bench), and it has nothing to say on the happy path.
  const { logger } = await import('./logger.ts');
  logger.error(message, fields);
}

/** Maps typed errors to their status; AWS failures to 503; anything else is logged and a bare 500. */
const jsonErrors = (): middy.MiddlewareObj<ApiEvent, ApiResult, Error, Context> => ({
  onError: async (request) => {
    const error = request.error;
    if (error instanceof PortalError) {
      if (error.kind === 'RATE_LIMITED') emfMetrics.count('RateLimited');
      request.response = errorResponse(error);
      return;
    }
    if (error instanceof DependencyError || isAwsServiceError(error)) {
      emfMetrics.count('ServiceUnavailable');
      await logUnexpected('AWS service failure', {
        error,
        ...(error instanceof DependencyError
          ? { causeName: error.causeName, cancellationReasons: error.reasons }
          : {}),
      });
      request.response = json(
        503,
        {
          error: {
            code: 'SERVICE_UNAVAILABLE',
            message: 'The portal is busy right now. Wait a few seconds, then try again.',
          },
        },
        { 'retry-after': String(RETRY_AFTER_UNAVAILABLE_S) },
      );
      return;
    }
    await logUnexpected('Unhandled error', { error });
    request.response = json(500, {
      error: { code: 'INTERNAL', message: 'Something went wrong on our side. Try again in a minute.' },
    });
  },
});

/**
 * One structured line per request (route, status, duration, request id), with nothing secret in it:
 * no body, no header, no query string.
 */
const requestLog = (route: Route): middy.MiddlewareObj<ApiEvent, ApiResult, Error, Context> => {
  // Keyed by the event: the local twin runs one handler for many requests at once.
  const startedAt = new WeakMap<ApiEvent, number>();
  const write = (request: middy.Request<ApiEvent, ApiResult, Error, Context>) => {
    if (process.env.PORTAL_REQUEST_LOG === 'off') return;
    process.stdout.write(
      `${JSON.stringify({
        level: 'INFO',
        message: 'request',
        route: route.name,
        routeKey: `${route.method} ${route.path}`,
        status: request.response?.statusCode ?? 500,
        durationMs: Date.now() - (startedAt.get(request.event) ?? Date.now()),
        requestId: request.event.requestContext?.requestId,
      })}\n`,
    );
  };
  return {
    before: (request) => {
      startedAt.set(request.event, Date.now());
    },
    after: write,
    // Runs after jsonErrors has turned the error into a response (middy runs onError in reverse).
    onError: write,
  };
};

/** Refuses requests that did not come through CloudFront, before anything else runs. */
async function requireCloudFront(event: ApiEvent): Promise<void> {
  if (!(await isOriginSecret(event.headers[ORIGIN_SECRET_HEADER]))) {
    throw new PortalError(
      'FORBIDDEN',
      'DIRECT_ACCESS',
      'Use the portal address; this endpoint is not public.',
    );
  }
}

type LambdaHandler = ((event: ApiEvent, context: Context) => Promise<ApiResult>) & {
  /** The route-table entry this handler serves (checked by a test against every entry). */
  readonly route: Route;
};

function build(route: Route, run: (event: ApiEvent) => Promise<ApiResponse>): LambdaHandler {
  const handler = middy<ApiEvent, ApiResult, Error, Context>()
    .use(requestLog(route))
    .use(jsonErrors())
    .handler(async (event) => {
      await requireCloudFront(event);
      return toResult(await run(event));
    });
  return Object.assign(handler as unknown as (event: ApiEvent, context: Context) => Promise<ApiResult>, {
    route,
  });
}

/** A handler for a user or admin route: the caller is signed in and holds the route's role. */
export function userApi<TBody, TPath, TQuery, TPrefetched = undefined>(
  route: Route<TBody, TPath, TQuery>,
  useCase: (
    request: UserRequest<TBody, TPath, TQuery> & { prefetched: Promise<NoInfer<TPrefetched>> | undefined },
  ) => Promise<ApiResponse>,
  options: {
    /**
     * A read of the caller's own items started alongside the settings read, so a page that needs
     * both waits for one round trip, not two. Its result reaches the use-case only once the role
     * and every other check of the stack have passed.
     */
    prefetch?: (caller: Caller, pathParameters: TPath) => Promise<TPrefetched>;
  } = {},
): LambdaHandler {
  return build(route as Route, async (event) => {
    const caller = callerFromClaims(event);
    let prefetched: Promise<TPrefetched> | undefined;
    // A route that prefetches reads its path first (an id of the wrong shape is a 404 either way).
    const prefetchPath = options.prefetch ? parsePath(event, route.pathParameters) : undefined;
    if (options.prefetch && prefetchPath !== undefined) {
      prefetched = options.prefetch(caller, prefetchPath);
      // Awaited by the use-case, or dropped when a check refuses the request: never unhandled.
      prefetched.catch(() => undefined);
    }
    const settings = await portalTable().getSettings();
    const isAdmin = caller.groups.includes(ADMIN_GROUP);
    const roles = effectiveRoles(settings, caller.groups);
    if (route.access === 'admin' && !isAdmin) {
      throw new PortalError('FORBIDDEN', 'ADMIN_ONLY', 'Only portal administrators can do this.');
    }
    if (route.role && !roles.includes(route.role)) {
      throw new PortalError(
        'FORBIDDEN',
        'ROLE_REQUIRED',
        `Your portal role does not allow this (needs "${route.role}"). Ask your helpdesk if you need it.`,
      );
    }
    if (route.recentSignIn) requireRecentSignIn(caller);
    await requireMfa(route, settings, caller);
    const pathParameters = prefetchPath ?? parsePath(event, route.pathParameters);
    const query = parseQuery(event, route.query);
    const body = parseBody(event, route.body, route.maxBodyBytes);
    return useCase({
      ...baseRequest(event),
      body,
      pathParameters,
      query,
      settings,
      caller: { ...caller, roles, isAdmin },
      prefetched,
    });
  });
}

/** A handler for a public or agent route: no user token; the use-case checks its own secret. */
export function publicApi<TBody, TPath, TQuery>(
  route: Route<TBody, TPath, TQuery>,
  useCase: (request: ApiRequest<TBody, TPath, TQuery>) => Promise<ApiResponse>,
): LambdaHandler {
  return build(route as Route, async (event) => {
    const pathParameters = parsePath(event, route.pathParameters);
    const query = parseQuery(event, route.query);
    const body = parseBody(event, route.body, route.maxBodyBytes);
    return useCase({ ...baseRequest(event), body, pathParameters, query });
  });
}
