import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { Route } from '../../functions/routes.ts';
import type { Portal } from '../../infra/portal.ts';
import { POWERTOOLS_SERVICE_NAME, sesSenderIdentityArns } from '../../infra/portal-function.ts';
import { TABLE_INDEX_NAME } from '../../infra/stateful-stack.ts';

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

interface StatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Template.findResources, typed: every CDK-synthesized resource has Type and Properties. */
export function resourcesOfType(template: Template, type: string): Record<string, CfnResourceJson> {
  return template.findResources(type) as Record<string, CfnResourceJson>;
}

/** The logical id in `{ "Fn::GetAtt": [id, attr] }` or `{ "Ref": id }`. */
export function referencedId(value: unknown): string {
  const ref = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
  const id = ref?.['Fn::GetAtt']?.[0] ?? ref?.Ref;
  if (!id) throw new Error(`not a Ref/GetAtt: ${JSON.stringify(value)}`);
  return id;
}

function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** The portal's route functions (not CDK's own custom-resource handlers), by logical id. */
export function portalFunctions(template: Template): Record<string, CfnResourceJson> {
  const all = resourcesOfType(template, 'AWS::Lambda::Function');
  return Object.fromEntries(
    Object.entries(all).filter(([, fn]) => {
      const env = fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined;
      return env?.Variables?.POWERTOOLS_SERVICE_NAME === POWERTOOLS_SERVICE_NAME;
    }),
  );
}

export function routeKey(route: Route): string {
  return `${route.method} ${route.path}`;
}

/** Every (action, resource) pair the role's attached policies allow, as comparable strings. */
export function grantsOfRole(template: Template, roleLogicalId: string): Set<string> {
  const policies = resourcesOfType(template, 'AWS::IAM::Policy');
  const grants = new Set<string>();
  for (const policy of Object.values(policies)) {
    const roles = policy.Properties.Roles as unknown[];
    if (!roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    const document = policy.Properties.PolicyDocument as { Statement: StatementJson[] };
    for (const statement of document.Statement) {
      if (statement.Effect !== 'Allow') throw new Error('unexpected Deny statement');
      for (const action of asArray(statement.Action)) {
        for (const resource of asArray(statement.Resource)) grants.add(grant(action, resource));
      }
    }
  }
  return grants;
}

function grant(action: string, resource: unknown): string {
  return `${action} on ${JSON.stringify(resource)}`;
}

/**
 * What a route's function should be allowed, derived from the route alone: writing its own log
 * group, plus one grant per declared permission, resolved in the stateless stack as the template
 * shows them.
 */
export function expectedGrants(
  portal: Portal,
  route: Route,
  logGroupLogicalId: string,
  push: { readonly apnsPlatformApplicationArn?: string; readonly fcmPlatformApplicationArn?: string } = {},
): Set<string> {
  const stack: Stack = portal.stateless;
  const resolve = (value: string): unknown => stack.resolve(value);
  const tableArn = portal.stateless.shared.tableArn;
  const expected = new Set<string>();
  for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
    expected.add(grant(action, { 'Fn::GetAtt': [logGroupLogicalId, 'Arn'] }));
  }
  // Active X-Ray tracing (every function); X-Ray has no resource-level permissions.
  for (const action of ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'])
    expected.add(grant(action, '*'));
  // Every function reads the origin secret CloudFront sends.
  expected.add(grant('secretsmanager:GetSecretValue', resolve(portal.stateless.originSecret.secretArn)));
  const {
    table,
    sendEmail,
    sendSms,
    cognito,
    oneTimeSecretKey,
    push: pushes,
    certificateKey,
  } = route.permissions;
  for (const action of table ?? []) {
    expected.add(grant(action, resolve(tableArn)));
    if (action === 'dynamodb:Query')
      expected.add(grant(action, resolve(`${tableArn}/index/${TABLE_INDEX_NAME}`)));
  }
  if (sendEmail) {
    for (const action of ['ses:SendEmail']) {
      for (const arn of sesSenderIdentityArns(stack, 'no-reply@mail.example.com')) {
        expected.add(grant(action, resolve(arn)));
      }
    }
  }
  if (sendSms) expected.add(grant('sns:Publish', '*'));
  for (const action of cognito ?? [])
    expected.add(grant(action, resolve(portal.stateless.shared.userPoolArn)));
  if (oneTimeSecretKey) {
    expected.add(
      grant('secretsmanager:GetSecretValue', resolve(portal.stateless.shared.oneTimeSecretKeyArn)),
    );
  }
  const applications = [push.apnsPlatformApplicationArn, push.fcmPlatformApplicationArn].filter(
    (arn): arn is string => arn !== undefined,
  );
  if (pushes && applications.length > 0) {
    for (const action of [
      'sns:CreatePlatformEndpoint',
      'sns:SetEndpointAttributes',
      'sns:GetEndpointAttributes',
    ]) {
      for (const arn of applications) expected.add(grant(action, arn));
    }
    expected.add(
      grant('sns:Publish', {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':sns:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':endpoint/*',
          ],
        ],
      }),
    );
  }
  if (certificateKey) {
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      expected.add(grant(action, resolve(portal.stateless.shared.certificateKeyArn)));
    }
  }
  return expected;
}
