import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import type { ApiErrorBody } from '../../functions/core/api-types.ts';
import { PortalError } from '../../functions/core/errors.ts';
import {
  claimList,
  MAX_BODY_BYTES,
  RECENT_SIGN_IN_SECONDS,
  userApi,
} from '../../functions/http/api-handler.ts';
// Handlers take their schemas from here, and with them zod's English messages.
import { platform, uuid } from '../../functions/http/schemas.ts';
import type { Route } from '../../functions/routes.ts';
import {
  ALICE_SUB,
  accessClaims,
  apiEvent,
  type EventOptions,
  freshClock,
  groupClaims,
  idTokenClaims,
  jsonBody,
  lambdaContext,
} from './fixtures.ts';

/** Routes that exist only in this file, so the shared stack is tried on roles nobody has by default. */
const { TEST_ROUTES } = vi.hoisted(() => {
  const testRoutes = {
    wipe: {
      name: 'TestWipe',
      method: 'POST',
      path: '/api/test/{deviceId}/wipe',
      access: 'user',
      role: 'wipe',
      permissions: {},
    },
    echo: {
      name: 'TestSelfService',
      method: 'POST',
      path: '/api/test/echo',
      access: 'user',
      role: 'self-service',
      permissions: {},
    },
    admin: {
      name: 'TestAdmin',
      method: 'GET',
      path: '/api/test/admin',
      access: 'admin',
      permissions: {},
    },
    stepUp: {
      name: 'TestStepUp',
      method: 'POST',
      path: '/api/test/step-up',
      access: 'user',
      role: 'self-service',
      recentSignIn: true,
      permissions: {},
    },
  } satisfies Record<string, Route>;
  return { TEST_ROUTES: testRoutes };
});

vi.mock(import('../../functions/routes.ts'), async (importOriginal) => {
  const original = await importOriginal();
  return { ...original, routes: [...original.routes, ...Object.values(TEST_ROUTES)] };
});

const dynamo = mockClient(DynamoDBDocumentClient);

const DEVICE_ID = 'd0000000-0000-4000-8000-000000000001';
const ok = vi.fn(async () => ({ status: 200, body: { done: true } }));
const wipe = userApi({ ...TEST_ROUTES.wipe, pathParameters: z.strictObject({ deviceId: uuid }) }, ok);
const admin = userApi(TEST_ROUTES.admin, ok);
const stepUp = userApi(TEST_ROUTES.stepUp, ok);
const echoRoute = {
  ...TEST_ROUTES.echo,
  body: z.strictObject({ note: z.string().check(z.maxLength(20)) }),
  query: z.strictObject({ lang: z.optional(z.string()) }),
};
const echo = userApi(echoRoute, async ({ body, caller, pathParameters, sourceIp, userAgent, origin }) => ({
  status: 201,
  body: { note: body.note, caller, pathParameters, sourceIp, userAgent, origin },
}));
const INTERNAL_DETAIL = 'ProvisionedThroughputExceeded on arn:aws:dynamodb:us-east-1:123456789012:table/x';
const broken = userApi(TEST_ROUTES.echo, async () => {
  throw new Error(INTERNAL_DETAIL);
});

const wipeEvent = (claims?: Record<string, string>, options: EventOptions = {}) =>
  apiEvent({
    method: 'POST',
    path: `/api/test/${DEVICE_ID}/wipe`,
    routeKey: 'POST /api/test/{deviceId}/wipe',
    pathParameters: { deviceId: DEVICE_ID },
    ...(claims ? { claims } : {}),
    ...options,
  });
const echoEvent = (body: string | undefined, claims = accessClaims(), options: EventOptions = {}) =>
  apiEvent({
    method: 'POST',
    path: '/api/test/echo',
    claims,
    ...(body !== undefined ? { body } : {}),
    ...options,
  });
/** Access-token claims of a sign-in `secondsAgo` before the (faked) now. */
const signedInAgo = (secondsAgo: number) =>
  accessClaims({ auth_time: String(Math.floor(Date.now() / 1000) - secondsAgo) });

beforeEach(() => {
  dynamo.reset();
  ok.mockClear();
  freshClock();
  dynamo.on(GetCommand).resolves({});
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the shared handler stack: authentication', () => {
  it('answers 401 with a JSON error when the request carries no JWT claims', async () => {
    const result = await wipe(wipeEvent(), lambdaContext());

    expect(result.statusCode).toBe(401);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('UNAUTHORIZED');
    expect(ok).not.toHaveBeenCalled();
  });

  it('answers 401 to an ID token (token_use id): only access tokens are accepted', async () => {
    const result = await wipe(wipeEvent(idTokenClaims()), lambdaContext());

    expect(result.statusCode).toBe(401);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('UNAUTHORIZED');
    expect(ok).not.toHaveBeenCalled();
  });

  it('answers 401 to access-token claims without a sub', async () => {
    const { sub: _sub, ...withoutSub } = accessClaims();

    const result = await wipe(wipeEvent(withoutSub), lambdaContext());

    expect(result.statusCode).toBe(401);
  });
});

describe('the shared handler stack: a prefetch', () => {
  const wipeRoute = { ...TEST_ROUTES.wipe, pathParameters: z.strictObject({ deviceId: uuid }) };

  it('starts the read before the settings read has answered, with the caller and the path', async () => {
    const order: string[] = [];
    dynamo.on(GetCommand).callsFake(async () => {
      order.push('settings read');
      await new Promise((r) => setTimeout(r, 20));
      order.push('settings answered');
      return {};
    });
    const prefetch = vi.fn(async (caller: { sub: string }, path: { deviceId: string }) => {
      order.push(`prefetch ${caller.sub} ${path.deviceId}`);
      return 'the device';
    });
    const handler = userApi(
      wipeRoute,
      async ({ prefetched }) => ({ status: 200, body: { got: await prefetched } }),
      {
        prefetch,
      },
    );

    const result = await handler(wipeEvent(groupClaims(['portal-admins'])), lambdaContext());

    expect(jsonBody<{ got: string }>(result)).toEqual({ got: 'the device' });
    expect(order.indexOf(`prefetch ${ALICE_SUB} ${DEVICE_ID}`)).toBeLessThan(
      order.indexOf('settings answered'),
    );
  });

  it('never hands what it read to a caller the role check refuses', async () => {
    const useCase = vi.fn(async () => ({ status: 200 }));
    const handler = userApi(wipeRoute, useCase, { prefetch: async () => 'the device' });

    const result = await handler(wipeEvent(accessClaims()), lambdaContext());

    expect(result.statusCode).toBe(403);
    expect(useCase).not.toHaveBeenCalled();
  });

  it('lets a failed read of a refused request go without an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const handler = userApi(wipeRoute, ok, {
        prefetch: async () => {
          throw new Error('read failed');
        },
      });
      const result = await handler(wipeEvent(accessClaims()), lambdaContext());
      await new Promise((r) => setTimeout(r, 10));

      expect(result.statusCode).toBe(403);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('the shared handler stack: authorization', () => {
  it('answers 403 ROLE_REQUIRED, naming the role, when the caller does not hold the route role', async () => {
    const result = await wipe(wipeEvent(accessClaims()), lambdaContext());

    expect(result.statusCode).toBe(403);
    const { error } = jsonBody<ApiErrorBody>(result);
    expect(error.code).toBe('ROLE_REQUIRED');
    expect(error.message).toContain('wipe');
    expect(ok).not.toHaveBeenCalled();
  });

  it('runs the use-case when one of the caller groups grants the route role', async () => {
    const result = await wipe(wipeEvent(groupClaims(['portal-admins'])), lambdaContext());

    expect(result.statusCode).toBe(200);
    expect(ok).toHaveBeenCalledOnce();
  });

  it('answers 403 ADMIN_ONLY on an admin route to a caller outside portal-admins', async () => {
    const result = await admin(
      apiEvent({ path: '/api/test/admin', claims: groupClaims(['field-staff']) }),
      lambdaContext(),
    );

    expect(result.statusCode).toBe(403);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('ADMIN_ONLY');
  });

  it('reads API Gateway array claims in both the "[a b]" and the comma-separated form', () => {
    expect(claimList('[portal-admins field-staff]')).toEqual(['portal-admins', 'field-staff']);
    expect(claimList('[portal-admins, field-staff]')).toEqual(['portal-admins', 'field-staff']);
    expect(claimList('[]')).toEqual([]);
    expect(claimList(undefined)).toEqual([]);
  });
});

describe('the shared handler stack: recent sign-in (rule 9)', () => {
  it('answers 401 RECENT_SIGN_IN_REQUIRED with a step-up challenge when the sign-in is older than 5 minutes', async () => {
    const result = await stepUp(
      apiEvent({
        method: 'POST',
        path: '/api/test/step-up',
        claims: signedInAgo(RECENT_SIGN_IN_SECONDS + 1),
      }),
      lambdaContext(),
    );

    expect(result.statusCode).toBe(401);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('RECENT_SIGN_IN_REQUIRED');
    expect(result.headers?.['www-authenticate']).toBe(
      `Bearer error="insufficient_user_authentication", max_age=${RECENT_SIGN_IN_SECONDS}`,
    );
    expect(ok).not.toHaveBeenCalled();
  });

  it('runs the use-case of a recent-sign-in route for a sign-in within the last 5 minutes', async () => {
    const result = await stepUp(
      apiEvent({ method: 'POST', path: '/api/test/step-up', claims: signedInAgo(60) }),
      lambdaContext(),
    );

    expect(result.statusCode).toBe(200);
    expect(ok).toHaveBeenCalledOnce();
  });

  it('does not ask for a recent sign-in on a route without recentSignIn', async () => {
    const result = await wipe(
      wipeEvent(groupClaims(['portal-admins'], { auth_time: String(Math.floor(Date.now() / 1000) - 3600) })),
      lambdaContext(),
    );

    expect(result.statusCode).toBe(200);
  });
});

describe('the shared handler stack: request and response', () => {
  it('hands the use-case the validated body, the caller with its roles, path parameters and client facts', async () => {
    const result = await echo(echoEvent('{"note":"hello"}'), lambdaContext());

    expect(result.statusCode).toBe(201);
    expect(jsonBody<Record<string, unknown>>(result)).toEqual({
      note: 'hello',
      caller: expect.objectContaining({
        sub: ALICE_SUB,
        groups: [],
        isAdmin: false,
        authTime: Number(accessClaims().auth_time),
        roles: expect.arrayContaining(['self-service']),
      }),
      pathParameters: {},
      sourceIp: '203.0.113.7',
      userAgent: 'vitest',
      origin: 'https://portal.example.com',
    });
  });

  it('answers 400 MALFORMED_JSON to a body that is not JSON', async () => {
    const result = await echo(echoEvent('{"note":'), lambdaContext());

    expect(result.statusCode).toBe(400);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('MALFORMED_JSON');
  });

  it('answers 400 VALIDATION_FAILED, naming the field, to a body with a wrong type', async () => {
    const result = await echo(echoEvent('{"note":42}'), lambdaContext());

    expect(result.statusCode).toBe(400);
    const { error } = jsonBody<ApiErrorBody>(result);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('note');
  });

  it('answers 400 VALIDATION_FAILED, naming it, to a body with a field the schema does not know', async () => {
    const result = await echo(echoEvent('{"note":"x","admin":true}'), lambdaContext());

    expect(result.statusCode).toBe(400);
    const { error } = jsonBody<ApiErrorBody>(result);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('admin');
  });

  it("shows zod's generic message with the field it is about, as a sentence, without a 'Check the request' prefix", async () => {
    const result = await echo(echoEvent('{"note":42}'), lambdaContext());

    expect(jsonBody<ApiErrorBody>(result).error.message).toBe(
      'note: Invalid input: expected string, received number.',
    );
  });

  it("shows a schema's own sentence as it is, once however many fields it is about", async () => {
    const choose = userApi(
      { ...TEST_ROUTES.echo, body: z.strictObject({ phone: platform, tablet: platform }) },
      ok,
    );

    const result = await choose(echoEvent('{"phone":"WINDOWS","tablet":"BLACKBERRY"}'), lambdaContext());

    expect(jsonBody<ApiErrorBody>(result).error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'Choose iPhone/iPad or Android.',
    });
    expect(ok).not.toHaveBeenCalled();
  });

  it('joins different problems into one text, a sentence each', async () => {
    const choose = userApi(
      { ...TEST_ROUTES.echo, body: z.strictObject({ phone: platform, note: z.string() }) },
      ok,
    );

    const result = await choose(echoEvent('{"phone":"WINDOWS","note":1}'), lambdaContext());

    expect(jsonBody<ApiErrorBody>(result).error.message).toBe(
      'Choose iPhone/iPad or Android. note: Invalid input: expected string, received number.',
    );
  });

  it('names the query as the field of a query-string problem, without a prefix', async () => {
    const result = await echo(
      echoEvent('{"note":"x"}', accessClaims(), { queryStringParameters: { debug: '1' } }),
      lambdaContext(),
    );

    expect(jsonBody<ApiErrorBody>(result).error.message).toMatch(/^query: .*debug.*\.$/);
  });

  it('sends the details of a typed error as error.details', async () => {
    const choose = userApi(TEST_ROUTES.echo, async () => {
      throw new PortalError('CONFLICT', 'CHOOSE_REGISTRATION', 'Choose one.', undefined, undefined, {
        choices: [{ deviceId: DEVICE_ID }],
      });
    });

    const result = await choose(echoEvent(undefined), lambdaContext());

    expect(result.statusCode).toBe(409);
    expect(jsonBody<unknown>(result)).toEqual({
      error: {
        code: 'CHOOSE_REGISTRATION',
        message: 'Choose one.',
        details: { choices: [{ deviceId: DEVICE_ID }] },
      },
    });
  });

  it('answers 413 BODY_TOO_LARGE to a body over the cap, before parsing it', async () => {
    const result = await echo(echoEvent(`{"note":"${'x'.repeat(MAX_BODY_BYTES)}"}`), lambdaContext());

    expect(result.statusCode).toBe(413);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('BODY_TOO_LARGE');
  });

  it('decodes a base64-encoded body, as API Gateway sends binary payloads', async () => {
    const event = echoEvent(Buffer.from('{"note":"b64"}').toString('base64'));
    event.isBase64Encoded = true;

    const result = await echo(event, lambdaContext());

    expect(jsonBody<{ note: string }>(result).note).toBe('b64');
  });

  it('answers 415 JSON_REQUIRED to a body sent with a content type other than JSON', async () => {
    const result = await echo(
      echoEvent('note=hello', accessClaims(), { headers: { 'content-type': 'text/plain' } }),
      lambdaContext(),
    );

    expect(result.statusCode).toBe(415);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('JSON_REQUIRED');
  });

  it('answers 400 UNEXPECTED_BODY to a body on a route that takes none, without running the use-case', async () => {
    const result = await wipe(
      wipeEvent(groupClaims(['portal-admins']), { body: '{"force":true}' }),
      lambdaContext(),
    );

    expect(result.statusCode).toBe(400);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('UNEXPECTED_BODY');
    expect(ok).not.toHaveBeenCalled();
  });

  it('answers 404 NOT_FOUND to a path parameter that fails its schema, without running the use-case', async () => {
    const result = await wipe(
      wipeEvent(groupClaims(['portal-admins']), { pathParameters: { deviceId: '..%2FCONFIG' } }),
      lambdaContext(),
    );

    expect(result.statusCode).toBe(404);
    expect(jsonBody<ApiErrorBody>(result).error.code).toBe('NOT_FOUND');
    expect(ok).not.toHaveBeenCalled();
  });

  it('answers 400 VALIDATION_FAILED, naming it, to a query parameter the route does not know', async () => {
    const result = await echo(
      echoEvent('{"note":"hi"}', accessClaims(), { queryStringParameters: { debug: '1' } }),
      lambdaContext(),
    );

    expect(result.statusCode).toBe(400);
    const { error } = jsonBody<ApiErrorBody>(result);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('debug');
  });

  it('takes the source address from CloudFront-Viewer-Address, not from X-Forwarded-For', async () => {
    const event = echoEvent('{"note":"ip"}', accessClaims(), {
      headers: { 'cloudfront-viewer-address': '198.51.100.23:50312', 'x-forwarded-for': '192.0.2.66' },
    });

    const result = await echo(event, lambdaContext());

    expect(jsonBody<{ sourceIp: string }>(result).sourceIp).toBe('198.51.100.23');
  });

  it('takes an IPv6 viewer address without its port', async () => {
    const event = echoEvent('{"note":"ip"}', accessClaims(), {
      headers: { 'cloudfront-viewer-address': '2001:db8::7:443' },
    });

    const result = await echo(event, lambdaContext());

    expect(jsonBody<{ sourceIp: string }>(result).sourceIp).toBe('2001:db8::7');
  });

  it('hands the use-case the configured PORTAL_ORIGIN, whatever Host or X-Forwarded-Host say', async () => {
    const event = echoEvent('{"note":"o"}', accessClaims(), {
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', forwarded: 'host=evil.example' },
    });

    const result = await echo(event, lambdaContext());

    expect(jsonBody<{ origin: string }>(result).origin).toBe('https://portal.example.com');
  });

  it('answers 503 SERVICE_UNAVAILABLE with retry-after 5 when DynamoDB throttles', async () => {
    dynamo.on(GetCommand).rejects(
      new ProvisionedThroughputExceededException({
        message: 'The level of configured provisioned throughput for the table was exceeded.',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const result = await wipe(wipeEvent(groupClaims(['portal-admins'])), lambdaContext());

    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('5');
    expect(jsonBody<ApiErrorBody>(result).error).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.any(String),
    });
    expect(result.body).not.toContain('provisioned throughput');
    expect(ok).not.toHaveBeenCalled();
  });

  it('answers a typed error with its status, code, message and Retry-After', async () => {
    const limited = userApi(TEST_ROUTES.echo, async () => {
      throw new PortalError('RATE_LIMITED', 'TOO_MANY_INVITATIONS', 'Wait an hour.', 3600);
    });

    const result = await limited(echoEvent(undefined), lambdaContext());

    expect(result.statusCode).toBe(429);
    expect(result.headers?.['retry-after']).toBe('3600');
    expect(jsonBody<ApiErrorBody>(result)).toEqual({
      error: { code: 'TOO_MANY_INVITATIONS', message: 'Wait an hour.' },
    });
  });

  it('answers an unexpected error with 500 and a generic message, never the internal one', async () => {
    const result = await broken(echoEvent(undefined), lambdaContext());

    expect(result.statusCode).toBe(500);
    expect(jsonBody<ApiErrorBody>(result).error).toEqual({
      code: 'INTERNAL',
      message: expect.any(String),
    });
    expect(result.body).not.toContain('ProvisionedThroughputExceeded');
    expect(result.body).not.toContain('arn:aws');
  });

  it('answers 500 without detail when the settings cannot be read', async () => {
    dynamo.on(GetCommand).rejects(new Error(INTERNAL_DETAIL));

    const result = await wipe(wipeEvent(groupClaims(['portal-admins'])), lambdaContext());

    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('arn:aws');
  });

  it.each([
    ['401', () => wipe(wipeEvent(), lambdaContext())],
    ['403', () => wipe(wipeEvent(accessClaims()), lambdaContext())],
    ['400', () => echo(echoEvent('nope'), lambdaContext())],
    ['500', () => broken(echoEvent(undefined), lambdaContext())],
  ])('answers a %s as JSON { error: { code, message } } that is not cached', async (_status, call) => {
    const result = await call();

    expect(result.headers?.['content-type']).toMatch(/^application\/json/);
    expect(result.headers?.['cache-control']).toBe('no-store');
    expect(jsonBody<ApiErrorBody>(result)).toEqual({
      error: { code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) },
    });
    expect(jsonBody<ApiErrorBody>(result).error.message.length).toBeGreaterThan(10);
  });
});
