import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type Code,
  Function as LambdaFunction,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Route } from '../functions/routes.ts';

/** What every portal function can reach; the route decides which of it it may use. */
export interface PortalResources {
  readonly tableName: string;
  readonly tableArn: string;
  /** Name of the table's one GSI; Query permission covers exactly this index. */
  readonly tableIndexName: string;
  readonly userPoolId: string;
  readonly userPoolArn: string;
  readonly userPoolClientId: string;
  /** SES sender, e.g. no-reply@example.com. */
  readonly sesFromAddress: string;
  /** `https://<portal host>`: the only source of links in mail, SMS and profiles (never a request header). */
  readonly portalOrigin: string;
  /** The secret CloudFront sends as x-origin-verify; every function checks it. */
  readonly originSecretArn: string;
  /** The HMAC key of one-time secrets (read only by routes with permissions.oneTimeSecretKey). */
  readonly oneTimeSecretKeyArn: string;
  /** The KMS key wrapping certificates' private keys (used only by routes with permissions.certificateKey). */
  readonly certificateKeyArn: string;
  /** SNS platform applications for push wake-ups, when configured (context). */
  readonly pushApplicationArns: { readonly apns?: string; readonly fcm?: string };
}

/** Namespace of the handlers' CloudWatch EMF metrics (WrongPin, RateLimited, LostRace, DeliveryFailed, ServiceUnavailable). */
export const METRICS_NAMESPACE = 'DevicePortal';

/** The environment of every portal function: names and values, from the route-independent resources. */
export function functionEnvironment(resources: PortalResources): Record<string, string> {
  const { apns, fcm } = resources.pushApplicationArns;
  return {
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    TABLE_NAME: resources.tableName,
    USER_POOL_ID: resources.userPoolId,
    USER_POOL_CLIENT_ID: resources.userPoolClientId,
    SES_FROM_ADDRESS: resources.sesFromAddress,
    PORTAL_ORIGIN: resources.portalOrigin,
    ORIGIN_SECRET_ARN: resources.originSecretArn,
    ONE_TIME_SECRET_KEY_ARN: resources.oneTimeSecretKeyArn,
    CERTIFICATE_KEY_ARN: resources.certificateKeyArn,
    ...(apns ? { SNS_APNS_APPLICATION_ARN: apns } : {}),
    ...(fcm ? { SNS_FCM_APPLICATION_ARN: fcm } : {}),
  };
}

export interface PortalFunctionProps {
  readonly route: Route;
  /** The route's bundle (infra/bundling/function-code.ts). */
  readonly code: Code;
  readonly resources: PortalResources;
}

/** Service name in every log line (Powertools), so all routes share one CloudWatch Logs Insights query. */
export const POWERTOOLS_SERVICE_NAME = 'device-portal';

/**
 * The project-default Lambda function for one route of functions/routes.ts: newest Node.js runtime,
 * arm64, active tracing, one ESM bundle with the AWS SDK inside (no reliance on the runtime's SDK version), source
 * maps, its own log group, and an IAM role holding exactly the route's declared permissions.
 */
export class PortalFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PortalFunctionProps) {
    super(scope, id);
    const { route, resources } = props;

    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      // Stateless stack: logs go with the function; audit events live in the table.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.logGroup = logGroup;

    // An explicit role instead of the default one: the default attaches the managed
    // AWSLambdaBasicExecutionRole (logs:* on every log group); this one may write only its own.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${route.method} ${route.path}`,
    });
    logGroup.grantWrite(this.role);
    this.grantRoutePermissions(route, resources);

    this.function = new LambdaFunction(this, 'Function', {
      // Bundled with all the other functions in one esbuild run (infra/bundling/function-build.ts).
      code: props.code,
      handler: 'index.handler',
      description: `${route.method} ${route.path}`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      role: this.role,
      logGroup,
      // Lambda's active X-Ray tracing, not the Powertools tracer (too large for the bundle budget).
      tracing: Tracing.ACTIVE,
      environment: functionEnvironment(resources),
    });
    this.acknowledgeTracing();
  }

  /** X-Ray's write actions (added by tracing: ACTIVE) have no resource to scope to. */
  private acknowledgeTracing(): void {
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions; sns:Publish to phone numbers (SMS routes) has no resource ARN either.',
    });
  }

  /** Maps RoutePermissions one to one onto IAM statements. */
  private grantRoutePermissions(route: Route, resources: PortalResources): void {
    const stack = Stack.of(this);
    const {
      table: tableActions,
      sendEmail,
      sendSms,
      cognito,
      oneTimeSecretKey,
      push,
      certificateKey,
    } = route.permissions;

    // Every function checks the origin header CloudFront adds (DESIGN §8 rule 13).
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [resources.originSecretArn],
      }),
    );

    if (tableActions && tableActions.length > 0) {
      const tableArn = resources.tableArn;
      this.role.addToPolicy(new PolicyStatement({ actions: [...tableActions], resources: [tableArn] }));
      // Of the table actions only Query works on an index: grant it on the one index, not index/*.
      if (tableActions.includes('dynamodb:Query')) {
        this.role.addToPolicy(
          new PolicyStatement({
            actions: ['dynamodb:Query'],
            resources: [`${tableArn}/index/${resources.tableIndexName}`],
          }),
        );
      }
    }

    if (sendEmail) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ['ses:SendEmail'],
          resources: sesSenderIdentityArns(stack, resources.sesFromAddress),
        }),
      );
    }

    if (sendSms) {
      this.role.addToPolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }));
    }

    if (cognito && cognito.length > 0) {
      this.role.addToPolicy(
        new PolicyStatement({ actions: [...cognito], resources: [resources.userPoolArn] }),
      );
    }

    if (oneTimeSecretKey) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [resources.oneTimeSecretKeyArn],
        }),
      );
    }

    const applications = [resources.pushApplicationArns.apns, resources.pushApplicationArns.fcm].filter(
      (arn): arn is string => arn !== undefined,
    );
    // Without platform applications (context) there is no push: no grant at all.
    if (push && applications.length > 0) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: PUSH_APPLICATION_ACTIONS,
          resources: applications,
        }),
      );
      this.role.addToPolicy(
        new PolicyStatement({ actions: ['sns:Publish'], resources: [pushEndpointsArn(stack)] }),
      );
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'sns', 'endpoint/*')}]`,
        reason:
          "Device endpoints are created at run time (one per enrolled device), so their ARNs cannot be listed; the wildcard covers only this account's and region's SNS mobile endpoints, for sns:Publish alone.",
      });
    }

    if (certificateKey) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [resources.certificateKeyArn],
        }),
      );
    }
  }
}

/** What a push route may do on the APNs and FCM platform applications. */
export const PUSH_APPLICATION_ACTIONS = [
  'sns:CreatePlatformEndpoint',
  'sns:SetEndpointAttributes',
  'sns:GetEndpointAttributes',
];

/** Every SNS mobile push endpoint of this account and region (endpoint/APNS/app/id, endpoint/GCM/app/id). */
export function pushEndpointsArn(stack: Stack): string {
  return stack.formatArn({ service: 'sns', resource: 'endpoint/*', arnFormat: ArnFormat.NO_RESOURCE_NAME });
}

/** An ARN as cdk-nag renders it in finding ids: unresolved pseudo parameters as <AWS::X>. */
function nagArn(stack: Stack, service: string, resource: string): string {
  const shown = (value: string, pseudo: string): string =>
    Token.isUnresolved(value) ? `<${pseudo}>` : value;
  return `arn:${shown(stack.partition, 'AWS::Partition')}:${service}:${shown(stack.region, 'AWS::Region')}:${shown(stack.account, 'AWS::AccountId')}:${resource}`;
}

/**
 * SES authorizes SendEmail against the identity that verified the sender: the address itself, or
 * its domain. Which one the operator verified is not known at synth time, so both ARNs are
 * allowed; both name only the configured sender.
 */
export function sesSenderIdentityArns(stack: Stack, fromAddress: string): string[] {
  // "Device Portal <no-reply@example.com>" is a valid sender too: the identity is the address in it.
  const address = /<([^>]+)>/.exec(fromAddress)?.[1] ?? fromAddress.trim();
  const domain = address.split('@')[1];
  if (!domain) {
    throw new Error(`sesFromAddress must be an email address, got "${fromAddress}"`);
  }
  return [domain, address].map((identity) =>
    stack.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: identity,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  );
}
