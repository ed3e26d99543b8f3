/**
 * Issue 7.10: bad input never reaches a 5xx, on any route, whatever the header, path or body. Every
 * route of the table gets thousands of generated requests (fast-check) through the local twin, with
 * and without a valid token; no answer may be a 5xx or carry a stack trace or an internal error text.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsUserToken, type Route, routes } from '../../functions/routes.ts';
import { ALICE, portalUrl, tokensOf } from './helpers.ts';
import { putSettings, resetSettings } from './local-table.ts';

const RUNS_PER_ROUTE = 250;

/** Printable ASCII only: fetch refuses other header bytes before anything is sent. */
const headerText = fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));

const pathSegment = fc.oneof(
  fc.uuid(),
  fc.string({ maxLength: 300 }),
  fc.constantFrom('..', '%2e%2e', '%', '%zz', 'a'.repeat(2000), '00000000-0000-0000-0000-000000000000'),
);

/** Bodies near the schemas (their field names, wrong or right values) and far from them. */
const FIELD_NAMES = [
  'platform',
  'method',
  'delivery',
  'phoneNumber',
  'ownership',
  'username',
  'pin',
  'password',
  'qrToken',
  'enrollmentToken',
  'device',
  'deviceType',
  'manufacturer',
  'osVersion',
  'imei',
  '__proto__',
];
const VALUES = fc.oneof(
  fc.constantFrom('IOS', 'ANDROID', 'PIN', 'QR', 'INVITATION', 'EMAIL', 'SMS', 'EMPLOYEE', '12345678'),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 500 }),
);
const nearSchema = fc.dictionary(fc.constantFrom(...FIELD_NAMES), VALUES, { maxKeys: 8 });
const body = fc.oneof(
  fc.constant(undefined),
  nearSchema.map((value) => JSON.stringify(value)),
  fc.record({ device: nearSchema }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 1000 }),
  fc.constantFrom('{', '{"a":', 'null', '[]', '"x"', '{"username":null}', '\u0000'),
);

interface GeneratedRequest {
  path: string;
  query: [string, string][];
  contentType: string | null;
  authorization: 'none' | 'valid' | 'garbage-bearer' | 'device' | 'random';
  randomAuthorization: string;
  extraHeaders: [string, string][];
  body: string | undefined;
}

function requestFor(route: Route): fc.Arbitrary<GeneratedRequest> {
  const params = route.path.match(/\{\w+\}/g) ?? [];
  return fc.record({
    path: fc.tuple(...params.map(() => pathSegment)).map((values) => {
      let path = route.path;
      for (const [i, name] of params.entries())
        path = path.replace(name, encodeURIComponent(values[i] ?? ''));
      return path;
    }),
    query: fc.array(fc.tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 100 })), { maxLength: 3 }),
    contentType: fc.constantFrom(
      null,
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ),
    authorization: fc.constantFrom('none', 'valid', 'garbage-bearer', 'device', 'random'),
    randomAuthorization: headerText,
    extraHeaders: fc.array(
      fc.tuple(
        fc.constantFrom(
          'x-forwarded-host',
          'forwarded',
          'x-forwarded-for',
          'cloudfront-viewer-address',
          'x-origin-verify',
          'host',
          'user-agent',
          'accept',
        ),
        headerText,
      ),
      { maxLength: 3 },
    ),
    body,
  });
}

const STACK_OR_INTERNALS =
  /\bat (?:\S+ )?\(?\/|node_modules|TypeError|ReferenceError|SyntaxError|Cannot read prop|undefined is not|\.ts:\d+/;

let accessToken = '';

beforeAll(async () => {
  accessToken = (await tokensOf(ALICE)).accessToken;
  // Generated requests come from one address: the per-address limit must not be what answers.
  await putSettings({ goAttemptsPerAddress: 1_000_000, invitationsPerUserPerHour: 1000 });
});

afterAll(async () => {
  await resetSettings();
});

describe.each(routes.map((route) => ({ route, key: `${route.method} ${route.path}` })))(
  'generated requests to $key',
  ({ route }) => {
    it(`never answer 5xx or leak internals (${RUNS_PER_ROUTE} cases)`, { timeout: 300_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(requestFor(route), async (generated) => {
          const headers = new Headers();
          for (const [name, value] of generated.extraHeaders) headers.set(name, value);
          if (generated.contentType) headers.set('content-type', generated.contentType);
          const authorization = {
            none: null,
            valid: `Bearer ${accessToken}`,
            'garbage-bearer': `Bearer ${generated.randomAuthorization || 'x'}`,
            device: `Device ${generated.randomAuthorization}`,
            random: generated.randomAuthorization,
          }[generated.authorization];
          if (authorization) headers.set('authorization', authorization);
          const query = new URLSearchParams(generated.query).toString();
          const response = await fetch(`${portalUrl()}${generated.path}${query ? `?${query}` : ''}`, {
            method: route.method,
            headers,
            body: route.method === 'GET' ? undefined : generated.body,
          });
          const text = await response.text();
          const where = `${route.method} ${generated.path} → ${response.status} ${text.slice(0, 300)}`;
          expect(response.status, where).toBeLessThan(500);
          expect(text, where).not.toMatch(STACK_OR_INTERNALS);
          if (response.status >= 400 && response.headers.get('content-type')?.includes('json')) {
            const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof parsed.error?.code, where).toBe('string');
            expect(typeof parsed.error?.message, where).toBe('string');
          }
          // Routes behind the authorizer never get past it without the valid token (a path that no
          // longer matches the route, such as ../resend, is the router's 404 instead).
          if (
            needsUserToken(route) &&
            generated.authorization !== 'valid' &&
            response.status !== 404 &&
            response.status !== 405
          ) {
            expect(response.status, where).toBe(401);
          }
        }),
        { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
    });
  },
);
