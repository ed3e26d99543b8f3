import type { Environment } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../functions/routes.ts';
import type { PortalOptions } from '../../infra/portal.ts';
import { type BuiltPortal, buildPortal, FIXTURE_PUSH } from './build-portal.ts';
import { fixtureRoutes } from './fixtures/routes.ts';

const CONCRETE_ENV: Environment = { account: '123456789012', region: 'eu-west-1' };

/**
 * cdk-nag 3 is a validation plugin: its findings go to the validation report, not to annotations,
 * so the pack is run directly over the app (validateScope, its documented test entry point).
 */
describe.each([
  { setup: 'functions/routes.ts, environment-agnostic', routeTable: undefined, env: {} },
  // A concrete env renders ARNs differently (literal partition/region), which acknowledgement ids must match.
  { setup: 'functions/routes.ts, account and region set', routeTable: undefined, env: CONCRETE_ENV },
  { setup: 'the fixture route table', routeTable: fixtureRoutes, env: {} },
  // Push grants a wildcard on SNS endpoints; its acknowledgement must match in both renderings.
  { setup: 'the fixture route table with push', routeTable: fixtureRoutes, env: {}, extra: FIXTURE_PUSH },
  {
    setup: 'the fixture with push, a portal domain, alarm email, account and region set',
    routeTable: fixtureRoutes,
    env: CONCRETE_ENV,
    extra: {
      ...FIXTURE_PUSH,
      portalDomain: 'portal.corp.test',
      portalCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0000-1111',
      alarmEmail: 'ops@corp.test',
    },
  },
])(
  'cdk-nag AwsSolutions with $setup',
  ({
    routeTable,
    env,
    extra,
  }: {
    routeTable?: readonly Route[];
    env: Environment;
    extra?: Partial<PortalOptions>;
  }) => {
    let portal: BuiltPortal;

    beforeAll(() => {
      portal = buildPortal(routeTable, env, extra);
    });

    it('reports no unacknowledged error or warning', () => {
      const report = new AwsSolutionsChecks().validateScope(portal.app);
      const findings = report.violations.map(
        (violation) =>
          `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(findings).toEqual([]);
    });

    it('leaves no AwsSolutions error or warning annotation on either stack', () => {
      for (const stack of [portal.stateful, portal.stateless]) {
        const annotations = Annotations.fromStack(stack);
        expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
        expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      }
    });

    it('leaves no CDK warning at all (deprecations, ignored properties)', () => {
      for (const stack of [portal.stateful, portal.stateless]) {
        expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
      }
    });
  },
);
