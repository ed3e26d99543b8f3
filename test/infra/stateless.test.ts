import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortal } from '../../infra/portal.ts';
import { IMMUTABLE_CACHE_CONTROL, REVALIDATE_CACHE_CONTROL } from '../../infra/web-hosting.ts';
import { type BuiltPortal, buildPortal, cdkContext, FIXTURE_WEB_DIST } from './build-portal.ts';
import { resourcesOfType } from './template-queries.ts';

// Managed policy ids (CloudFront documentation).
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

interface CacheBehaviorJson {
  readonly PathPattern?: string;
  readonly CachePolicyId: string;
  readonly OriginRequestPolicyId?: string;
  readonly AllowedMethods?: string[];
  readonly ViewerProtocolPolicy: string;
  readonly ResponseHeadersPolicyId?: unknown;
  readonly FunctionAssociations?: { EventType: string; FunctionARN: unknown }[];
  readonly TargetOriginId: string;
}

interface DistributionConfigJson {
  readonly DefaultRootObject: string;
  readonly DefaultCacheBehavior: CacheBehaviorJson;
  readonly CacheBehaviors: CacheBehaviorJson[];
  readonly CustomErrorResponses?: unknown;
  readonly Origins: {
    Id: string;
    DomainName: unknown;
    OriginAccessControlId?: unknown;
    S3OriginConfig?: unknown;
  }[];
}

describe('stateless stack', () => {
  let portal: BuiltPortal;
  let template: Template;
  let distribution: DistributionConfigJson;

  beforeAll(() => {
    portal = buildPortal();
    template = Template.fromStack(portal.stateless);
    const [resource] = Object.values(resourcesOfType(template, 'AWS::CloudFront::Distribution'));
    distribution = resource?.Properties.DistributionConfig as DistributionConfigJson;
  });

  function apiBehavior(): CacheBehaviorJson {
    const behavior = distribution.CacheBehaviors.find((candidate) => candidate.PathPattern === '/api/*');
    if (!behavior) throw new Error('no /api/* behaviour');
    return behavior;
  }

  it('has one HTTP API whose JWT authorizer trusts the user pool and its app client', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    const resolve = (value: string): unknown => portal.stateless.resolve(value);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [resolve(portal.stateless.shared.userPoolClientId)],
        Issuer: {
          'Fn::Join': [
            '',
            [
              'https://cognito-idp.',
              { Ref: 'AWS::Region' },
              '.amazonaws.com/',
              resolve(portal.stateless.shared.userPoolId),
            ],
          ],
        },
      },
    });
  });

  it('alarms on API 5xx and on DeliveryFailed (DevicePortal, service device-portal) at 5 in 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: Match.stringLikeRegexp('^Api') } }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmsTopic') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'DevicePortal',
      MetricName: 'DeliveryFailed',
      Dimensions: [{ Name: 'service', Value: 'device-portal' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmsTopic') }],
    });
  });

  it('subscribes no one to the alarm topic unless alarmEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
    const withEmail = createPortal(app, {
      adminEmail: 'a@corp.test',
      sesFromAddress: 'b@corp.test',
      alarmEmail: 'ops@corp.test',
      webDistPath: FIXTURE_WEB_DIST,
      env: {},
    });
    Template.fromStack(withEmail.stateless).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@corp.test',
      TopicArn: { Ref: Match.stringLikeRegexp('AlarmsTopic') },
    });
  });

  it('names its global CloudFront resources after stack and region, so a copy can live in another region', () => {
    const named = [
      ...Object.values(resourcesOfType(template, 'AWS::CloudFront::Function')).map((r) => r.Properties.Name),
      ...Object.values(resourcesOfType(template, 'AWS::CloudFront::ResponseHeadersPolicy')).map(
        (r) => (r.Properties.ResponseHeadersPolicyConfig as { Name: unknown }).Name,
      ),
      ...Object.values(resourcesOfType(template, 'AWS::CloudFront::OriginAccessControl')).map(
        (r) => (r.Properties.OriginAccessControlConfig as { Name: unknown }).Name,
      ),
    ];
    expect(named.length).toBeGreaterThanOrEqual(3);
    for (const name of named) {
      expect(name).toEqual({
        'Fn::Join': ['', ['PortalStateless-', { Ref: 'AWS::Region' }, expect.stringMatching(/^-[a-z-]+$/)]],
      });
    }
  });

  it('throttles the default stage and writes JSON access logs', () => {
    const stages = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage'));
    expect(stages).toHaveLength(1);
    const stage = stages[0]?.Properties as {
      StageName: string;
      AutoDeploy: boolean;
      DefaultRouteSettings: { ThrottlingBurstLimit: number; ThrottlingRateLimit: number };
      AccessLogSettings: { DestinationArn: unknown; Format: string };
    };
    expect(stage.StageName).toBe('$default');
    expect(stage.AutoDeploy).toBe(true);
    expect(stage.DefaultRouteSettings).toEqual({ ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 });
    expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
    });
  });

  it('answers with CSP, two-year HSTS with preload, DENY framing and nosniff', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: {
            ContentSecurityPolicy: Match.anyValue(),
            Override: true,
          },
          StrictTransportSecurity: {
            AccessControlMaxAgeSec: 63_072_000,
            IncludeSubdomains: true,
            Preload: true,
            Override: true,
          },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ContentTypeOptions: { Override: true },
          ReferrerPolicy: Match.objectLike({ ReferrerPolicy: 'strict-origin-when-cross-origin' }),
        }),
      }),
    });
  });

  it('applies the security headers to both the site and the API behaviours', () => {
    const policyId = distribution.DefaultCacheBehavior.ResponseHeadersPolicyId;
    expect(policyId).toBeDefined();
    expect(apiBehavior().ResponseHeadersPolicyId).toEqual(policyId);
  });

  it('sends /api/* uncached to the HTTP API, with all methods and all viewer headers but Host', () => {
    const behavior = apiBehavior();
    expect(behavior.CachePolicyId).toBe(CACHING_DISABLED);
    expect(behavior.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER);
    expect(behavior.AllowedMethods).toEqual(
      expect.arrayContaining(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']),
    );
    expect(behavior.ViewerProtocolPolicy).toBe('https-only');
    const origin = distribution.Origins.find((candidate) => candidate.Id === behavior.TargetOriginId);
    expect(JSON.stringify(origin?.DomainName)).toContain('.execute-api.');
  });

  function bucketDeployments(): Record<string, unknown>[] {
    return Object.values(template.findResources('Custom::CDKBucketDeployment')).map(
      (resource) => (resource as { Properties: Record<string, unknown> }).Properties,
    );
  }

  it("keeps the previous deploy's hashed assets (no prune) and lets browsers cache them for a year", () => {
    const assets = bucketDeployments().find((d) => d.DestinationBucketKeyPrefix === 'assets/');
    expect(assets?.Prune).toBe(false);
    expect(assets?.SystemMetadata).toEqual({ 'cache-control': IMMUTABLE_CACHE_CONTROL });
    expect(IMMUTABLE_CACHE_CONTROL).toMatch(/max-age=31536000.*immutable/);
  });

  it('uploads index.html and config.json with no-cache, without pruning, after the assets', () => {
    const resources = template.findResources('Custom::CDKBucketDeployment');
    const [entryId, entry] = Object.entries(resources).find(
      ([, r]) =>
        (r as { Properties: Record<string, unknown> }).Properties.DestinationBucketKeyPrefix === undefined,
    ) as [string, { Properties: Record<string, unknown>; DependsOn?: string[] }];
    expect(entry.Properties.Prune).toBe(false);
    expect(entry.Properties.SystemMetadata).toEqual({ 'cache-control': REVALIDATE_CACHE_CONTROL });
    expect(REVALIDATE_CACHE_CONTROL).toBe('no-cache');
    expect(entry.Properties.DistributionPaths).toEqual(
      expect.arrayContaining(['/index.html', '/config.json']),
    );
    const assetsId = Object.keys(resources).find((id) => id !== entryId) as string;
    expect(JSON.stringify(entry.DependsOn ?? [])).toContain(assetsId.slice(0, 20));
  });

  it('reads the user pool, client and table from SSM parameters at every deploy, never Fn::GetStackOutput', () => {
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toContain('Fn::GetStackOutput');
    expect(text).not.toContain('Fn::ImportValue');
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    const ssm = Object.values(parameters).filter((p) => p.Type === 'AWS::SSM::Parameter::Value<String>');
    expect(ssm.map((p) => p.Default)).toEqual(
      expect.arrayContaining([
        '/device-portal/PortalStateful/user-pool-id',
        '/device-portal/PortalStateful/user-pool-client-id',
        '/device-portal/PortalStateful/table-name',
      ]),
    );
    const stateful = Template.fromStack(portal.stateful);
    stateful.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/device-portal/PortalStateful/user-pool-id',
      Value: { Ref: Match.stringLikeRegexp('^UserPool') },
    });
    expect(portal.stateless.dependencies).toContain(portal.stateful);
  });

  it('writes config.json from the same deploy-time pool and client id the functions get', () => {
    const [entry] = bucketDeployments().filter((d) => d.DestinationBucketKeyPrefix === undefined);
    const markers = JSON.stringify(entry?.SourceMarkers);
    expect(markers).toContain(JSON.stringify(portal.stateless.resolve(portal.stateless.shared.userPoolId)));
    expect(markers).toContain(
      JSON.stringify(portal.stateless.resolve(portal.stateless.shared.userPoolClientId)),
    );
  });

  it('serves the site from S3 through Origin Access Control, index.html at the root', () => {
    expect(distribution.DefaultRootObject).toBe('index.html');
    const origin = distribution.Origins.find(
      (candidate) => candidate.Id === distribution.DefaultCacheBehavior.TargetOriginId,
    );
    expect(origin?.OriginAccessControlId).toBeDefined();
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
  });

  it('falls back to index.html with a viewer-request function on the site only, never with error responses', () => {
    const [association, ...others] = distribution.DefaultCacheBehavior.FunctionAssociations ?? [];
    expect(association?.EventType).toBe('viewer-request');
    expect(others).toEqual([]);
    expect(apiBehavior().FunctionAssociations).toBeUndefined();
    expect(distribution.CustomErrorResponses).toBeUndefined();
  });

  function apiOrigin(): {
    CustomOriginConfig?: unknown;
    OriginCustomHeaders?: { HeaderName: string; HeaderValue: unknown }[];
  } {
    const origin = distribution.Origins.find((candidate) => candidate.Id === apiBehavior().TargetOriginId);
    if (!origin) throw new Error('no API origin');
    return origin as ReturnType<typeof apiOrigin>;
  }

  it('sends the origin secret as x-origin-verify on /api/* by a Secrets Manager dynamic reference, never its value', () => {
    const headers = apiOrigin().OriginCustomHeaders ?? [];
    expect(headers.map((h) => h.HeaderName)).toEqual(['x-origin-verify']);
    const secretArn = portal.stateless.resolve(portal.stateless.originSecret.secretArn);
    expect(headers[0]?.HeaderValue).toEqual({
      'Fn::Join': ['', ['{{resolve:secretsmanager:', secretArn, ':SecretString:::}}']],
    });
    // The site origin (S3) gets no secret.
    const siteOrigin = distribution.Origins.find(
      (o) => o.Id === distribution.DefaultCacheBehavior.TargetOriginId,
    );
    expect(JSON.stringify(siteOrigin)).not.toContain('x-origin-verify');
  });

  it('generates the origin secret: 48 letters and digits, nothing a header would need escaped', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        PasswordLength: 48,
        ExcludePunctuation: true,
        IncludeSpace: false,
      }),
    });
  });

  it('pins the origin secret version CloudFront sends when originSecretVersion is set (rotation)', () => {
    const rotated = buildPortal(undefined, {}, { originSecretVersion: '0123abcd-version' });
    const [resource] = Object.values(
      resourcesOfType(Template.fromStack(rotated.stateless), 'AWS::CloudFront::Distribution'),
    );
    expect(JSON.stringify(resource?.Properties)).toContain(':SecretString:::0123abcd-version}}');
  });

  it('has no CloudFront Function on /api/*: links come from PORTAL_ORIGIN, not a forwarded host', () => {
    expect(apiBehavior().FunctionAssociations).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toMatch(/x-forwarded-host/i);
  });

  it('gives every function PORTAL_ORIGIN = https://<the distribution domain> by default', () => {
    const [distributionId] = Object.keys(resourcesOfType(template, 'AWS::CloudFront::Distribution'));
    const expected = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] };
    for (const fn of Object.values(resourcesOfType(template, 'AWS::Lambda::Function'))) {
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      if (variables?.POWERTOOLS_SERVICE_NAME !== 'device-portal') continue;
      expect(variables.PORTAL_ORIGIN).toEqual(expected);
    }
  });

  it('has no dependency cycle (functions -> distribution -> API id; integrations -> functions)', () => {
    // The assertions library refuses a template with a cycle, as CloudFormation would…
    const looped = {
      Resources: {
        A: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: { 'Fn::GetAtt': ['B', 'Arn'] } } },
        B: { Type: 'AWS::SNS::Topic', Properties: {}, DependsOn: ['A'] },
      },
    };
    expect(() => Template.fromJSON(looped)).toThrow(/dependency cycle/);
    // …and takes the stateless stack, whose functions name the distribution that names the API.
    expect(() => Template.fromStack(portal.stateless)).not.toThrow();
  });

  it('lets the rate limits see the real client: /api/* forwards CloudFront-Viewer-Address with every header but Host', () => {
    // AllViewerExceptHostHeader: all viewer headers except Host, plus CloudFront's headers
    // (CloudFront-Viewer-Address among them); Authorization passes since caching is disabled.
    expect(apiBehavior().OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER);
    expect(apiBehavior().CachePolicyId).toBe(CACHING_DISABLED);
  });

  it('keeps the site bucket private, encrypted, TLS-only and access-logged', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'site/' }),
    });
  });

  it('outputs the portal URL and no API URL (the API answers only through CloudFront)', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toContain('PortalUrl');
    expect(outputs).not.toContain('ApiUrl');
  });
});

describe('stateless stack with portalDomain', () => {
  const domain = 'portal.corp.test';
  const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/0000-1111';
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(
      buildPortal(undefined, {}, { portalDomain: domain, portalCertificateArn: certificateArn }).stateless,
    );
  });

  it('serves the portal under its domain with the ACM certificate, TLSv1.2_2021, SNI', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: [domain],
        ViewerCertificate: {
          AcmCertificateArn: certificateArn,
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        },
      }),
    });
  });

  it('gives every function PORTAL_ORIGIN = https://<portalDomain>', () => {
    const functions = Object.values(resourcesOfType(template, 'AWS::Lambda::Function'))
      .map(
        (fn) => (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables,
      )
      .filter((variables) => variables?.POWERTOOLS_SERVICE_NAME === 'device-portal');
    expect(functions.length).toBeGreaterThan(0);
    for (const variables of functions) expect(variables?.PORTAL_ORIGIN).toBe(`https://${domain}`);
  });
});

describe('stateless stack without a web build', () => {
  let emptyDir: string;
  beforeAll(() => {
    emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'no-web-dist-'));
  });
  afterAll(() => fs.rmSync(emptyDir, { recursive: true, force: true }));

  it('refuses to synthesize and says to run npm run build:web first', () => {
    const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
    expect(() =>
      createPortal(app, {
        adminEmail: 'a@example.com',
        sesFromAddress: 'b@example.com',
        webDistPath: emptyDir,
      }),
    ).toThrow(/run npm run build:web first/);
  });
});
