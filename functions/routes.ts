/**
 * The single route table. The CDK stack creates one function, one HTTP API route and one IAM
 * policy per entry from it; the local server routes requests from it and allows each handler only
 * the AWS calls its entry declares; the shared handler stack takes the access, role, recent-sign-in
 * rule and the path, query and body schemas from it. Infra and code cannot drift.
 */
import type * as z from 'zod/mini';
import {
  activityQuery,
  adminSettingsBody,
  agentCertificateBody,
  agentCheckinBody,
  agentCommandPath,
  agentEnrollBody,
  certificatePath,
  certificateUploadBody,
  commandPath,
  commandResultBody,
  createRegistrationBody,
  derivedCredentialCompleteBody,
  devicePath,
  enrollVerifyBody,
  lockBody,
  lostModeBody,
  noQuery,
  ownershipBody,
  profileQuery,
  renameBody,
  resendRegistrationBody,
  secureAppsVerifyBody,
  updateMeBody,
} from './http/schemas.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: a signed-in user, a member of portal-admins, a device agent, anyone. */
export type Access = 'user' | 'admin' | 'agent' | 'public';

import { ROLES } from './core/settings.ts';

export { ROLES };
export type Role = (typeof ROLES)[number];

export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem'
  | 'dynamodb:BatchGetItem';

export type CognitoAction =
  | 'cognito-idp:AdminGetUser'
  | 'cognito-idp:AdminUpdateUserAttributes'
  | 'cognito-idp:AdminInitiateAuth';

export interface RoutePermissions {
  /** Actions on the table and its indexes. */
  table?: readonly TableAction[];
  /** ses:SendEmail on the sender identity. */
  sendEmail?: boolean;
  /** sns:Publish to phone numbers (SMS). */
  sendSms?: boolean;
  /** Actions on the user pool. */
  cognito?: readonly CognitoAction[];
  /**
   * secretsmanager:GetSecretValue on the key one-time secrets are HMACed with (PINs; env
   * ONE_TIME_SECRET_KEY_ARN). Every function may read the CloudFront origin secret anyway.
   */
  oneTimeSecretKey?: boolean;
  /**
   * Mobile push wake-ups through SNS: sns:CreatePlatformEndpoint, sns:SetEndpointAttributes and
   * sns:GetEndpointAttributes on the APNs and FCM platform applications (context
   * apnsPlatformApplicationArn, fcmPlatformApplicationArn; env SNS_APNS_APPLICATION_ARN,
   * SNS_FCM_APPLICATION_ARN), sns:Publish on the account's endpoints. No grant when neither is set.
   */
  push?: boolean;
  /**
   * kms:GenerateDataKey and kms:Decrypt on the key that wraps certificates' private keys (env
   * CERTIFICATE_KEY_ARN, set on every function).
   */
  certificateKey?: boolean;
}

/** Requests per second and burst the API stage allows one route (HTTP API route throttling). */
export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface Route<TBody = unknown, TPath = unknown, TQuery = unknown> {
  /** Unique, PascalCase: the construct id of the function and route, and its handler's file name. */
  readonly name: string;
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. /api/devices/{deviceId}. */
  readonly path: string;
  readonly access: Access;
  /** Portal role the caller needs (user routes). */
  readonly role?: Role;
  /** The caller must have signed in within the last 5 minutes (auth_time), e.g. to wipe (rule 9). */
  readonly recentSignIn?: boolean;
  /**
   * Answers even when the administrator requires a second factor (mfaRequired ALL) and the caller
   * has none yet: the profile, which the web app needs to send them to set one up.
   */
  readonly withoutMfa?: boolean;
  /** Bodies above this many bytes are refused with 413 (default MAX_BODY_BYTES, 64 KiB). */
  readonly maxBodyBytes?: number;
  /** The JSON body; a route without one refuses a body. */
  readonly body?: z.ZodMiniType<TBody>;
  /** The path parameters; a mismatch is a 404 (such an id names nothing). */
  readonly pathParameters?: z.ZodMiniType<TPath>;
  /** The query string; unknown parameters are refused. */
  readonly query?: z.ZodMiniType<TQuery>;
  readonly permissions: RoutePermissions;
  /** Overrides the stage's per-route throttle for the route's access kind. */
  readonly throttle?: RouteThrottle;
}

/** Keeps a route's schema types, so its handler's request is typed from its own entry. */
/* @__NO_SIDE_EFFECTS__ */
function defineRoute<TBody = undefined, TPath = Record<string, never>, TQuery = Record<string, never>>(
  route: Route<TBody, TPath, TQuery>,
): Route<TBody, TPath, TQuery> {
  if (route.access !== 'user' && route.access !== 'admin') return route;
  // The shared stack may read the caller's MFA state (the administrator's mfaRequired setting).
  const cognito = route.permissions.cognito ?? [];
  if (cognito.includes(MFA_STATE)) return route;
  return { ...route, permissions: { ...route.permissions, cognito: [...cognito, MFA_STATE] } };
}

/** AdminGetUser, which every user and admin route may need for the second-factor rule. */
const MFA_STATE: CognitoAction = 'cognito-idp:AdminGetUser';

// Each route names exactly the table actions its code path sends. Transactions need no action of
// their own: IAM checks each Put, Update and Delete inside them.
const GET: TableAction = 'dynamodb:GetItem';
const QUERY: TableAction = 'dynamodb:Query';
const PUT: TableAction = 'dynamodb:PutItem';
const UPDATE: TableAction = 'dynamodb:UpdateItem';
const DELETE: TableAction = 'dynamodb:DeleteItem';
const CONDITION_CHECK: TableAction = 'dynamodb:ConditionCheckItem';

export const GetMe = defineRoute({
  name: 'GetMe',
  method: 'GET',
  path: '/api/me',
  access: 'user',
  role: 'self-service',
  withoutMfa: true,
  query: noQuery,
  permissions: { table: [GET], cognito: ['cognito-idp:AdminGetUser'] },
});

export const UpdateMe = defineRoute({
  name: 'UpdateMe',
  method: 'PATCH',
  path: '/api/me',
  access: 'user',
  role: 'self-service',
  body: updateMeBody,
  query: noQuery,
  // The settings (GET), the audit event (PUT); the profile is read back with AdminGetUser.
  permissions: {
    table: [GET, PUT],
    cognito: ['cognito-idp:AdminGetUser', 'cognito-idp:AdminUpdateUserAttributes'],
  },
});

export const ListDevices = defineRoute({
  name: 'ListDevices',
  method: 'GET',
  path: '/api/devices',
  access: 'user',
  role: 'self-service',
  query: noQuery,
  permissions: { table: [GET, QUERY] },
});

export const CreateRegistration = defineRoute({
  name: 'CreateRegistration',
  method: 'POST',
  path: '/api/registrations',
  access: 'user',
  role: 'register-device',
  body: createRegistrationBody,
  query: noQuery,
  permissions: {
    table: [GET, QUERY, PUT, UPDATE],
    oneTimeSecretKey: true,
    sendEmail: true,
    sendSms: true,
    cognito: ['cognito-idp:AdminGetUser'],
  },
});

export const ResendRegistration = defineRoute({
  name: 'ResendRegistration',
  method: 'POST',
  path: '/api/registrations/{deviceId}/resend',
  access: 'user',
  role: 'register-device',
  body: resendRegistrationBody,
  pathParameters: devicePath,
  query: noQuery,
  permissions: {
    table: [GET, QUERY, PUT, UPDATE, DELETE],
    oneTimeSecretKey: true,
    sendEmail: true,
    sendSms: true,
    cognito: ['cognito-idp:AdminGetUser'],
  },
});

export const CancelRegistration = defineRoute({
  name: 'CancelRegistration',
  method: 'DELETE',
  path: '/api/registrations/{deviceId}',
  access: 'user',
  role: 'register-device',
  pathParameters: devicePath,
  query: noQuery,
  permissions: { table: [GET, PUT, DELETE] },
});

export const RemoveDevice = defineRoute({
  name: 'RemoveDevice',
  method: 'DELETE',
  path: '/api/devices/{deviceId}',
  access: 'user',
  role: 'self-service',
  pathParameters: devicePath,
  query: noQuery,
  permissions: { table: [GET, PUT, DELETE] },
});

export const EnrollVerify = defineRoute({
  name: 'EnrollVerify',
  method: 'POST',
  path: '/api/enroll/verify',
  access: 'public',
  body: enrollVerifyBody,
  query: noQuery,
  permissions: {
    table: [GET, QUERY, PUT, UPDATE],
    oneTimeSecretKey: true,
    cognito: ['cognito-idp:AdminGetUser', 'cognito-idp:AdminInitiateAuth'],
  },
});

export const GetEnrollmentProfile = defineRoute({
  name: 'GetEnrollmentProfile',
  method: 'GET',
  path: '/api/enroll/profile',
  access: 'public',
  query: profileQuery,
  permissions: { table: [GET, PUT, UPDATE] },
});

export const AgentEnroll = defineRoute({
  name: 'AgentEnroll',
  method: 'POST',
  path: '/api/agent/enroll',
  access: 'agent',
  body: agentEnrollBody,
  query: noQuery,
  permissions: {
    // ConditionCheck: the user's set of certificates is still the one whose installs are queued.
    table: [GET, QUERY, PUT, UPDATE, CONDITION_CHECK],
    oneTimeSecretKey: true,
    cognito: ['cognito-idp:AdminGetUser'],
  },
});

export const AgentCheckin = defineRoute({
  name: 'AgentCheckin',
  method: 'POST',
  path: '/api/agent/checkin',
  access: 'agent',
  body: agentCheckinBody,
  query: noQuery,
  // One Query reads the device and its commands; one write (a transaction when commands are handed over).
  permissions: { table: [QUERY, PUT] },
});

export const GetDevice = defineRoute({
  name: 'GetDevice',
  method: 'GET',
  path: '/api/devices/{deviceId}',
  access: 'user',
  role: 'self-service',
  pathParameters: devicePath,
  query: noQuery,
  permissions: { table: [GET, QUERY] },
});

/** What every action route may do: read the device and its commands, queue one, wake the device, mail a notice. */
const ACTION_PERMISSIONS: RoutePermissions = {
  table: [GET, QUERY, PUT, UPDATE],
  push: true,
  sendEmail: true,
};

export const LockDevice = defineRoute({
  name: 'LockDevice',
  method: 'POST',
  path: '/api/devices/{deviceId}/lock',
  access: 'user',
  role: 'lock',
  body: lockBody,
  pathParameters: devicePath,
  query: noQuery,
  permissions: ACTION_PERMISSIONS,
});

export const StartLostMode = defineRoute({
  name: 'StartLostMode',
  method: 'POST',
  path: '/api/devices/{deviceId}/lost-mode',
  access: 'user',
  role: 'lock',
  body: lostModeBody,
  pathParameters: devicePath,
  query: noQuery,
  permissions: ACTION_PERMISSIONS,
});

export const StopLostMode = defineRoute({
  name: 'StopLostMode',
  method: 'DELETE',
  path: '/api/devices/{deviceId}/lost-mode',
  access: 'user',
  role: 'lock',
  pathParameters: devicePath,
  query: noQuery,
  permissions: ACTION_PERMISSIONS,
});

export const UnlockDevice = defineRoute({
  name: 'UnlockDevice',
  method: 'POST',
  path: '/api/devices/{deviceId}/unlock',
  access: 'user',
  role: 'unlock',
  pathParameters: devicePath,
  query: noQuery,
  permissions: ACTION_PERMISSIONS,
});

export const LocateDevice = defineRoute({
  name: 'LocateDevice',
  method: 'POST',
  path: '/api/devices/{deviceId}/locate',
  access: 'user',
  role: 'locate',
  pathParameters: devicePath,
  query: noQuery,
  permissions: ACTION_PERMISSIONS,
});

export const WipeDevice = defineRoute({
  name: 'WipeDevice',
  method: 'POST',
  path: '/api/devices/{deviceId}/wipe',
  access: 'user',
  role: 'wipe',
  recentSignIn: true,
  pathParameters: devicePath,
  query: noQuery,
  permissions: ACTION_PERMISSIONS,
});

export const RetireDevice = defineRoute({
  name: 'RetireDevice',
  method: 'POST',
  path: '/api/devices/{deviceId}/retire',
  access: 'user',
  role: 'retire',
  recentSignIn: true,
  pathParameters: devicePath,
  query: noQuery,
  permissions: ACTION_PERMISSIONS,
});

export const CancelCommand = defineRoute({
  name: 'CancelCommand',
  method: 'DELETE',
  path: '/api/devices/{deviceId}/commands/{commandId}',
  access: 'user',
  // The action's own role is checked by the use-case, once it knows which action it is.
  role: 'self-service',
  pathParameters: commandPath,
  query: noQuery,
  permissions: { table: [GET, QUERY, PUT] },
});

export const ListActivity = defineRoute({
  name: 'ListActivity',
  method: 'GET',
  path: '/api/activity',
  access: 'user',
  role: 'self-service',
  query: activityQuery,
  permissions: { table: [GET, QUERY] },
});

export const ListDeviceActivity = defineRoute({
  name: 'ListDeviceActivity',
  method: 'GET',
  path: '/api/devices/{deviceId}/activity',
  access: 'user',
  role: 'self-service',
  pathParameters: devicePath,
  query: activityQuery,
  permissions: { table: [GET, QUERY] },
});

export const AgentCommandResult = defineRoute({
  name: 'AgentCommandResult',
  method: 'POST',
  path: '/api/agent/commands/{commandId}/result',
  access: 'agent',
  body: commandResultBody,
  pathParameters: agentCommandPath,
  query: noQuery,
  // UpdateItem: an install's result is kept on its certificate.
  permissions: { table: [GET, QUERY, PUT, UPDATE], sendEmail: true },
});

export const ChangeOwnership = defineRoute({
  name: 'ChangeOwnership',
  method: 'PUT',
  path: '/api/devices/{deviceId}/ownership',
  access: 'user',
  role: 'change-ownership',
  recentSignIn: true,
  body: ownershipBody,
  pathParameters: devicePath,
  query: noQuery,
  permissions: { table: [GET, QUERY, PUT] },
});

export const RenameDevice = defineRoute({
  name: 'RenameDevice',
  method: 'PUT',
  path: '/api/devices/{deviceId}/name',
  access: 'user',
  // The user's own label for their device: no role, like the name given at registration.
  body: renameBody,
  pathParameters: devicePath,
  query: noQuery,
  permissions: { table: [GET, QUERY, PUT] },
});

export const ResetSecureAppsPasscode = defineRoute({
  name: 'ResetSecureAppsPasscode',
  method: 'POST',
  path: '/api/devices/{deviceId}/secure-apps-passcode',
  access: 'user',
  role: 'reset-secure-apps-passcode',
  pathParameters: devicePath,
  query: noQuery,
  permissions: { table: [GET, PUT], oneTimeSecretKey: true },
});

export const AgentVerifySecureAppsPasscode = defineRoute({
  name: 'AgentVerifySecureAppsPasscode',
  method: 'POST',
  path: '/api/agent/secure-apps-passcode/verify',
  access: 'agent',
  body: secureAppsVerifyBody,
  query: noQuery,
  permissions: {
    table: [GET, PUT, UPDATE],
    oneTimeSecretKey: true,
    cognito: ['cognito-idp:AdminGetUser'],
  },
});

export const StartDerivedCredential = defineRoute({
  name: 'StartDerivedCredential',
  method: 'POST',
  path: '/api/devices/{deviceId}/derived-credential',
  access: 'user',
  role: 'self-service',
  pathParameters: devicePath,
  query: noQuery,
  permissions: { table: [GET, PUT] },
});

export const CompleteDerivedCredential = defineRoute({
  name: 'CompleteDerivedCredential',
  method: 'POST',
  path: '/api/derived-credential/complete',
  access: 'user',
  role: 'self-service',
  body: derivedCredentialCompleteBody,
  query: noQuery,
  permissions: { table: [GET, PUT, UPDATE] },
});

export const ListCertificates = defineRoute({
  name: 'ListCertificates',
  method: 'GET',
  path: '/api/certificates',
  access: 'user',
  role: 'self-service',
  query: noQuery,
  permissions: { table: [GET, QUERY] },
});

/** New or replaced (body.replaces): the only function that bundles the PKCS#12 parser. */
export const UploadCertificate = defineRoute({
  name: 'UploadCertificate',
  method: 'POST',
  path: '/api/certificates',
  access: 'user',
  role: 'self-service',
  body: certificateUploadBody,
  // A file over the cap (MAX_FILE_BYTES) is refused by the use-case with its size.
  maxBodyBytes: 1024 * 1024,
  query: noQuery,
  permissions: { table: [GET, QUERY, PUT, UPDATE, CONDITION_CHECK], certificateKey: true, push: true },
});

export const DeleteCertificate = defineRoute({
  name: 'DeleteCertificate',
  method: 'DELETE',
  path: '/api/certificates/{certificateId}',
  access: 'user',
  role: 'self-service',
  pathParameters: certificatePath,
  query: noQuery,
  permissions: { table: [GET, QUERY, PUT, UPDATE, DELETE, CONDITION_CHECK], push: true },
});

/** The agent fetches a certificate an INSTALL_CERTIFICATE command names; the key comes sealed to the device. */
export const AgentGetCertificate = defineRoute({
  name: 'AgentGetCertificate',
  method: 'POST',
  path: '/api/agent/certificates/{certificateId}',
  access: 'agent',
  body: agentCertificateBody,
  pathParameters: certificatePath,
  query: noQuery,
  permissions: { table: [GET], certificateKey: true },
});

export const AdminGetSettings = defineRoute({
  name: 'AdminGetSettings',
  method: 'GET',
  path: '/api/admin/settings',
  access: 'admin',
  query: noQuery,
  permissions: { table: [GET] },
});

export const AdminPutSettings = defineRoute({
  name: 'AdminPutSettings',
  method: 'PUT',
  path: '/api/admin/settings',
  access: 'admin',
  body: adminSettingsBody,
  query: noQuery,
  // The settings and the audit event go in one transaction (IAM checks each Put in it).
  permissions: { table: [GET, PUT] },
});

export const routes: readonly Route[] = [
  GetMe,
  UpdateMe,
  ListDevices,
  CreateRegistration,
  ResendRegistration,
  CancelRegistration,
  RemoveDevice,
  EnrollVerify,
  GetEnrollmentProfile,
  AgentEnroll,
  AgentCheckin,
  GetDevice,
  LockDevice,
  StartLostMode,
  StopLostMode,
  UnlockDevice,
  LocateDevice,
  WipeDevice,
  RetireDevice,
  CancelCommand,
  ListActivity,
  ListDeviceActivity,
  AgentCommandResult,
  ChangeOwnership,
  RenameDevice,
  ResetSecureAppsPasscode,
  AgentVerifySecureAppsPasscode,
  StartDerivedCredential,
  CompleteDerivedCredential,
  ListCertificates,
  UploadCertificate,
  DeleteCertificate,
  AgentGetCertificate,
  AdminGetSettings,
  AdminPutSettings,
] as Route[];

/**
 * The handler module of a route, relative to the repository root: named after the route
 * (GetMe → functions/handlers/get-me.ts), so an entry and its file cannot point at each other wrongly.
 */
export function handlerFile(route: Pick<Route, 'name'>): string {
  const kebab = route.name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  return `functions/handlers/${kebab}.ts`;
}

/** True when the route sits behind the Cognito JWT authorizer. */
export function needsUserToken(route: Route): boolean {
  return route.access === 'user' || route.access === 'admin';
}
