import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { needsUserToken, type Route, routes } from '../../functions/routes.ts';
import { routeThrottle } from '../../infra/throttling.ts';
import { type BuiltPortal, buildPortal, FIXTURE_PUSH } from './build-portal.ts';
import { fixtureRoutes } from './fixtures/routes.ts';
import {
  type CfnResourceJson,
  expectedGrants,
  grantsOfRole,
  portalFunctions,
  referencedId,
  resourcesOfType,
  routeKey,
} from './template-queries.ts';

// The real table, and a fixture that also has admin, public and agent routes and SES/SNS/Cognito permissions.
interface Setup {
  readonly routeTable: readonly Route[];
  readonly push: Partial<typeof FIXTURE_PUSH>;
}

describe.each([
  { table: 'functions/routes.ts', routeTable: routes, push: {} },
  { table: 'a fixture with every access and permission kind', routeTable: fixtureRoutes, push: {} },
  {
    table: 'the fixture, with APNs and FCM platform applications configured',
    routeTable: fixtureRoutes,
    push: FIXTURE_PUSH,
  },
  {
    table: 'the fixture, with only an FCM platform application',
    routeTable: fixtureRoutes,
    push: { fcmPlatformApplicationArn: FIXTURE_PUSH.fcmPlatformApplicationArn },
  },
])('stateless stack built from $table', ({ routeTable, push }: Setup) => {
  let portal: BuiltPortal;
  let template: Template;
  let functions: Record<string, CfnResourceJson>;
  let apiRoutes: CfnResourceJson[];

  beforeAll(() => {
    portal = buildPortal(routeTable, {}, push);
    template = Template.fromStack(portal.stateless);
    functions = portalFunctions(template);
    apiRoutes = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route'));
  });

  function routeOfFunction(fn: CfnResourceJson): Route {
    const route = routeTable.find((candidate) => routeKey(candidate) === fn.Properties.Description);
    if (!route) throw new Error(`function ${String(fn.Properties.Description)} matches no route`);
    return route;
  }

  it('creates one Lambda function per route-table entry', () => {
    const described = Object.values(functions).map((fn) => fn.Properties.Description);
    expect(described).toHaveLength(routeTable.length);
    expect(new Set(described)).toEqual(new Set(routeTable.map(routeKey)));
  });

  it('creates one API route per route-table entry, keyed by method and path', () => {
    const keys = apiRoutes.map((route) => route.Properties.RouteKey);
    expect(keys).toHaveLength(routeTable.length);
    expect(new Set(keys)).toEqual(new Set(routeTable.map(routeKey)));
  });

  it('puts the Cognito JWT authorizer on exactly the user and admin routes', () => {
    for (const route of routeTable) {
      const apiRoute = apiRoutes.find((candidate) => candidate.Properties.RouteKey === routeKey(route));
      expect(apiRoute?.Properties.AuthorizationType, routeKey(route)).toBe(
        needsUserToken(route) ? 'JWT' : 'NONE',
      );
    }
  });

  it("integrates each API route with its own route's function", () => {
    const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
    for (const apiRoute of apiRoutes) {
      const target = JSON.stringify(apiRoute.Properties.Target);
      const integrationId = Object.keys(integrations).find((id) => target.includes(`"${id}"`));
      const functionId = referencedId(integrations[integrationId ?? '']?.Properties.IntegrationUri);
      expect(functions[functionId]?.Properties.Description).toBe(apiRoute.Properties.RouteKey);
    }
  });

  it("grants each function exactly its route's declared permissions, plus writing its own log group", () => {
    for (const fn of Object.values(functions)) {
      const route = routeOfFunction(fn);
      const roleId = referencedId(fn.Properties.Role);
      const logGroupId = referencedId((fn.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup);
      expect(grantsOfRole(template, roleId), route.name).toEqual(
        expectedGrants(portal, route, logGroupId, push),
      );
    }
  });

  it('traces every function with active X-Ray tracing', () => {
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.TracingConfig, String(fn.Properties.Description)).toEqual({ Mode: 'Active' });
    }
  });

  it('alarms on errors and on throttles of every function, notifying the alarm topic', () => {
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
    const [topicId] = Object.keys(resourcesOfType(template, 'AWS::SNS::Topic'));
    for (const [functionId] of Object.entries(functions)) {
      for (const metricName of ['Errors', 'Throttles']) {
        const alarm = alarms.find(
          (candidate) =>
            candidate.Properties.MetricName === metricName &&
            candidate.Properties.Namespace === 'AWS/Lambda' &&
            JSON.stringify(candidate.Properties.Dimensions).includes(`"${functionId}"`),
        );
        expect(alarm, `${metricName} alarm of ${functionId}`).toBeDefined();
        expect(alarm?.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      }
    }
  });

  it('throttles each public and agent route on its own (its throttle, else its access kind), and no other', () => {
    const [stage] = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage'));
    const settings = (stage?.Properties.RouteSettings ?? {}) as Record<string, unknown>;
    const expected = Object.fromEntries(
      routeTable.flatMap((route) => {
        const throttle = routeThrottle(route);
        return throttle
          ? [
              [
                routeKey(route),
                { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit },
              ],
            ]
          : [];
      }),
    );
    expect(settings).toEqual(expected);
    for (const route of routeTable.filter((r) => r.access === 'public' || r.access === 'agent')) {
      expect(settings[routeKey(route)], routeKey(route)).toBeDefined();
    }
    for (const route of routeTable.filter((r) => r.throttle)) {
      expect(settings[routeKey(route)]).toEqual({
        ThrottlingRateLimit: route.throttle?.rateLimit,
        ThrottlingBurstLimit: route.throttle?.burstLimit,
      });
    }
  });

  it('runs every function on nodejs24.x and arm64', () => {
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('gives every function exactly the environment of the handler contract', () => {
    const pushNames = [
      ...(push.apnsPlatformApplicationArn ? ['SNS_APNS_APPLICATION_ARN'] : []),
      ...(push.fcmPlatformApplicationArn ? ['SNS_FCM_APPLICATION_ARN'] : []),
    ];
    for (const fn of Object.values(functions)) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(variables).sort()).toEqual(
        [
          'CERTIFICATE_KEY_ARN',
          'NODE_OPTIONS',
          'ONE_TIME_SECRET_KEY_ARN',
          'ORIGIN_SECRET_ARN',
          'PORTAL_ORIGIN',
          'POWERTOOLS_METRICS_NAMESPACE',
          'POWERTOOLS_SERVICE_NAME',
          'SES_FROM_ADDRESS',
          'TABLE_NAME',
          'USER_POOL_CLIENT_ID',
          'USER_POOL_ID',
          ...pushNames,
        ].sort(),
      );
      const resolve = (value: string): unknown => portal.stateless.resolve(value);
      expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(variables.POWERTOOLS_SERVICE_NAME).toBe('device-portal');
      expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe('DevicePortal');
      expect(variables.TABLE_NAME).toEqual(resolve(portal.stateless.shared.tableName));
      expect(variables.ORIGIN_SECRET_ARN).toEqual(resolve(portal.stateless.originSecret.secretArn));
      expect(variables.ONE_TIME_SECRET_KEY_ARN).toEqual(resolve(portal.stateless.shared.oneTimeSecretKeyArn));
      expect(variables.CERTIFICATE_KEY_ARN).toEqual(resolve(portal.stateless.shared.certificateKeyArn));
      expect(variables.SNS_APNS_APPLICATION_ARN).toBe(push.apnsPlatformApplicationArn);
      expect(variables.SNS_FCM_APPLICATION_ARN).toBe(push.fcmPlatformApplicationArn);
    }
  });
});
