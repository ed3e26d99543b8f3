/**
 * The deploy-time settings of the portal, read from CDK context (cdk.json "context" or
 * `-c key=value`). A pure function of the context, so the refusals are unit-tested and the CDK app
 * (infra/app.ts) only wires it up.
 */

export interface PortalContext {
  /** The first administrator; Cognito mails them a temporary password. */
  readonly adminEmail: string;
  /** The SES sender of every mail the portal and Cognito send, e.g. `Device Portal <no-reply@corp.com>`. */
  readonly sesFromAddress: string;
  /** Subscribed to the alarm topic when set. */
  readonly alarmEmail?: string;
  /** The portal's own host name (CloudFront alias); needs portalCertificateArn. */
  readonly portalDomain?: string;
  /** ACM certificate in us-east-1 covering portalDomain. */
  readonly portalCertificateArn?: string;
  /** SNS platform applications for push wake-ups; without them devices wait for their next check-in. */
  readonly apnsPlatformApplicationArn?: string;
  readonly fcmPlatformApplicationArn?: string;
  /** Version id of the origin secret CloudFront sends (after a rotation, see README). */
  readonly originSecretVersion?: string;
}

/** The keys a deploy cannot go without. */
export const REQUIRED_CONTEXT_KEYS = ['adminEmail', 'sesFromAddress'] as const;

const OPTIONAL_CONTEXT_KEYS = [
  'alarmEmail',
  'portalDomain',
  'portalCertificateArn',
  'apnsPlatformApplicationArn',
  'fcmPlatformApplicationArn',
  'originSecretVersion',
] as const;

/** Documentation domains (RFC 2606): an address there reaches nobody. */
const PLACEHOLDER_DOMAIN = /(^|\.)example\.(com|org|net)$/i;

/** The address inside `Name <address>`, or the value itself. */
export function emailAddressOf(value: string): string {
  return (/<([^>]+)>/.exec(value)?.[1] ?? value).trim();
}

function problemWith(key: string, value: unknown): string | undefined {
  const hint = `set it in cdk.json "context" or pass -c ${key}=...`;
  if (value === undefined || value === null || value === '') return `${key} is missing: ${hint}`;
  if (typeof value !== 'string') return `${key} must be a string: ${hint}`;
  const address = emailAddressOf(value);
  const domain = address.split('@')[1];
  if (!domain || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
    return `${key} must be an email address, got "${value}": ${hint}`;
  }
  if (PLACEHOLDER_DOMAIN.test(domain)) {
    return `${key} is the placeholder "${value}" (example.com reaches nobody): ${hint}`;
  }
  return undefined;
}

/**
 * Reads and checks the portal's context. Refuses, in one message naming every key to set, when a
 * required key is missing or still a placeholder, or when the optional ones do not fit together.
 */
export function readPortalContext(get: (key: string) => unknown): PortalContext {
  const problems: string[] = [];
  for (const key of REQUIRED_CONTEXT_KEYS) {
    const problem = problemWith(key, get(key));
    if (problem) problems.push(problem);
  }
  const optional: Record<string, string> = {};
  for (const key of OPTIONAL_CONTEXT_KEYS) {
    const value = get(key);
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') {
      problems.push(`${key} must be a string`);
      continue;
    }
    optional[key] = value.trim();
  }
  if (optional.alarmEmail !== undefined) {
    const problem = problemWith('alarmEmail', optional.alarmEmail);
    if (problem) problems.push(problem);
  }
  if ((optional.portalDomain === undefined) !== (optional.portalCertificateArn === undefined)) {
    problems.push(
      'portalDomain and portalCertificateArn go together: set both (an ACM certificate in us-east-1 for the domain) or neither',
    );
  }
  if (
    optional.portalCertificateArn !== undefined &&
    !/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\//.test(optional.portalCertificateArn)
  ) {
    problems.push(
      'portalCertificateArn must be an ACM certificate ARN in us-east-1 (CloudFront reads it there)',
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `The portal's CDK context is not deployable yet (see README, "Deploying to AWS"):\n  - ${problems.join('\n  - ')}`,
    );
  }
  return {
    adminEmail: (get('adminEmail') as string).trim(),
    sesFromAddress: (get('sesFromAddress') as string).trim(),
    ...optional,
  };
}
