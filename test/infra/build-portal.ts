import fs from 'node:fs';
import path from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import type { Route } from '../../functions/routes.ts';
import { REPO_ROOT } from '../../infra/paths.ts';
import { createPortal, type Portal, type PortalOptions } from '../../infra/portal.ts';
import { FIXTURE_HANDLER, fixtureRoutes } from './fixtures/routes.ts';

interface CdkJson {
  readonly context: Record<string, unknown>;
}

/** cdk.json's context: the same feature flags and defaults the real synth uses. */
export const cdkContext = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as CdkJson)
  .context;

/** SNS platform applications for the tests that configure push. */
export const FIXTURE_PUSH = {
  apnsPlatformApplicationArn: 'arn:aws:sns:eu-west-1:123456789012:app/APNS/device-portal',
  fcmPlatformApplicationArn: 'arn:aws:sns:eu-west-1:123456789012:app/GCM/device-portal',
} as const;

export const FIXTURE_WEB_DIST = path.join(REPO_ROOT, 'test/infra/fixtures/web-dist');

export interface BuiltPortal extends Portal {
  readonly app: App;
}

/**
 * Builds the portal app as infra/app.ts does, but fast: no asset bundling and no built-in
 * CloudFormation validation (DESIGN §12), and a fixture web/dist so tests don't need a web build.
 */
export function buildPortal(
  routes?: readonly Route[],
  env: Environment = {},
  extra: Partial<PortalOptions> = {},
): BuiltPortal {
  const app = new App({
    context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const portal = createPortal(app, {
    adminEmail: 'admin@example.com',
    sesFromAddress: 'no-reply@mail.example.com',
    webDistPath: FIXTURE_WEB_DIST,
    // Environment-agnostic unless a test asks, whatever the shell's CDK_DEFAULT_* say.
    env,
    ...(routes ? { routes } : {}),
    ...(routes === fixtureRoutes ? { handlerEntry: () => FIXTURE_HANDLER } : {}),
    ...extra,
  });
  return { app, ...portal };
}
