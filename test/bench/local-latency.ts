/**
 * DESIGN §11, GET /api/devices in local mode: its p50 against the p50 of the raw DynamoDB Local
 * round trips it needs (the settings GetItem, then the caller's device Query), with a table of the
 * caller's 3 devices, then 100 and 100,000 device items in it (the rest belonging to other users).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { deviceToItem, keys } from '../../functions/adapters/items.ts';
import type { DeviceListResponse } from '../../functions/core/api-types.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { DEFAULT_DEMO_PASSWORD, type LocalPortal, startLocalPortal } from '../../infra/local/local-portal.ts';
import { ms, ratio, round, type Summary, summarize } from './stats.ts';

export const BENCH_PORT = 3900;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LatencyOptions {
  samples: number;
  /** Unmeasured requests before each table size; the first size gets 5× as many (JIT of node and Java). */
  warmup: number;
  /** Device items in the table at each measurement after the first (the first has only the caller's). */
  tableSizes: readonly number[];
  /** BatchWrite calls in flight while filling. */
  fillConcurrency: number;
  log: (line: string) => void;
}

export interface LatencyPhase {
  deviceItems: number;
  route: Summary;
  raw: Summary;
  /** route p50 / raw p50. */
  ratio: number;
}

export interface LatencyResult {
  phases: LatencyPhase[];
  fills: { to: number; items: number; seconds: number; itemsPerSecond: number }[];
  leftoverProcesses: string[];
}

/** The layout PortalTable writes, from the one mapper (functions/adapters/items.ts). */
const deviceItem = deviceToItem;

function activeDevice(userSub: string, deviceId: string, index: number): DeviceRecord {
  const created = new Date(Date.UTC(2025, 0, 1) + index * 60_000).toISOString();
  return {
    userSub,
    deviceId,
    status: 'ACTIVE',
    platform: index % 2 === 0 ? 'IOS' : 'ANDROID',
    ownership: 'EMPLOYEE',
    facts: {
      platform: index % 2 === 0 ? 'IOS' : 'ANDROID',
      deviceType: index % 2 === 0 ? 'iPhone 15' : 'Pixel 8',
      manufacturer: index % 2 === 0 ? 'Apple' : 'Google',
      osVersion: index % 2 === 0 ? '17.5' : '14',
      imei: String(356938035643809 + index),
      phoneNumber: '+15555550101',
      carrier: 'Example Mobile',
    },
    createdAt: created,
    registeredAt: created,
    lastCheckInAt: created,
    registration: null,
    credentialHash: 'c0ffee'.repeat(10),
    version: 3,
  };
}

/** The caller's three devices: one active, one pending, one retired. */
function callerDevices(userSub: string): DeviceRecord[] {
  const active = activeDevice(userSub, randomUUID(), 0);
  const pending: DeviceRecord = {
    ...activeDevice(userSub, randomUUID(), 1),
    status: 'PENDING',
    registeredAt: null,
    lastCheckInAt: null,
    credentialHash: undefined,
    version: 1,
    registration: {
      method: 'PIN',
      expiresAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
      pin: {
        hmac: 'ab'.repeat(32),
        tries: 0,
        expiresAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
      },
      deliveries: [],
    },
  };
  const retired: DeviceRecord = { ...activeDevice(userSub, randomUUID(), 2), status: 'RETIRED' };
  return [active, pending, retired];
}

interface BenchUser {
  email: string;
  sub: string;
}

async function createUser(portal: LocalPortal): Promise<BenchUser> {
  const cognito = new CognitoIdentityProviderClient({
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    endpoint: portal.emulators.endpoints.cognito,
  });
  const email = `bench${Date.now()}@example.com`;
  await cognito.send(
    new AdminCreateUserCommand({
      UserPoolId: portal.userPoolId,
      Username: email,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'name', Value: 'Bench User' },
      ],
    }),
  );
  await cognito.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: portal.userPoolId,
      Username: email,
      Password: DEFAULT_DEMO_PASSWORD,
      Permanent: true,
    }),
  );
  const token = await signIn(portal, email);
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sub?: unknown;
  };
  if (typeof payload.sub !== 'string') throw new Error('the access token has no sub');
  return { email, sub: payload.sub };
}

/** USER_PASSWORD_AUTH through the portal's /_local/cognito/ proxy, as the web app signs in. */
async function signIn(portal: LocalPortal, email: string): Promise<string> {
  const response = await fetch(`${portal.url}/_local/cognito/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: portal.userPoolClientId,
      AuthParameters: { USERNAME: email, PASSWORD: DEFAULT_DEMO_PASSWORD },
    }),
  });
  const body = (await response.json()) as { AuthenticationResult?: { AccessToken?: string } };
  const token = body.AuthenticationResult?.AccessToken;
  if (!response.ok || !token) throw new Error(`sign-in of ${email} failed: ${response.status}`);
  return token;
}

async function countDeviceItems(documents: DynamoDBDocumentClient, tableName: string): Promise<number> {
  // A Scan, here only: to check how many device items the table really holds.
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: tableName,
        Select: 'COUNT',
        FilterExpression: '#type = :device',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':device': 'DEVICE' },
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** Numbers the filler devices across fills, so each filler user keeps 5 devices. */
let fillerSerial = 0;

/** Writes `count` devices of other users (5 per user), 25 per BatchWrite, `concurrency` in flight. */
async function fill(
  documents: DynamoDBDocumentClient,
  tableName: string,
  count: number,
  concurrency: number,
  log: (line: string) => void,
): Promise<void> {
  const perUser = 5;
  let next = 0;
  let written = 0;
  let nextReport = 10_000;
  const started = performance.now();
  const batch = (): Record<string, unknown>[] => {
    const items: Record<string, unknown>[] = [];
    while (items.length < 25 && next < count) {
      const owner = `filler-user-${Math.floor(fillerSerial / perUser)}`;
      items.push(deviceItem(activeDevice(owner, randomUUID(), fillerSerial)));
      fillerSerial += 1;
      next += 1;
    }
    return items;
  };
  const worker = async () => {
    for (let items = batch(); items.length > 0; items = batch()) {
      let requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string] = items.map((Item) => ({
        PutRequest: { Item },
      }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt > 10) throw new Error('DynamoDB Local kept returning unprocessed items');
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * attempt));
        const answer = await documents.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
        );
        requests = answer.UnprocessedItems?.[tableName] ?? [];
      }
      written += items.length;
      if (written >= nextReport) {
        const seconds = (performance.now() - started) / 1000;
        log(`    … ${written} / ${count} filler devices (${Math.round(written / seconds)} items/s)`);
        nextReport += 10_000;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The emulators' command lines (infra/local/emulators.ts). */
const EMULATOR = /DynamoDBLocal\.jar|cognito-local|aws-ses-v2-local/;

/** Emulators still running after stop(): children of this process, or DynamoDB Local on our port (pgrep). */
function leftoverEmulators(): string[] {
  const pgrep = (args: string[]) => {
    const answer = spawnSync('pgrep', ['-a', ...args], { encoding: 'utf8' });
    if (answer.error) throw new Error(`pgrep failed: ${answer.error.message}`);
    return answer.stdout.split('\n').map((line) => line.trim());
  };
  const children = pgrep(['-P', String(process.pid)]).filter((line) => EMULATOR.test(line));
  const java = pgrep(['-f', `DynamoDBLocal\\.jar.*-port ${BENCH_PORT + 1}`]).filter(Boolean);
  return [...new Set([...children, ...java])];
}

/**
 * DynamoDB Local keeps its tables in SQLite files; on a disk, every BatchWrite waits for a sync and
 * filling 100,000 items takes minutes. A tmpfs (/dev/shm) makes that 3-4× faster; reads are
 * served from memory either way. BENCH_DATA_DIR overrides the choice.
 */
function dataDirParent(): string {
  const wanted = process.env.BENCH_DATA_DIR;
  if (wanted) return wanted;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

async function startPortal(
  log: (line: string) => void,
): Promise<{ portal: LocalPortal; teardown(): Promise<void> }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const busy: number[] = [];
  for (let port = BENCH_PORT; port <= BENCH_PORT + 3; port += 1) {
    if (!(await portIsFree(port))) busy.push(port);
  }
  if (busy.length > 0) {
    throw new Error(
      `the bench needs ports ${BENCH_PORT}-${BENCH_PORT + 3}; in use: ${busy.join(', ')} (another bench running?)`,
    );
  }
  const dataDir = mkdtempSync(join(dataDirParent(), 'portal-bench-'));
  log(
    `  starting the local portal on ${BENCH_PORT} (emulators ${BENCH_PORT + 1}-${BENCH_PORT + 3}), data in ${dataDir}…`,
  );
  let portal: LocalPortal;
  try {
    portal = await startLocalPortal({
      port: BENCH_PORT,
      dataDir,
      demoPassword: DEFAULT_DEMO_PASSWORD,
      log: (line) => log(`  [local portal] ${line}`),
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    portal,
    async teardown() {
      try {
        await portal.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export async function measureListDevices(options: LatencyOptions): Promise<LatencyResult> {
  const { log } = options;
  const { portal, teardown } = await startPortal(log);
  const phases: LatencyPhase[] = [];
  const fills: LatencyResult['fills'] = [];
  let leftoverProcesses: string[] = [];
  try {
    const documents = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
        endpoint: portal.emulators.endpoints.dynamodb,
      }),
      { marshallOptions: { removeUndefinedValues: true } },
    );
    const tableName = portal.tableName;
    const user = await createUser(portal);
    const devices = callerDevices(user.sub);
    for (const device of devices) {
      await documents.send(new PutCommand({ TableName: tableName, Item: deviceItem(device) }));
    }
    log(`  signed in as ${user.email} (sub ${user.sub}), who has ${devices.length} devices`);

    /** GET /api/devices, end to end over HTTP: authorizer, local server, handler, two table calls. */
    const routeOnce = async (token: string): Promise<number> => {
      const started = performance.now();
      const response = await fetch(`${portal.url}/api/devices`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await response.text();
      const elapsed = performance.now() - started;
      if (response.status !== 200) throw new Error(`GET /api/devices answered ${response.status}: ${text}`);
      const body = JSON.parse(text) as DeviceListResponse;
      if (body.devices.length !== devices.length) {
        throw new Error(`GET /api/devices listed ${body.devices.length} devices, expected ${devices.length}`);
      }
      return elapsed;
    };
    /** The same two round trips, issued directly: the settings GetItem, then the device Query. */
    const rawOnce = async (): Promise<number> => {
      const started = performance.now();
      await documents.send(
        new GetCommand({ TableName: tableName, Key: keys.settings, ConsistentRead: true }),
      );
      const page = await documents.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          FilterExpression: '#type = :device',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: {
            ':pk': keys.user(user.sub),
            ':prefix': 'DEVICE#',
            ':device': 'DEVICE',
          },
        }),
      );
      const elapsed = performance.now() - started;
      if (page.Items?.length !== devices.length) throw new Error('the raw Query found the wrong devices');
      return elapsed;
    };

    const measure = async (warmup: number): Promise<void> => {
      const deviceItems = await countDeviceItems(documents, tableName);
      // A fresh token per phase: filling 100,000 items takes a while, tokens expire.
      const token = await signIn(portal, user.email);
      for (let i = 0; i < warmup; i += 1) {
        await routeOnce(token);
        await rawOnce();
      }
      const route: number[] = [];
      const raw: number[] = [];
      for (let i = 0; i < options.samples; i += 1) {
        // Alternate which goes first, so neither always follows the other.
        if (i % 2 === 0) {
          route.push(await routeOnce(token));
          raw.push(await rawOnce());
        } else {
          raw.push(await rawOnce());
          route.push(await routeOnce(token));
        }
      }
      const phase = {
        deviceItems,
        route: summarize(route),
        raw: summarize(raw),
        ratio: summarize(route).p50 / summarize(raw).p50,
      };
      phases.push(phase);
      log(
        `  ${String(deviceItems).padStart(6)} device items: route p50 ${ms(phase.route.p50)} p90 ${ms(phase.route.p90)}` +
          ` | raw GetItem+Query p50 ${ms(phase.raw.p50)} p90 ${ms(phase.raw.p90)} | ratio ${ratio(phase.ratio)}`,
      );
    };

    await measure(options.warmup * 5);
    for (const target of options.tableSizes) {
      const current = await countDeviceItems(documents, tableName);
      const missing = target - current;
      if (missing > 0) {
        log(`  filling the table to ${target} device items (${missing} devices of other users)…`);
        const started = performance.now();
        await fill(documents, tableName, missing, options.fillConcurrency, log);
        const seconds = (performance.now() - started) / 1000;
        fills.push({
          to: target,
          items: missing,
          seconds: round(seconds, 1),
          itemsPerSecond: Math.round(missing / seconds),
        });
      }
      await measure(options.warmup);
      const last = phases.at(-1);
      if (last && last.deviceItems !== target) {
        throw new Error(`the table holds ${last.deviceItems} device items, expected ${target}`);
      }
    }
  } finally {
    log('  stopping the local portal…');
    await teardown();
    leftoverProcesses = leftoverEmulators();
    const busy: number[] = [];
    for (let port = BENCH_PORT; port <= BENCH_PORT + 3; port += 1) {
      if (!(await portIsFree(port))) busy.push(port);
    }
    if (busy.length > 0) leftoverProcesses.push(`ports still in use: ${busy.join(', ')}`);
    log(
      leftoverProcesses.length === 0
        ? `  stopped: pgrep finds no emulator left (none among this process's children, no DynamoDB Local on ${BENCH_PORT + 1}), ports ${BENCH_PORT}-${BENCH_PORT + 3} free`
        : `  LEFT RUNNING: ${leftoverProcesses.join('; ')}`,
    );
  }
  return { phases, fills, leftoverProcesses };
}
