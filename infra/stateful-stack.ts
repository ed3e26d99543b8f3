import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnUserPoolUser,
  CfnUserPoolUserToGroupAttachment,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  UserPool,
  type UserPoolClient,
  UserPoolEmail,
} from 'aws-cdk-lib/aws-cognito';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { emailAddressOf } from './context.ts';
import { publishSharedValues, type SharedValues } from './shared-values.ts';

/** Cognito group whose members may call `admin` routes. */
export const ADMIN_GROUP = 'portal-admins';
/** The table's one GSI (device and audit look-ups by device, DESIGN §6). */
export const TABLE_INDEX_NAME = 'gsi1';

export interface StatefulStackProps extends StackProps {
  /** Email of the first portal administrator; Cognito mails them a temporary password. */
  readonly adminEmail: string;
  /** SES sender (`Name <address>` or an address); Cognito's own mail goes out from it too. */
  readonly sesFromAddress: string;
}

/**
 * Cognito's own mail (temporary passwords, verification codes) through SES from the portal's sender
 * instead of Cognito's default no-reply address (50 mails a day, unbranded). Cognito sends as the
 * sender's domain identity, the one verified for production mail (DKIM).
 */
export function cognitoEmail(sesFromAddress: string, region: string): UserPoolEmail {
  const fromEmail = emailAddressOf(sesFromAddress);
  const fromName = /^(.*?)\s*</.exec(sesFromAddress)?.[1]?.replace(/^"|"$/g, '').trim();
  const domain = fromEmail.split('@')[1];
  if (!domain) throw new Error(`sesFromAddress must be an email address, got "${sesFromAddress}"`);
  return UserPoolEmail.withSES({
    fromEmail,
    ...(fromName ? { fromName } : {}),
    sesVerifiedDomain: domain,
    // The stack's own region (a token when environment-agnostic): SES identities are regional.
    sesRegion: region,
  });
}

/** Data that must outlive any redeploy: the table and the user pool. Both are retained on delete. */
export class StatefulStack extends Stack {
  readonly table: Table;
  readonly userPool: UserPool;
  readonly userPoolClient: UserPoolClient;
  /** The key one-time secrets (PINs) are HMACed with; outlives stateless redeploys. */
  readonly oneTimeSecretKey: Secret;
  /** Wraps the private keys of uploaded certificates. */
  readonly certificateKey: Key;
  /** The values the stateless stack reads (through SSM, see shared-values.ts). */
  readonly shared: SharedValues;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: 'ttl',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_INDEX_NAME,
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });

    this.userPool = new UserPool(this, 'UserPool', {
      // Email is the user name; accounts are created by administrators only.
      signInAliases: { email: true },
      // Alice@Example.com signs in as alice@example.com: people do not type addresses in one case.
      signInCaseSensitive: false,
      autoVerify: { email: true },
      selfSignUpEnabled: false,
      standardAttributes: { email: { required: true, mutable: true } },
      // A changed email takes effect only once verified: invitations go to the verified address.
      keepOriginal: { email: true },
      // NIST SP 800-63B §5.1.1.2: length, no composition rules.
      passwordPolicy: {
        minLength: 12,
        requireLowercase: false,
        requireUppercase: false,
        requireDigits: false,
        requireSymbols: false,
        tempPasswordValidity: Duration.days(7),
      },
      email: cognitoEmail(props.sesFromAddress, this.region),
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Each user may add an authenticator app (TOTP) in account settings; the administrator's
      // mfaRequired setting makes the portal insist on it. No SMS factor (cost, SIM swap).
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      featurePlan: FeaturePlan.LITE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG1',
        reason:
          'Password policy follows NIST SP 800-63B §5.1.1.2: at least 12 characters and no composition rules (upper/lower/digit/symbol), which 800-63B advises against.',
      },
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is optional in the pool (TOTP, set up in account settings) and required by the portal itself when the administrator sets mfaRequired to ALL or SENSITIVE (403 MFA_REQUIRED); with a second factor on, the /go password option is refused and only the registration PIN works.',
      },
      {
        id: 'AwsSolutions-COG3',
        reason:
          'Threat protection (advanced security) needs the Cognito Plus feature plan, which this portal does not buy; /go attempts and PIN failures are rate-limited in the application instead (DESIGN §8 rules 1 and 10).',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus feature plan is not used (cost); the Lite plan covers password sign-in, groups and admin APIs, which is all the portal needs.',
      },
    );

    const adminGroup = this.userPool.addGroup('PortalAdmins', {
      groupName: ADMIN_GROUP,
      description: 'May edit portal settings and role assignments',
    });

    this.userPoolClient = this.userPool.addClient('WebClient', {
      // A browser SPA and Lambda functions: a client secret could not be kept secret in the browser.
      generateSecret: false,
      // With an access token a user may call UpdateUserAttributes directly: only the language is
      // theirs to set. Email, name and phone change through the portal's API or an administrator.
      writeAttributes: new ClientAttributes().withStandardAttributes({ locale: true }),
      readAttributes: new ClientAttributes().withStandardAttributes({
        email: true,
        emailVerified: true,
        fullname: true,
        phoneNumber: true,
        locale: true,
      }),
      // USER_PASSWORD_AUTH for the portal sign-in, ADMIN_USER_PASSWORD_AUTH for the /go password
      // check; refresh tokens are always allowed.
      authFlows: { userPassword: true, adminUserPassword: true },
      disableOAuth: true,
      accessTokenValidity: Duration.minutes(15),
      // Minutes a first-time user has to choose a new password (Cognito's default is 3).
      authSessionValidity: Duration.minutes(15),
      idTokenValidity: Duration.minutes(15),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });

    const admin = new CfnUserPoolUser(this, 'FirstAdmin', {
      userPoolId: this.userPool.userPoolId,
      username: props.adminEmail,
      userAttributes: [
        { name: 'email', value: props.adminEmail },
        { name: 'email_verified', value: 'true' },
      ],
      desiredDeliveryMediums: ['EMAIL'],
    });
    const membership = new CfnUserPoolUserToGroupAttachment(this, 'FirstAdminMembership', {
      userPoolId: this.userPool.userPoolId,
      groupName: ADMIN_GROUP,
      username: props.adminEmail,
    });
    membership.node.addDependency(admin);
    membership.node.addDependency(adminGroup);

    // DESIGN §8 rule 14: the table holds HMACs of one-time secrets, never the key. Here, not in the
    // stateless stack, so that outstanding PINs survive a redeploy of the functions.
    this.oneTimeSecretKey = new Secret(this, 'OneTimeSecretKey', {
      description: 'Device portal: HMAC key for one-time secrets (registration and secure-apps PINs)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.oneTimeSecretKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the HMAC key invalidates every outstanding PIN (lifetime up to 72 h), so it is rotated by an operator, not on a schedule; the key never leaves Secrets Manager and the table holds only HMACs.',
    });

    this.certificateKey = new Key(this, 'CertificateKey', {
      description: "Device portal: wraps the private keys of users' uploaded certificates",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.shared = {
      tableName: this.table.tableName,
      tableArn: this.table.tableArn,
      userPoolId: this.userPool.userPoolId,
      userPoolArn: this.userPool.userPoolArn,
      userPoolClientId: this.userPoolClient.userPoolClientId,
      oneTimeSecretKeyArn: this.oneTimeSecretKey.secretArn,
      certificateKeyArn: this.certificateKey.keyArn,
    };
    publishSharedValues(this, this.shared);

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
  }
}
