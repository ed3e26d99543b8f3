import fs from 'node:fs';
import path from 'node:path';
import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  S3OriginAccessControl,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { contentSecurityPolicy, SPA_REWRITE_FUNCTION_CODE } from './web-security.ts';

export interface WebHostingProps {
  readonly api: IHttpApi;
  /** Directory holding the built portal (index.html at its root). */
  readonly webDistPath: string;
  /** Written to /config.json next to the site, read by the SPA at start-up. */
  readonly webConfig: {
    readonly region: string;
    readonly userPoolId: string;
    readonly userPoolClientId: string;
  };
  /** Value of the x-origin-verify header CloudFront adds to /api/* (a dynamic reference). */
  readonly originVerifyHeader: string;
  /** The portal's own host name and its ACM certificate (us-east-1); default: *.cloudfront.net. */
  readonly domain?: { readonly name: string; readonly certificateArn: string };
}

/** The custom origin header carrying the origin secret (the handlers' contract). */
export const ORIGIN_VERIFY_HEADER = 'x-origin-verify';

/**
 * CloudFront Functions, response-headers policies and origin access controls are global to the
 * account, and their default names come from construct ids: the same in every region. Stack name
 * and region in the name let a second copy of the portal live in another region of the account.
 */
export function globalName(stack: Stack, purpose: string): string {
  return `${stack.stackName}-${stack.region}-${purpose}`;
}

/** Hashed build output (web/dist/assets/*): its name changes with its content. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** index.html and config.json: always asked again, so a deploy is seen on the next load. */
export const REVALIDATE_CACHE_CONTROL = 'no-cache';

/** Private S3 bucket behind CloudFront (OAC), `/api/*` routed to the HTTP API on the same origin. */
export class WebHosting extends Construct {
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: WebHostingProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const logs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      // CloudFront standard logs are delivered with an ACL, so ACLs must stay enabled here.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      // Access logs are evidence; keep them when the stateless stack is destroyed.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself; logging its own access would log into itself.',
    });

    const site = new Bucket(this, 'Site', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'site/',
      // Only build output lives here; it is redeployed from web/dist on every deploy.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const securityHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      responseHeadersPolicyName: globalName(stack, 'security-headers'),
      comment: 'Device portal: CSP, HSTS, no framing',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy(`https://cognito-idp.${stack.region}.amazonaws.com`),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: {
          referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()', override: true },
        ],
      },
    });

    const spaRewrite = new EdgeFunction(this, 'SpaRewrite', {
      functionName: globalName(stack, 'spa-rewrite'),
      code: FunctionCode.fromInline(SPA_REWRITE_FUNCTION_CODE),
      runtime: FunctionRuntime.JS_2_0,
      comment: 'Serve index.html for client-side routes',
    });

    const apiOrigin = new HttpOrigin(`${props.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`, {
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      // Proof that a request came through CloudFront (DESIGN §8 rule 13); a dynamic reference, so the
      // value is resolved by CloudFormation and never written into the template.
      customHeaders: { [ORIGIN_VERIFY_HEADER]: props.originVerifyHeader },
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Device self-service portal',
      ...(props.domain
        ? {
            domainNames: [props.domain.name],
            certificate: Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
            minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(site, {
          originAccessControl: new S3OriginAccessControl(this, 'SiteAccess', {
            originAccessControlName: globalName(stack, 'site'),
            description: 'Device portal: CloudFront reads the site bucket',
          }),
        }),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        functionAssociations: [{ function: spaRewrite, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        '/api/*': {
          origin: apiOrigin,
          // Agents POST here; a redirect would drop the body, so plain HTTP is refused instead.
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          // Every viewer header but Host (which must stay the API's own), Authorization included
          // since caching is disabled, plus CloudFront's own headers, CloudFront-Viewer-Address among
          // them: the rate limits key on the viewer's address, which a client cannot set. A custom
          // policy cannot do both (allExcept adds no CloudFront headers, allViewerAndWhitelistCloudFront
          // forwards Host), so this managed policy it is.
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: securityHeaders,
        },
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Employees sign in from anywhere they travel; there is no country list to restrict to.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF web ACL (cost, and it must live in us-east-1): the API is throttled at the stage, /go attempts and PIN failures are limited in the application (DESIGN §8 rules 1 and 10). Attach one with webAclId where policy requires it.',
      },
    );

    if (!props.domain) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'No portalDomain is configured, so the distribution uses the default *.cloudfront.net certificate, whose TLS policy CloudFront fixes; with portalDomain set it uses TLSv1.2_2021.',
      });
    }

    // Open tabs keep working across a deploy: the hashed files (web/dist/assets) of the previous
    // version stay (no prune) and are cached for a year; index.html and config.json, which name
    // them, are revalidated on every load and uploaded only after the new assets are in place.
    const assets = new BucketDeployment(this, 'DeployAssets', {
      sources: [Source.asset(path.join(props.webDistPath, 'assets'))],
      destinationBucket: site,
      destinationKeyPrefix: 'assets/',
      prune: false,
      cacheControl: [CacheControl.fromString(IMMUTABLE_CACHE_CONTROL)],
      memoryLimit: 512,
    });
    const rootFiles = fs
      .readdirSync(props.webDistPath)
      .filter((name) => name !== 'assets')
      .concat('config.json');
    const entry = new BucketDeployment(this, 'DeployEntry', {
      sources: [
        Source.asset(props.webDistPath, { exclude: ['assets', 'assets/**'] }),
        Source.jsonData('config.json', props.webConfig),
      ],
      destinationBucket: site,
      prune: false,
      cacheControl: [CacheControl.fromString(REVALIDATE_CACHE_CONTROL)],
      distribution: this.distribution,
      // Hashed assets never change under their name, so only the entry files are invalidated.
      distributionPaths: ['/', ...rootFiles.map((name) => `/${name}`)],
      memoryLimit: 512,
    });
    entry.node.addDependency(assets);
    acknowledgeBucketDeploymentHandler(stack, site);
  }
}

/**
 * BucketDeployment runs a CDK-owned singleton function at stack level whose role and runtime the
 * construct fixes; these acknowledgements cover that function only (deploy-time, not request path).
 */
function acknowledgeBucketDeploymentHandler(stack: Stack, site: Bucket): void {
  const handler = stack.node.children.find((child) =>
    child.node.id.startsWith('Custom::CDKBucketDeployment'),
  );
  if (!handler) throw new Error('BucketDeployment handler not found; did aws-cdk-lib rename it?');
  const siteArn = `<${stack.getLogicalId(site.node.defaultChild as CfnBucket)}.Arn>`;
  const qualifier: unknown = stack.node.tryGetContext('@aws-cdk/core:bootstrapQualifier');
  // cdk-nag renders unresolved pseudo parameters as <AWS::X>; a concrete env appears literally.
  const shown = (value: string, pseudo: string): string =>
    Token.isUnresolved(value) ? `<${pseudo}>` : value;
  const assetBucket = [
    `arn:${shown(stack.partition, 'AWS::Partition')}:s3:::cdk-`,
    typeof qualifier === 'string' ? qualifier : DefaultStackSynthesizer.DEFAULT_QUALIFIER,
    `-assets-${shown(stack.account, 'AWS::AccountId')}-${shown(stack.region, 'AWS::Region')}`,
  ].join('');
  const s3Wildcards =
    'BucketDeployment grants these S3 wildcard actions itself (read the CDK asset bucket, sync the site bucket); they are scoped to those two buckets and run only at deploy time.';
  Validations.of(handler).acknowledge(
    {
      // Managed policy ARNs always use the AWS::Partition pseudo parameter.
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'The CDK-owned deployment function uses the managed basic execution role (CloudWatch Logs only).',
    },
    ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: s3Wildcards,
    })),
    { id: `AwsSolutions-IAM5[Resource::${assetBucket}/*]`, reason: s3Wildcards },
    { id: `AwsSolutions-IAM5[Resource::${siteArn}/*]`, reason: s3Wildcards },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudfront:CreateInvalidation/GetInvalidation on * is how BucketDeployment invalidates the distribution after upload; the construct offers no way to scope it.',
    },
    {
      id: 'AwsSolutions-L1',
      reason:
        'The deployment function runtime (Python) is chosen by aws-cdk-lib and moves forward with it; it runs only during cdk deploy.',
    },
  );
}
