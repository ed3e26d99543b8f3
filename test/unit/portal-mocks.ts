/**
 * Shared mocks for the registration and enrollment handler tests: an in-memory view of the one
 * table behind the mocked DynamoDBDocumentClient (Get, Query, Put, the counter and PIN-try
 * Updates, and on request transactions checked and written as DynamoDB does), the mocked user
 * pool, SES, SNS and KMS (a fake that wraps data keys under their encryption context), a fixed
 * clock, and readers for what a TransactWriteCommand or a single PutCommand wrote.
 *
 * Test files that import a handler must turn the settings cache off before the adapters load:
 *   vi.hoisted(() => { process.env.PORTAL_SETTINGS_CACHE_MS = '0'; });
 */

import { createHmac, randomBytes } from 'node:crypto';
import {
  AdminGetUserCommand,
  type AttributeType,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DecryptCommand,
  type DecryptCommandInput,
  GenerateDataKeyCommand,
  type GenerateDataKeyCommandInput,
  InvalidCiphertextException,
  KMSClient,
} from '@aws-sdk/client-kms';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { expect, vi } from 'vitest';
import { certificateToItem, commandToItem, keys } from '../../functions/adapters/items.ts';
import type { ApiErrorBody } from '../../functions/core/api-types.ts';
import type { CertificateRecord } from '../../functions/core/certificates.ts';
import type { CommandRecord } from '../../functions/core/commands.ts';
import type { DeviceRecord, RegistrationRecord } from '../../functions/core/device.ts';
import { MAX_PIN_TRIES, type OneTimePin } from '../../functions/core/one-time-pin.ts';
import type { AuditEvent, RandomSource, SecretRecord } from '../../functions/core/ports.ts';
import type { PortalSettings } from '../../functions/core/settings.ts';
import { ALICE_EMAIL, ALICE_SUB, deviceItem, jsonBody, NOW, ONE_TIME_SECRET_KEY } from './fixtures.ts';

export const dynamo = mockClient(DynamoDBDocumentClient);
export const cognito = mockClient(CognitoIdentityProviderClient);
export const ses = mockClient(SESClient);
export const sns = mockClient(SNSClient);
export const kms = mockClient(KMSClient);

/** What Alice's user-pool entry holds; her user name is her sub (the pool signs in by email). */
export const ALICE_PHONE = '+15555550101';
export const ALICE_ATTRIBUTES: AttributeType[] = [
  { Name: 'sub', Value: ALICE_SUB },
  { Name: 'email', Value: ALICE_EMAIL },
  { Name: 'email_verified', Value: 'true' },
  { Name: 'name', Value: 'Alice Martin' },
  { Name: 'phone_number', Value: ALICE_PHONE },
];

/** Ids are UUIDs: the path parameter must look like one (anything else is a 404 before any read). */
export const PENDING_ID = 'a0000000-0000-4000-8000-000000000001';
export const OTHER_ID = 'a0000000-0000-4000-8000-000000000002';

/**
 * The HMAC a PIN is stored as, computed independently of the product code: HMAC-SHA-256 under the
 * test key (the mocked ONE_TIME_SECRET_KEY_ARN) of purpose, user, device and PIN joined by U+001F.
 */
export function pinHmac(pin: string, deviceId = PENDING_ID, userSub = ALICE_SUB, purpose = 'REGISTRATION') {
  return createHmac('sha256', ONE_TIME_SECRET_KEY)
    .update([purpose, userSub, deviceId, pin].join('\u001f'), 'utf8')
    .digest('hex');
}

/** A registration PIN the tests know, and its HMAC as Alice's pending registration stores it. */
export const KNOWN_PIN = '24681357';
export const KNOWN_PIN_HMAC = pinHmac(KNOWN_PIN);

const HOUR_MS = 3600_000;
export const minutesAfterNow = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();
/** The end of the fixed window of `sizeMs` that NOW falls in, as the rate limits compute it. */
export const windowEndAfterNow = (sizeMs: number) =>
  new Date(Math.floor(NOW.getTime() / sizeMs) * sizeMs + sizeMs);
export const DAY_WINDOW_END = windowEndAfterNow(24 * HOUR_MS);

/** Fakes only `Date` at NOW (2025-06-02T10:00:00Z); promises and timers stay real. */
export function fixClockAtNow(): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
}

/** The known PIN as PENDING_ID's registration stores it: its HMAC, no try taken, 55 minutes to go. */
export function knownPin(overrides: Partial<OneTimePin> = {}): OneTimePin {
  return { hmac: KNOWN_PIN_HMAC, tries: 0, expiresAt: minutesAfterNow(55), ...overrides };
}

/** The registration part of a PIN registration with the known PIN, emailed five minutes ago. */
export function pinRegistration(overrides: Partial<RegistrationRecord> = {}): RegistrationRecord {
  const expiresAt = overrides.expiresAt ?? minutesAfterNow(55);
  return {
    method: 'PIN',
    expiresAt,
    pin: knownPin({ expiresAt }),
    deliveries: [{ channel: 'EMAIL', status: 'SENT', at: minutesAfterNow(-5) }],
    ...overrides,
  };
}

/** A registration that is waiting for /go: PIN method, the known PIN, 55 minutes to go. */
export function pendingRegistration(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    userSub: ALICE_SUB,
    deviceId: PENDING_ID,
    status: 'PENDING',
    platform: 'ANDROID',
    ownership: 'EMPLOYEE',
    facts: { platform: 'ANDROID' },
    createdAt: minutesAfterNow(-5),
    registeredAt: null,
    lastCheckInAt: null,
    registration: pinRegistration(),
    version: 2,
    ...overrides,
  };
}

type Item = Record<string, unknown>;

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

export const conditionalCheckFailed = conditionFailed;

/**
 * A cancelled transaction, one reason per item. The default is a lost race (the device's condition
 * failed); reasons such as ThrottlingError are the service's failure instead.
 */
export const transactionCanceled = (reasons: string[] = ['ConditionalCheckFailed']) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: reasons.map((Code) => ({ Code })),
  });

const keyOf = (key: Record<string, unknown> | undefined) => `${String(key?.pk)}|${String(key?.sk)}`;

/**
 * The table as the mocked document client serves it: GetCommand and QueryCommand read the items
 * put here; PutCommand stores its item (without checking its condition); UpdateCommand on a
 * counter increments, releases or resets it (refused at its limit or when the test refuses it);
 * UpdateCommand on a device item takes a PIN try under the same condition DynamoDB checks;
 * TransactWriteCommand succeeds and writes nothing (tests assert on its input), unless the test
 * calls applyTransactions(): then each item's condition is checked and all are written, or none.
 */
export class FakeTable {
  private readonly items = new Map<string, Item>();
  private readonly refusedCounters = new Set<string>();

  constructor() {
    dynamo.on(GetCommand).callsFake((input: GetCommandInput) => {
      const item = this.items.get(`${String(input.Key?.pk)}|${String(input.Key?.sk)}`);
      return item ? { Item: structuredClone(item) } : {};
    });
    dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => {
      const pk = String(input.ExpressionAttributeValues?.[':pk']);
      const prefix = String(input.ExpressionAttributeValues?.[':prefix'] ?? '');
      const found = [...this.items.values()].filter(
        (item) => item.pk === pk && String(item.sk).startsWith(prefix),
      );
      return { Items: structuredClone(found) };
    });
    dynamo.on(PutCommand).callsFake((input: PutCommandInput) => {
      if (input.Item) this.put(structuredClone(input.Item));
      return {};
    });
    dynamo
      .on(UpdateCommand)
      .callsFake((input: UpdateCommandInput) =>
        String(input.Key?.sk).startsWith('DEVICE#') ? this.takePinTry(input) : this.updateCounter(input),
      );
    dynamo.on(TransactWriteCommand).resolves({});
  }

  /** Counters keep their count, as DynamoDB's conditional ADD does: refused at the limit. */
  private updateCounter(input: UpdateCommandInput) {
    const key = keyOf(input.Key);
    const values = input.ExpressionAttributeValues ?? {};
    const stored = this.items.get(key);
    const count = Number(stored?.count ?? 0);
    if (input.UpdateExpression === 'SET #count = :zero') {
      if (!stored) throw conditionFailed();
      this.items.set(key, { ...stored, count: 0 });
      return {};
    }
    const step = typeof values[':minusOne'] === 'number' ? -1 : 1;
    if (step > 0) {
      const name = String(input.Key?.sk).split('#')[1] ?? '';
      if (this.refusedCounters.has(name)) throw conditionFailed();
      if (typeof values[':limit'] === 'number' && count >= values[':limit']) throw conditionFailed();
    }
    if (step < 0 && count <= 0) throw conditionFailed();
    this.items.set(key, { pk: input.Key?.pk, sk: input.Key?.sk, count: count + step });
    return {};
  }

  /**
   * takePinTry: only on the very PIN (same HMAC), unused, unexpired, with a try left; on the
   * registration PIN, or on the secure-apps PIN when the update names #secureAppsPin.
   */
  private takePinTry(input: UpdateCommandInput) {
    if (input.ExpressionAttributeNames?.['#secureAppsPin'] === 'secureAppsPin') {
      return this.takeSecureAppsPinTry(input);
    }
    const key = keyOf(input.Key);
    const values = input.ExpressionAttributeValues ?? {};
    const item = this.items.get(key);
    const device = item?.device as DeviceRecord | undefined;
    const pin = device?.registration?.pin;
    if (
      !item ||
      !device?.registration ||
      !pin ||
      pin.hmac !== values[':hmac'] ||
      pin.tries >= Number(values[':max'] ?? MAX_PIN_TRIES) ||
      pin.usedAt !== undefined ||
      !(pin.expiresAt > String(values[':now']))
    ) {
      throw conditionFailed();
    }
    const version = device.version + 1;
    const tries = pin.tries + 1;
    const updated: DeviceRecord = {
      ...device,
      version,
      registration: { ...device.registration, pin: { ...pin, tries } },
    };
    this.items.set(key, { ...item, device: updated });
    return { Attributes: { device: { version, registration: { pin: { tries } } } } };
  }

  private takeSecureAppsPinTry(input: UpdateCommandInput) {
    const key = keyOf(input.Key);
    const values = input.ExpressionAttributeValues ?? {};
    const item = this.items.get(key);
    const device = item?.device as DeviceRecord | undefined;
    const pin = device?.secureAppsPin;
    if (
      !item ||
      !device ||
      !pin ||
      pin.hmac !== values[':hmac'] ||
      pin.tries >= Number(values[':max'] ?? MAX_PIN_TRIES) ||
      pin.usedAt !== undefined ||
      !(pin.expiresAt > String(values[':now']))
    ) {
      throw conditionFailed();
    }
    const version = device.version + 1;
    const tries = pin.tries + 1;
    this.items.set(key, { ...item, device: { ...device, version, secureAppsPin: { ...pin, tries } } });
    return { Attributes: { device: { version, secureAppsPin: { tries } } } };
  }

  /**
   * From now on a TransactWriteCommand is checked and written as DynamoDB does: every condition
   * (Put, Update, Delete, ConditionCheck) against the items as they are, then all the writes, or
   * TransactionCanceledException with a reason per item; two items on one key are a
   * ValidationException. Understands the expressions the adapters send (=, <>, <, >, <=, >=,
   * attribute_exists, attribute_not_exists, AND, OR; SET path = :value) and throws on any other.
   */
  applyTransactions(): this {
    dynamo.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => this.transact(input));
    return this;
  }

  private readonly cancellations: string[][] = [];

  /** The next applied transaction is cancelled with these reasons, as if a parallel write came first. */
  cancelNextTransaction(reasons: string[] = ['ConditionalCheckFailed']): this {
    this.cancellations.push(reasons);
    return this;
  }

  private transact(input: TransactWriteCommandInput) {
    const cancelled = this.cancellations.shift();
    if (cancelled) throw transactionCanceled(cancelled);
    const items = input.TransactItems ?? [];
    const itemKeys = items.map((item) =>
      item.Put ? keyOf(item.Put.Item) : keyOf((item.Update ?? item.Delete ?? item.ConditionCheck)?.Key),
    );
    if (new Set(itemKeys).size !== itemKeys.length) {
      throw Object.assign(new Error('Transaction request cannot include multiple operations on one item'), {
        name: 'ValidationException',
      });
    }
    const reasons = items.map((item, i) => {
      const request = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
      const stored = this.items.get(itemKeys[i] ?? '');
      const holds = conditionHolds(
        stored,
        request?.ConditionExpression,
        request?.ExpressionAttributeNames ?? {},
        request?.ExpressionAttributeValues ?? {},
      );
      return holds ? 'None' : 'ConditionalCheckFailed';
    });
    if (reasons.includes('ConditionalCheckFailed')) throw transactionCanceled(reasons);
    items.forEach((item, i) => {
      const key = itemKeys[i] ?? '';
      if (item.Put?.Item) this.items.set(key, structuredClone(item.Put.Item));
      if (item.Delete) this.items.delete(key);
      if (item.Update) {
        const update = item.Update;
        const stored = structuredClone(this.items.get(key) ?? { ...update.Key });
        applySet(
          stored,
          update.UpdateExpression ?? '',
          update.ExpressionAttributeNames ?? {},
          update.ExpressionAttributeValues ?? {},
        );
        this.items.set(key, stored);
      }
    });
    return {};
  }

  /** The item under this key as the table holds it now. */
  item(key: { pk: string; sk: string }): Item | undefined {
    return this.items.get(keyOf(key));
  }

  putCertificate(certificate: CertificateRecord): this {
    return this.put(certificateToItem(certificate));
  }

  /** The version of the user's certificate set (the LIMIT#CERTIFICATES item). */
  putCertificateSet(version: number, count: number, userSub = ALICE_SUB): this {
    return this.put({ ...keys.certificateSet(userSub), type: 'CERTIFICATE_SET', version, count });
  }

  putCommand(command: CommandRecord): this {
    return this.put(commandToItem(command));
  }

  /** The certificate as the table holds it now. */
  certificate(certificateId: string, userSub = ALICE_SUB): CertificateRecord | undefined {
    return this.item(keys.certificate(userSub, certificateId))?.certificate as CertificateRecord | undefined;
  }

  /** Every command the table holds now. */
  commands(): CommandRecord[] {
    return [...this.items.values()]
      .filter((i) => i.type === 'COMMAND')
      .map((i) => i.command as CommandRecord);
  }

  /** The device as the table holds it now (after PIN tries and single-item Puts). */
  device(deviceId: string, userSub = ALICE_SUB): DeviceRecord | undefined {
    return this.items.get(`USER#${userSub}|DEVICE#${deviceId}`)?.device as DeviceRecord | undefined;
  }

  put(item: Item): this {
    this.items.set(keyOf(item), item);
    return this;
  }

  putDevice(device: DeviceRecord): this {
    return this.put(deviceItem(device));
  }

  putSecret(secret: SecretRecord): this {
    return this.put({ pk: `SECRET#${secret.hash}`, sk: 'SECRET', type: 'SECRET', secret });
  }

  /** Stored settings override the defaults field by field. */
  putSettings(settings: Partial<PortalSettings>, version = 4): this {
    return this.put({ pk: 'CONFIG', sk: 'SETTINGS', settings, version });
  }

  putCounter(scope: string, name: string, windowEndsAt: Date, count: number): this {
    return this.put({ pk: scope, sk: `COUNTER#${name}#${windowEndsAt.toISOString()}`, count });
  }

  /** The counter's conditional UpdateCommand fails: its limit is reached. */
  refuseCounter(name: 'INVITATIONS' | 'SMS' | 'ATTEMPTS' | 'GO_FAILURES'): this {
    this.refusedCounters.add(name);
    return this;
  }
}

type Names = Record<string, string>;
type Values = Record<string, unknown>;

/** The attribute names of a document path such as "#certificate.#version" or "pk". */
function pathOf(path: string, names: Names): string[] {
  return path.split('.').map((part) => {
    if (!part.startsWith('#')) return part;
    const name = names[part];
    if (name === undefined) throw new Error(`FakeTable: ${part} is not in ExpressionAttributeNames`);
    return name;
  });
}

function valueAt(item: Item | undefined, path: string[]): unknown {
  let value: unknown = item;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Item)[part];
  }
  return value;
}

function operand(token: string, item: Item | undefined, names: Names, values: Values): unknown {
  if (token.startsWith(':')) {
    if (!(token in values)) throw new Error(`FakeTable: ${token} is not in ExpressionAttributeValues`);
    return values[token];
  }
  return valueAt(item, pathOf(token, names));
}

/** A condition as DynamoDB evaluates it, for the forms the adapters write (no parentheses). */
export function conditionHolds(
  item: Item | undefined,
  expression: string | undefined,
  names: Names,
  values: Values,
): boolean {
  if (!expression) return true;
  return expression.split(/\s+OR\s+/).some((alternative) =>
    alternative.split(/\s+AND\s+/).every((clause) => {
      const exists = /^attribute_(not_)?exists\(\s*([^)\s]+)\s*\)$/.exec(clause.trim());
      if (exists) {
        const present = valueAt(item, pathOf(exists[2] ?? '', names)) !== undefined;
        return exists[1] ? !present : present;
      }
      const comparison = /^(\S+)\s*(=|<>|<=|>=|<|>)\s*(\S+)$/.exec(clause.trim());
      if (!comparison) throw new Error(`FakeTable cannot evaluate the condition "${clause}"`);
      const [, left = '', op, right = ''] = comparison;
      const a = operand(left, item, names, values);
      const b = operand(right, item, names, values);
      if (a === undefined || b === undefined) return op === '<>';
      const [x, y] = [a as number | string, b as number | string];
      switch (op) {
        case '=':
          return JSON.stringify(a) === JSON.stringify(b);
        case '<>':
          return JSON.stringify(a) !== JSON.stringify(b);
        case '<':
          return x < y;
        case '<=':
          return x <= y;
        case '>':
          return x > y;
        default:
          return x >= y;
      }
    }),
  );
}

/** "SET a = :x, #b.#c = :y" on the item; a nested path whose parent is missing fails as in DynamoDB. */
function applySet(item: Item, expression: string, names: Names, values: Values): void {
  const match = /^SET\s+(.+)$/.exec(expression.trim());
  if (!match) throw new Error(`FakeTable cannot apply the update "${expression}"`);
  for (const assignment of (match[1] ?? '').split(',')) {
    const parts = /^\s*(\S+)\s*=\s*(:\w+)\s*$/.exec(assignment);
    if (!parts) throw new Error(`FakeTable cannot apply the update "${assignment}"`);
    const path = pathOf(parts[1] ?? '', names);
    const parent = valueAt(item, path.slice(0, -1));
    if (parent === null || typeof parent !== 'object') {
      throw Object.assign(
        new Error('The document path provided in the update expression is invalid for update'),
        { name: 'ValidationException' },
      );
    }
    (parent as Item)[path[path.length - 1] ?? ''] = structuredClone(
      operand(parts[2] ?? '', item, names, values),
    );
  }
}

/**
 * KMS as the vault meets it: GenerateDataKey hands out a fresh data key and a blob that Decrypt
 * turns back into it only for the same key and encryption context (InvalidCiphertextException
 * otherwise). Each answer is a new buffer: the vault wipes what it is given.
 */
export class FakeKms {
  private readonly wrapped = new Map<string, { plaintext: Buffer; keyId: string; context: string }>();

  constructor() {
    kms.on(GenerateDataKeyCommand).callsFake((input: GenerateDataKeyCommandInput) => {
      const plaintext = randomBytes(32);
      const blob = randomBytes(48);
      this.wrapped.set(blob.toString('base64'), {
        plaintext,
        keyId: String(input.KeyId),
        context: canonicalContext(input.EncryptionContext),
      });
      return {
        KeyId: String(input.KeyId),
        Plaintext: Uint8Array.from(plaintext),
        CiphertextBlob: Uint8Array.from(blob),
      };
    });
    kms.on(DecryptCommand).callsFake((input: DecryptCommandInput) => {
      const found = this.wrapped.get(
        Buffer.from(input.CiphertextBlob ?? new Uint8Array()).toString('base64'),
      );
      if (
        !found ||
        found.context !== canonicalContext(input.EncryptionContext) ||
        (input.KeyId !== undefined && input.KeyId !== found.keyId)
      ) {
        throw new InvalidCiphertextException({ message: 'The ciphertext is invalid', $metadata: {} });
      }
      return { KeyId: found.keyId, Plaintext: Uint8Array.from(found.plaintext) };
    });
  }
}

const canonicalContext = (context: Record<string, string> | undefined) =>
  JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b)));

/** Resets every mock client, fixes the clock and answers Alice from the user pool. */
export function resetMocks(): FakeTable {
  dynamo.reset();
  cognito.reset();
  ses.reset();
  sns.reset();
  kms.reset();
  fixClockAtNow();
  aliceInPool();
  ses.on(SendEmailCommand).resolves({ MessageId: 'ses-message-1' });
  sns.on(PublishCommand).resolves({ MessageId: 'sns-message-1' });
  return new FakeTable();
}

export function aliceInPool(attributes: AttributeType[] = ALICE_ATTRIBUTES): void {
  cognito
    .on(AdminGetUserCommand)
    .resolves({ Username: ALICE_SUB, UserAttributes: attributes, Enabled: true });
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type PutRequest = NonNullable<TransactItem['Put']> | PutCommandInput;

/** The items of each TransactWriteCommand sent so far, in order. */
export function transactions(): TransactItem[][] {
  return dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems ?? []);
}

export function onlyTransaction(): TransactItem[] {
  const all = transactions();
  expect(all).toHaveLength(1);
  return all[0] ?? [];
}

export function transaction(index: number): TransactItem[] {
  const items = transactions()[index];
  if (!items) throw new Error(`No TransactWriteCommand number ${index + 1} was sent`);
  return items;
}

function putsOfType(items: TransactItem[], type: string): PutRequest[] {
  return items.flatMap((item) => (item.Put && item.Put.Item?.type === type ? [item.Put] : []));
}

/** The single-item PutCommands sent so far (a device alone, an audit event alone), in order. */
export function singlePuts(type?: string): PutCommandInput[] {
  return dynamo
    .commandCalls(PutCommand)
    .map((call) => call.args[0].input)
    .filter((input) => type === undefined || input.Item?.type === type);
}

/** The one single-item Put of a device (a write of the device and nothing else). */
export function onlyDevicePut(): PutCommandInput {
  const puts = singlePuts('DEVICE');
  expect(puts).toHaveLength(1);
  const [put] = puts;
  if (!put) throw new Error('unreachable');
  return put;
}

/** Every write of a device, as a lone PutCommand or inside a transaction, in the order sent. */
export function deviceWrites(): PutRequest[] {
  return dynamo.calls().flatMap((call) => {
    const command = call.args[0];
    if (command instanceof PutCommand) return command.input.Item?.type === 'DEVICE' ? [command.input] : [];
    if (command instanceof TransactWriteCommand)
      return putsOfType(command.input.TransactItems ?? [], 'DEVICE');
    return [];
  });
}

/** The device the `index`-th device write wrote. */
export function writtenDeviceAt(index: number): DeviceRecord {
  const put = deviceWrites()[index];
  if (!put) throw new Error(`No device write number ${index + 1} was sent`);
  return put.Item?.device as DeviceRecord;
}

/** The Put of the device item in a transaction (exactly one). */
export function devicePut(items: TransactItem[]): PutRequest {
  const puts = putsOfType(items, 'DEVICE');
  expect(puts).toHaveLength(1);
  const [put] = puts;
  if (!put) throw new Error('unreachable');
  return put;
}

export function writtenDevice(items: TransactItem[] | PutCommandInput): DeviceRecord {
  if (!Array.isArray(items)) return items.Item?.device as DeviceRecord;
  return devicePut(items).Item?.device as DeviceRecord;
}

export function secretPuts(items: TransactItem[]): { put: PutRequest; secret: SecretRecord }[] {
  return putsOfType(items, 'SECRET').map((put) => ({ put, secret: put.Item?.secret as SecretRecord }));
}

export function auditEvents(items: TransactItem[]): AuditEvent[] {
  return putsOfType(items, 'AUDIT').map((put) => put.Item?.event as AuditEvent);
}

export function deletes(items: TransactItem[]): NonNullable<TransactItem['Delete']>[] {
  return items.flatMap((item) => (item.Delete ? [item.Delete] : []));
}

export function updates(items: TransactItem[]): NonNullable<TransactItem['Update']>[] {
  return items.flatMap((item) => (item.Update ? [item.Update] : []));
}

/** The optimistic-lock condition of a device write that read version `version`. */
export function versionCondition(version: number) {
  return {
    ConditionExpression: '#device.#version = :expected',
    ExpressionAttributeNames: { '#device': 'device', '#version': 'version' },
    ExpressionAttributeValues: { ':expected': version },
  };
}

/** The rate-limit counter updates sent (increments, releases, resets), in order. */
export function counterUpdates(): UpdateCommandInput[] {
  return dynamo
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => String(input.Key?.sk).startsWith('COUNTER#'));
}

/** The keys of the rate-limit counters the handler updated (taken, given back or reset), in order. */
export function incrementedCounters(): string[] {
  return counterUpdates().map((input) => `${input.Key?.pk} ${input.Key?.sk}`);
}

/** The PIN tries taken (conditional UpdateCommands on device items), in order. */
export function pinTries(): UpdateCommandInput[] {
  return dynamo
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => String(input.Key?.sk).startsWith('DEVICE#'));
}

export function errorOf(result: { statusCode?: number | undefined; body?: string | undefined }) {
  return { status: result.statusCode, ...jsonBody<ApiErrorBody>(result).error };
}

/**
 * A RandomSource whose every draw is known: digits come from a queue, bytes count up from a seed
 * that moves on with every call, uuids are numbered.
 */
export function fakeRandom(pins: string[] = []): RandomSource & { drawnDigits: number[] } {
  let seed = 0;
  let uuids = 0;
  const drawnDigits: number[] = [];
  return {
    drawnDigits,
    bytes: (count) => {
      seed += 1;
      return Uint8Array.from({ length: count }, (_, i) => (seed * 31 + i) % 256);
    },
    digits: (length) => {
      drawnDigits.push(length);
      const next = pins.shift();
      return next ?? '7'.repeat(length);
    },
    uuid: () => {
      uuids += 1;
      return `f0000000-0000-4000-8000-${String(uuids).padStart(12, '0')}`;
    },
  };
}
