import type { App, Environment } from 'aws-cdk-lib';
import type { Route } from '../functions/routes.ts';
import type { PortalContext } from './context.ts';
import { StatefulStack, TABLE_INDEX_NAME } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

export interface PortalOptions extends PortalContext {
  /** Override the route table (tests); defaults to functions/routes.ts. */
  readonly routes?: readonly Route[];
  /** The handler module of a route (tests point fixture routes at one file); defaults to handlerFile. */
  readonly handlerEntry?: (route: Route) => string;
  /** Override the built web directory (tests); defaults to web/dist. */
  readonly webDistPath?: string;
  /** Target account/region; defaults to the CLI's (CDK_DEFAULT_ACCOUNT/REGION), if any. */
  readonly env?: Environment;
}

export interface Portal {
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/** The two stacks of the portal. Shared by infra/app.ts and the infra tests, so both build the same thing. */
export function createPortal(app: App, options: PortalOptions): Portal {
  // The CLI's account/region when it has them; synth stays offline and credential-free otherwise.
  const env = options.env ?? {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  };

  const stateful = new StatefulStack(app, 'PortalStateful', {
    env,
    description: 'Device self-service portal: data (DynamoDB table, Cognito user pool), retained on delete',
    adminEmail: options.adminEmail,
    sesFromAddress: options.sesFromAddress,
  });

  const stateless = new StatelessStack(app, 'PortalStateless', {
    env,
    description: 'Device self-service portal: HTTP API, functions, web hosting (CloudFront, S3)',
    stateful,
    tableIndexName: TABLE_INDEX_NAME,
    sesFromAddress: options.sesFromAddress,
    ...(options.routes ? { routes: options.routes } : {}),
    ...(options.handlerEntry ? { handlerEntry: options.handlerEntry } : {}),
    ...(options.webDistPath ? { webDistPath: options.webDistPath } : {}),
    ...(options.alarmEmail ? { alarmEmail: options.alarmEmail } : {}),
    ...(options.portalDomain ? { portalDomain: options.portalDomain } : {}),
    ...(options.portalCertificateArn ? { portalCertificateArn: options.portalCertificateArn } : {}),
    ...(options.apnsPlatformApplicationArn
      ? { apnsPlatformApplicationArn: options.apnsPlatformApplicationArn }
      : {}),
    ...(options.fcmPlatformApplicationArn
      ? { fcmPlatformApplicationArn: options.fcmPlatformApplicationArn }
      : {}),
    ...(options.originSecretVersion ? { originSecretVersion: options.originSecretVersion } : {}),
  });

  return { stateful, stateless };
}
