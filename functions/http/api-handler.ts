/**
 * The shared middy stack every handler is built with: the route's access and role come from the
 * route table, then body parsing and validation, then the use-case, then JSON errors.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { portalTable } from '../adapters/portal-table.ts';
import { PortalError, STATUS_BY_KIND } from '../core/errors.ts';
import type { Caller } from '../core/ports.ts';
import { ADMIN_GROUP, effectiveRoles } from '../core/settings.ts';
import { type Role, type Route, routes } from '../routes.ts';

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

export interface ApiRequest<TBody> {
  event: ApiEvent;
  body: TBody;
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  sourceIp: string;
  userAgent: string;
  /** https://host of the request, for links back to the portal. */
  origin: string;
}

export interface UserRequest<TBody> extends ApiRequest<TBody> {
  caller: SignedInCaller;
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
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  return json(STATUS_BY_KIND[error.kind], { error: { code: error.code, message: error.message } }, headers);
}

function findRoute(name: string): Route {
  const route = routes.find((r) => r.name === name);
  if (!route) throw new Error(`No route named ${name} in functions/routes.ts`);
  return route;
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

function callerFromClaims(event: ApiEvent): Caller {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  // The authorizer admits only verified tokens; a route without claims was deployed wrong.
  if (claims?.token_use !== 'access' || typeof claims.sub !== 'string') {
    throw new PortalError(
      'UNAUTHORIZED',
      'UNAUTHORIZED',
      'Sign in again: your session is missing or not valid.',
    );
  }
  return {
    sub: claims.sub,
    username: String(claims.username ?? claims['cognito:username'] ?? claims.sub),
    groups: claimList(claims['cognito:groups']),
    authTime: Number(claims.auth_time ?? 0),
  };
}

function formatIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

function parseBody<T>(event: ApiEvent, schema: z.ZodMiniType<T> | undefined): T {
  if (!schema) return undefined as T;
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    throw new PortalError(
      'PAYLOAD_TOO_LARGE',
      'BODY_TOO_LARGE',
      `The request body is over ${MAX_BODY_BYTES} bytes.`,
    );
  }
  let data: unknown;
  try {
    data = raw === '' ? {} : JSON.parse(raw);
  } catch {
    throw new PortalError('INVALID', 'MALFORMED_JSON', 'The request body is not valid JSON.');
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new PortalError(
      'INVALID',
      'VALIDATION_FAILED',
      `Check the request: ${formatIssues(result.error)}.`,
    );
  }
  return result.data;
}

function baseRequest<T>(event: ApiEvent, body: T): ApiRequest<T> {
  const host = event.headers['x-forwarded-host'] ?? event.headers.host ?? event.requestContext.domainName;
  const proto = event.headers['x-forwarded-proto'] ?? 'https';
  return {
    event,
    body,
    pathParameters: (event.pathParameters ?? {}) as Record<string, string>,
    query: (event.queryStringParameters ?? {}) as Record<string, string>,
    sourceIp: event.requestContext.http.sourceIp,
    userAgent: event.requestContext.http.userAgent ?? '',
    origin: `${proto}://${host}`,
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

/** Maps typed errors to their status; anything else is logged and answered with a bare 500. */
const jsonErrors = (): middy.MiddlewareObj<ApiEvent, ApiResult, Error, Context> => ({
  onError: async (request) => {
    const error = request.error;
    if (error instanceof PortalError) {
      request.response = errorResponse(error);
      return;
    }
    // Loaded on the first unexpected error only: the logger costs ~6 ms of every cold start
    // (measured with npm run bench), and it has nothing to say on the happy path.
    const { logger } = await import('./logger.ts');
    logger.error('Unhandled error', { error });
    request.response = json(500, {
      error: { code: 'INTERNAL', message: 'Something went wrong on our side. Try again in a minute.' },
    });
  },
});

interface HandlerSpec<TBody> {
  body?: z.ZodMiniType<TBody>;
}

type LambdaHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

/** A handler for a user or admin route: the caller is signed in and holds the route's role. */
export function userApi<TBody = undefined>(
  routeName: string,
  spec: HandlerSpec<TBody>,
  useCase: (request: UserRequest<TBody>) => Promise<ApiResponse>,
): LambdaHandler {
  const route = findRoute(routeName);
  return middy<ApiEvent, ApiResult, Error, Context>()
    .use(jsonErrors())
    .handler(async (event) => {
      const caller = callerFromClaims(event);
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
      const body = parseBody(event, spec.body);
      return toResult(await useCase({ ...baseRequest(event, body), caller: { ...caller, roles, isAdmin } }));
    }) as unknown as LambdaHandler;
}

/** A handler for a public or agent route: no user token; the use-case checks its own secret. */
export function publicApi<TBody = undefined>(
  routeName: string,
  spec: HandlerSpec<TBody>,
  useCase: (request: ApiRequest<TBody>) => Promise<ApiResponse>,
): LambdaHandler {
  findRoute(routeName);
  return middy<ApiEvent, ApiResult, Error, Context>()
    .use(jsonErrors())
    .handler(async (event) =>
      toResult(await useCase(baseRequest(event, parseBody(event, spec.body)))),
    ) as unknown as LambdaHandler;
}
