/**
 * The single route table. The CDK stack creates one function, one HTTP API route and one IAM
 * policy per entry from it; the local server routes requests from it. Infra and code cannot drift.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: a signed-in user, a member of portal-admins, a device agent, anyone. */
export type Access = 'user' | 'admin' | 'agent' | 'public';

export const ROLES = [
  'self-service',
  'register-device',
  'lock',
  'unlock',
  'locate',
  'wipe',
  'retire',
  'change-ownership',
  'reset-secure-apps-passcode',
] as const;
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
}

export interface Route {
  /** Unique, PascalCase: the construct id of the function and route. */
  readonly name: string;
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. /api/devices/{deviceId}. */
  readonly path: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly handler: string;
  readonly access: Access;
  /** Portal role the caller needs (user routes). */
  readonly role?: Role;
  readonly permissions: RoutePermissions;
}

// Each route names exactly the table actions its code path sends. Transactions need no action of
// their own: IAM checks each Put, Update and Delete inside them.
const GET: TableAction = 'dynamodb:GetItem';
const QUERY: TableAction = 'dynamodb:Query';
const PUT: TableAction = 'dynamodb:PutItem';
const UPDATE: TableAction = 'dynamodb:UpdateItem';
const DELETE: TableAction = 'dynamodb:DeleteItem';

export const routes: readonly Route[] = [
  {
    name: 'GetMe',
    method: 'GET',
    path: '/api/me',
    handler: 'functions/handlers/get-me.ts',
    access: 'user',
    role: 'self-service',
    permissions: { table: [GET], cognito: ['cognito-idp:AdminGetUser'] },
  },
  {
    name: 'ListDevices',
    method: 'GET',
    path: '/api/devices',
    handler: 'functions/handlers/list-devices.ts',
    access: 'user',
    role: 'self-service',
    permissions: { table: [GET, QUERY] },
  },
  {
    name: 'CreateRegistration',
    method: 'POST',
    path: '/api/registrations',
    handler: 'functions/handlers/create-registration.ts',
    access: 'user',
    role: 'register-device',
    permissions: {
      table: [GET, QUERY, PUT, UPDATE],
      sendEmail: true,
      sendSms: true,
      cognito: ['cognito-idp:AdminGetUser'],
    },
  },
  {
    name: 'ResendRegistration',
    method: 'POST',
    path: '/api/registrations/{deviceId}/resend',
    handler: 'functions/handlers/resend-registration.ts',
    access: 'user',
    role: 'register-device',
    permissions: {
      table: [GET, PUT, UPDATE, DELETE],
      sendEmail: true,
      sendSms: true,
      cognito: ['cognito-idp:AdminGetUser'],
    },
  },
  {
    name: 'CancelRegistration',
    method: 'DELETE',
    path: '/api/registrations/{deviceId}',
    handler: 'functions/handlers/cancel-registration.ts',
    access: 'user',
    role: 'register-device',
    permissions: { table: [GET, PUT, DELETE] },
  },
  {
    name: 'EnrollVerify',
    method: 'POST',
    path: '/api/enroll/verify',
    handler: 'functions/handlers/enroll-verify.ts',
    access: 'public',
    permissions: {
      table: [GET, QUERY, PUT, UPDATE],
      cognito: ['cognito-idp:AdminGetUser', 'cognito-idp:AdminInitiateAuth'],
    },
  },
  {
    name: 'GetEnrollmentProfile',
    method: 'GET',
    path: '/api/enroll/profile',
    handler: 'functions/handlers/enroll-profile.ts',
    access: 'public',
    permissions: { table: [GET] },
  },
  {
    name: 'AgentEnroll',
    method: 'POST',
    path: '/api/agent/enroll',
    handler: 'functions/handlers/agent-enroll.ts',
    access: 'agent',
    permissions: {
      table: [GET, QUERY, PUT, UPDATE],
      cognito: ['cognito-idp:AdminGetUser'],
    },
  },
  {
    name: 'AgentCheckin',
    method: 'POST',
    path: '/api/agent/checkin',
    handler: 'functions/handlers/agent-checkin.ts',
    access: 'agent',
    permissions: { table: [GET, PUT] },
  },
];

/** True when the route sits behind the Cognito JWT authorizer. */
export function needsUserToken(route: Route): boolean {
  return route.access === 'user' || route.access === 'admin';
}
