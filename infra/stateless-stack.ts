import fs from 'node:fs';
import path from 'node:path';
import { CfnOutput, SecretValue, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import {
  type Access,
  handlerFile,
  needsUserToken,
  type Route,
  routes as routeTable,
} from '../functions/routes.ts';
import { PortalAlarms } from './alarms.ts';
import { functionCodes } from './bundling/function-code.ts';
import { REPO_ROOT, WEB_DIST } from './paths.ts';
import { PortalFunction } from './portal-function.ts';
import { consumeSharedValues, type SharedValues } from './shared-values.ts';
import type { StatefulStack } from './stateful-stack.ts';
import { routeThrottle, STAGE_THROTTLE } from './throttling.ts';
import { WebHosting } from './web-hosting.ts';

export interface StatelessStackProps extends StackProps {
  /** Read through SSM parameters at deploy time (shared-values.ts), never by a CDK reference. */
  readonly stateful: StatefulStack;
  readonly tableIndexName: string;
  readonly sesFromAddress: string;
  /** The route table to build; defaults to functions/routes.ts (tests pass their own). */
  readonly routes?: readonly Route[];
  /** The handler module of a route, relative to the repository root; defaults to handlerFile. */
  readonly handlerEntry?: (route: Route) => string;
  /** The built portal; defaults to web/dist. */
  readonly webDistPath?: string;
  /** Subscribed to the alarm topic when set. */
  readonly alarmEmail?: string;
  /** The portal's host name (CloudFront alias) and its ACM certificate in us-east-1. */
  readonly portalDomain?: string;
  readonly portalCertificateArn?: string;
  /** SNS platform applications for push wake-ups (optional). */
  readonly apnsPlatformApplicationArn?: string;
  readonly fcmPlatformApplicationArn?: string;
  /** The origin secret version CloudFront sends; unset: AWSCURRENT when the distribution was last updated. */
  readonly originSecretVersion?: string;
}

/**
 * The x-origin-verify value as a CloudFormation dynamic reference, so the secret is never in the
 * template. Pinning a version id changes the template, which is what makes a deploy update
 * CloudFront after a rotation (an unchanged reference is not resolved again).
 */
export function originVerifyHeaderValue(secret: Secret, versionId?: string): string {
  return SecretValue.secretsManager(secret.secretArn, versionId ? { versionId } : {}).unsafeUnwrap();
}

/** Why a route may go without the JWT authorizer (cdk-nag APIG4); user and admin routes never do. */
const UNAUTHORIZED_ROUTE_REASON: Partial<Record<Access, string>> = {
  public:
    'Public by design (the /go enrollment page and profile download): the handler checks the PIN, password or one-time enrollment token itself, with per-account failure limits and stage throttling.',
  agent:
    'Called by the MDM agent, which has no Cognito user: the handler verifies the device credential (256-bit secret, hashed at rest, revoked on retire/wipe).',
};

/** Everything that can be replaced freely: the HTTP API, one function per route, web hosting. */
export class StatelessStack extends Stack {
  readonly api: HttpApi;
  /** The stateful stack's values as this stack reads them (SSM parameters). */
  readonly shared: SharedValues;
  /** Sent by CloudFront as x-origin-verify on /api/*. */
  readonly originSecret: Secret;
  /** `https://<portal host>`, every function's PORTAL_ORIGIN. */
  readonly portalOrigin: string;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const shared = consumeSharedValues(this, props.stateful);
    this.shared = shared;
    const routes = props.routes ?? routeTable;
    const webDistPath = props.webDistPath ?? WEB_DIST;
    // Fail here with the fix instead of deep inside asset staging.
    for (const required of ['index.html', 'assets']) {
      if (!fs.existsSync(path.join(webDistPath, required))) {
        throw new Error(`${webDistPath}/${required} not found: run npm run build:web first.`);
      }
    }

    this.api = new HttpApi(this, 'Api', {
      description: 'Device self-service portal API (reached through CloudFront /api/*)',
      createDefaultStage: false,
    });

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.ONE_MONTH });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: STAGE_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    const userToken = new HttpJwtAuthorizer(
      'UserToken',
      `https://cognito-idp.${this.region}.amazonaws.com/${shared.userPoolId}`,
      // Cognito access tokens carry the app client id in client_id, which the authorizer accepts as audience.
      { jwtAudience: [shared.userPoolClientId] },
    );

    // DESIGN §8 rule 13: CloudFront sends this as x-origin-verify; the handlers refuse requests
    // without it (AWSCURRENT or AWSPREVIOUS), so the execute-api URL is useless on its own.
    const originSecret = new Secret(this, 'OriginSecret', {
      description: 'Device portal: CloudFront origin header x-origin-verify on /api/*',
      // Letters and digits only: safe in an HTTP header without escaping.
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    this.originSecret = originSecret;
    Validations.of(originSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotated by an operator in two steps (put-secret-value, then a deploy with originSecretVersion, README "Rotating the origin secret"), because CloudFront must be redeployed to send the new value; the handlers accept the current and the previous version meanwhile.',
    });

    const web = new WebHosting(this, 'Web', {
      api: this.api,
      webDistPath,
      webConfig: {
        region: this.region,
        userPoolId: shared.userPoolId,
        userPoolClientId: shared.userPoolClientId,
      },
      originVerifyHeader: originVerifyHeaderValue(originSecret, props.originSecretVersion),
      ...(props.portalDomain && props.portalCertificateArn
        ? { domain: { name: props.portalDomain, certificateArn: props.portalCertificateArn } }
        : {}),
    });
    // Links never come from a request header: the portal's own origin, fixed at deploy time.
    const portalOrigin = `https://${props.portalDomain ?? web.distribution.distributionDomainName}`;
    this.portalOrigin = portalOrigin;

    const resources = {
      portalOrigin,
      originSecretArn: originSecret.secretArn,
      oneTimeSecretKeyArn: shared.oneTimeSecretKeyArn,
      certificateKeyArn: shared.certificateKeyArn,
      pushApplicationArns: {
        ...(props.apnsPlatformApplicationArn ? { apns: props.apnsPlatformApplicationArn } : {}),
        ...(props.fcmPlatformApplicationArn ? { fcm: props.fcmPlatformApplicationArn } : {}),
      },
      tableName: shared.tableName,
      tableArn: shared.tableArn,
      tableIndexName: props.tableIndexName,
      userPoolId: shared.userPoolId,
      userPoolArn: shared.userPoolArn,
      userPoolClientId: shared.userPoolClientId,
      sesFromAddress: props.sesFromAddress,
    };

    // One esbuild run for all functions (or none when this stack's bundling is skipped).
    const codes = functionCodes(
      this,
      routes.map((route) => ({
        name: route.name,
        entry: path.join(REPO_ROOT, (props.handlerEntry ?? handlerFile)(route)),
      })),
    );
    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    const functions = new Map<string, PortalFunction['function']>();
    for (const route of routes) {
      const code = codes.get(route.name);
      if (!code) throw new Error(`no bundle for ${route.name}`);
      const fn = new PortalFunction(this, route.name, { route, code, resources });
      functions.set(route.name, fn.function);
      const httpRoute = new HttpRoute(this, `${route.name}Route`, {
        httpApi: this.api,
        routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
        integration: new HttpLambdaIntegration(`${route.name}Integration`, fn.function),
        ...(needsUserToken(route) ? { authorizer: userToken } : {}),
      });
      const throttle = routeThrottle(route);
      if (throttle) {
        routeSettings[`${route.method} ${route.path}`] = {
          ThrottlingRateLimit: throttle.rateLimit,
          ThrottlingBurstLimit: throttle.burstLimit,
        };
        // The stage's route settings name the route, which must exist first.
        stage.node.addDependency(httpRoute);
      }
      const reason = UNAUTHORIZED_ROUTE_REASON[route.access];
      if (!needsUserToken(route) && reason) {
        Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason });
      }
    }

    if (Object.keys(routeSettings).length > 0) {
      (stage.node.defaultChild as CfnStage).routeSettings = routeSettings;
    }

    new PortalAlarms(this, 'Alarms', {
      api: this.api,
      functions,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });

    // No ApiUrl output: the API answers only requests carrying CloudFront's origin secret.
    new CfnOutput(this, 'PortalUrl', {
      value: portalOrigin,
      description: 'The portal; give employees PortalUrl/go for their devices',
    });
  }
}
