/**
 * Locally, each handler may make exactly the AWS calls its route-table entry grants it, as its IAM
 * role allows in AWS: every SDK call made while a route's handler runs is checked against the
 * route's permissions, and one the entry does not declare fails as AccessDeniedException does. A
 * missing grant then shows up in the integration tests instead of after a deploy.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Client } from '@smithy/core/client';
import type { Route, RoutePermissions, TableAction } from '../../functions/routes.ts';

const running = new AsyncLocalStorage<Route>();

/** Runs `handle` as the route's function: its SDK calls are checked against the route's grants. */
export function runAs<T>(route: Route, handle: () => Promise<T>): Promise<T> {
  return running.run(route, handle);
}

interface SentCommand {
  constructor: { name: string };
  input?: unknown;
}

const DOCUMENT_ACTIONS: Record<string, TableAction | 'dynamodb:Scan' | 'dynamodb:BatchWriteItem'> = {
  GetCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  BatchGetCommand: 'dynamodb:BatchGetItem',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
};

const TRANSACT_ACTIONS: Record<string, TableAction> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/** The IAM actions a command needs (a transaction needs each of its items' actions). */
export function actionsOf(serviceId: string, command: SentCommand): string[] {
  const name = command.constructor.name.replace(/Command$/, '');
  const input = (command.input ?? {}) as Record<string, unknown>;
  switch (serviceId) {
    case 'DynamoDB': {
      if (
        name === 'TransactWrite' ||
        name === 'TransactGet' ||
        name === 'TransactWriteItems' ||
        name === 'TransactGetItems'
      ) {
        const items = (input.TransactItems ?? []) as Record<string, unknown>[];
        return [
          ...new Set(
            items.flatMap((item) => Object.keys(item).map((op) => TRANSACT_ACTIONS[op] ?? `dynamodb:${op}`)),
          ),
        ];
      }
      return [DOCUMENT_ACTIONS[`${name}Command`] ?? `dynamodb:${name}`];
    }
    case 'Cognito Identity Provider':
      return [`cognito-idp:${name}`];
    case 'SES':
    case 'SESv2':
      return [`ses:${name}`];
    case 'SNS':
      return name === 'Publish' && typeof input.PhoneNumber === 'string'
        ? ['sns:Publish(SMS)']
        : [`sns:${name}`];
    case 'Secrets Manager':
      return [`secretsmanager:${name}(${String(input.SecretId ?? '')})`];
    case 'KMS':
      return [`kms:${name}`];
    default:
      return [`${serviceId}:${name}`];
  }
}

/** True when the route's permissions grant the action, as its function's IAM role would. */
export function granted(permissions: RoutePermissions, action: string): boolean {
  if (action.startsWith('dynamodb:')) return (permissions.table ?? []).some((a) => a === action);
  if (action.startsWith('cognito-idp:')) return (permissions.cognito ?? []).some((a) => a === action);
  if (action === 'ses:SendEmail') return permissions.sendEmail === true;
  if (action === 'sns:Publish(SMS)') return permissions.sendSms === true;
  if (
    [
      'sns:Publish',
      'sns:CreatePlatformEndpoint',
      'sns:SetEndpointAttributes',
      'sns:GetEndpointAttributes',
    ].includes(action)
  ) {
    return permissions.push === true;
  }
  if (action.startsWith('secretsmanager:GetSecretValue(')) {
    const secretId = action.slice('secretsmanager:GetSecretValue('.length, -1);
    if (secretId === process.env.ORIGIN_SECRET_ARN) return true; // every function reads it
    return secretId === process.env.ONE_TIME_SECRET_KEY_ARN && permissions.oneTimeSecretKey === true;
  }
  if (action === 'kms:GenerateDataKey' || action === 'kms:Decrypt')
    return permissions.certificateKey === true;
  return false;
}

let installed = false;

/** Patches the SDK's one send() every client shares; calls outside a route (bootstrap, tests) pass. */
export function installPermissionGuard(report: (line: string) => void): void {
  if (installed) return;
  installed = true;
  const send = Client.prototype.send;
  Client.prototype.send = function guardedSend(this: Client<never, never, never, never>, ...args: unknown[]) {
    const route = running.getStore();
    const command = args[0] as SentCommand | undefined;
    if (route && command) {
      const serviceId = String((this.config as { serviceId?: unknown }).serviceId ?? 'unknown');
      const denied = actionsOf(serviceId, command).filter((action) => !granted(route.permissions, action));
      if (denied.length > 0) {
        const message = `${route.name} is not authorized to perform ${denied.join(', ')}: functions/routes.ts does not grant it`;
        report(`local permission check: ${message}`);
        const error = Object.assign(new Error(message), {
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
        return Promise.reject(error);
      }
    }
    return (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
  } as typeof send;
}
