/**
 * DESIGN §11 in local mode, against one local portal:
 *
 * - GET /api/devices, GET /api/devices/{id} and POST /api/agent/checkin: each p50 against the p50 of
 *   the raw DynamoDB Local round trips it needs, issued directly the way the handler issues them
 *   (the list: the settings GetItem, then the caller's device Query; the device page: the settings
 *   GetItem and the one Query on DEVICE#{id} for the device and its commands, in parallel; check-in:
 *   that Query, then the conditional Put of the device). Measured with a table of only the bench
 *   users' devices, then 100 and 100,000 device items in it (the rest belonging to other users).
 * - A command queued in the portal (POST /api/devices/{id}/lock) until the running device
 *   simulator (`enroll --push`, woken through the local SNS stand-in) has reported it DONE, as
 *   GET /api/devices/{id} shows it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
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
import { commandToItem, deviceFromItem, deviceToItem, keys } from '../../functions/adapters/items.ts';
import { portalTable } from '../../functions/adapters/portal-table.ts';
import type {
  AgentCheckinResponse,
  AgentEnrollResponse,
  CommandSummary,
  DeviceDetailResponse,
  DeviceListResponse,
  RegistrationResponse,
} from '../../functions/core/api-types.ts';
import type { CommandRecord } from '../../functions/core/commands.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { DEFAULT_DEMO_PASSWORD, type LocalPortal, startLocalPortal } from '../../infra/local/local-portal.ts';
import { REPO_ROOT } from '../../infra/local/server.ts';
import { ms, ratio, round, type Summary, summarize } from './stats.ts';

export const BENCH_PORT = 3900;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LatencyOptions {
  samples: number;
  /** Unmeasured requests before each table size; the first size gets 5× as many (JIT of node and Java). */
  warmup: number;
  /** Device items in the table at each measurement after the first (the first has only the bench users'). */
  tableSizes: readonly number[];
  /** BatchWrite calls in flight while filling. */
  fillConcurrency: number;
  /** Commands queued for the running simulator, one after another. */
  commandRuns: number;
  log: (line: string) => void;
}

/** The paths with a round-trip budget, and the raw round trips each is compared with. */
export const LATENCY_PATHS = {
  list: { path: 'GET /api/devices', rawCalls: 'GetItem → Query' },
  detail: { path: 'GET /api/devices/{id}', rawCalls: 'GetItem ∥ Query' },
  checkIn: { path: 'POST /api/agent/checkin', rawCalls: 'Query → conditional Put' },
} as const;
export type LatencyPath = keyof typeof LATENCY_PATHS;

export interface LatencyPhase {
  /** The route, e.g. GET /api/devices/{id}. */
  path: string;
  /** The raw round trips it is compared with: → one after the other, ∥ in parallel. */
  rawCalls: string;
  deviceItems: number;
  /** The DynamoDB calls the handler made in one request, counted on its client (in order sent). */
  roundTrips: string[];
  /** Over HTTP, end to end: authorizer, local server, handler, its table calls. */
  route: Summary;
  raw: Summary;
  /** route p50 / raw p50. */
  ratio: number;
}

export interface CommandToDone {
  action: 'LOCK';
  deviceItems: number;
  /** POST …/lock sent → the first GET /api/devices/{id} that shows the command DONE, ms per run. */
  runs: number[];
  summary: Summary;
  /** How often GET /api/devices/{id} was polled (the resolution of each run). */
  pollMs: number;
}

export interface LatencyResult {
  phases: LatencyPhase[];
  commandToDone: CommandToDone | null;
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

async function createUser(portal: LocalPortal, label: string): Promise<BenchUser> {
  const cognito = new CognitoIdentityProviderClient({
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    endpoint: portal.emulators.endpoints.cognito,
  });
  const email = `bench-${label}-${Date.now()}@example.com`;
  await cognito.send(
    new AdminCreateUserCommand({
      UserPoolId: portal.userPoolId,
      Username: email,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'name', Value: `Bench ${label}` },
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

/** A JSON call to the local portal; throws unless it answers `expected`. */
async function call<T>(
  portal: LocalPortal,
  path: string,
  init: { method?: string; authorization?: string; body?: unknown },
  expected: number,
): Promise<T> {
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  const response = await fetch(`${portal.url}${path}`, {
    method,
    headers: {
      ...(init.authorization ? { authorization: init.authorization } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(
      `${init.method ?? 'GET'} ${path} answered ${response.status}, expected ${expected}: ${text}`,
    );
  }
  return JSON.parse(text) as T;
}

/** A registration by PIN for a company-owned Android phone, through the API as the portal makes one. */
async function registerPhone(
  portal: LocalPortal,
  token: string,
  name: string,
): Promise<{ deviceId: string; pin: string }> {
  const created = await call<RegistrationResponse>(
    portal,
    '/api/registrations',
    {
      authorization: `Bearer ${token}`,
      body: { platform: 'ANDROID', method: 'PIN', delivery: [], ownership: 'COMPANY', name },
    },
    201,
  );
  if (!created.pin) throw new Error('the registration has no PIN');
  return { deviceId: created.device.deviceId, pin: created.pin };
}

/** The agent's enrollment with the user name and registration PIN: a real device credential. */
async function enrollPhone(portal: LocalPortal, user: BenchUser, pin: string): Promise<AgentEnrollResponse> {
  return call<AgentEnrollResponse>(
    portal,
    '/api/agent/enroll',
    {
      body: {
        username: user.email,
        pin,
        device: { platform: 'ANDROID', deviceType: 'Pixel 8', manufacturer: 'Google', osVersion: '14' },
        managementMode: 'FULLY_MANAGED',
      },
    },
    201,
  );
}

/** A device of `userSub` with `count` finished commands next to it (the device page's Query reads all). */
function deviceWithCommands(
  userSub: string,
  count: number,
): { device: DeviceRecord; items: Record<string, unknown>[] } {
  const device = activeDevice(userSub, randomUUID(), 0);
  const items: Record<string, unknown>[] = [deviceToItem(device)];
  const actions: CommandRecord['action'][] = ['LOCK', 'LOCATE', 'LOST_MODE_ON', 'LOST_MODE_OFF'];
  for (let i = 0; i < count; i += 1) {
    const created = new Date(Date.now() - (count - i) * 3600_000);
    const command: CommandRecord = {
      commandId: randomUUID(),
      userSub,
      deviceId: device.deviceId,
      action: actions[i % actions.length] ?? 'LOCK',
      status: 'DONE',
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + 7 * 24 * 3600_000).toISOString(),
      sentAt: new Date(created.getTime() + 1_000).toISOString(),
      completedAt: new Date(created.getTime() + 2_000).toISOString(),
    };
    items.push(commandToItem(command));
  }
  return { device, items };
}

/** The device simulator, enrolled with `enroll --push`: online, woken through the local SNS stand-in. */
async function startSimulator(
  portal: LocalPortal,
  user: BenchUser,
  pin: string,
  stateDir: string,
): Promise<{ child: ChildProcess; output: () => string; stop(): Promise<void> }> {
  let output = '';
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'infra/local/device-simulator.ts',
      'enroll',
      '--push',
      '--portal',
      portal.url,
      '--user',
      user.email,
      '--pin',
      pin,
      '--mode',
      'FULLY_MANAGED',
      '--interval',
      '600',
      '--state',
      join(stateDir, 'simulator.json'),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 60_000;
  while (!/Checked in/i.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the device simulator did not check in:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => output, stop };
}

/**
 * Counts the DynamoDB calls the handlers make: the local server runs them in this process, and they
 * share the one PortalTable client (functions/adapters/portal-table.ts), so a middleware on it sees
 * each send. Nothing else uses that client while a count runs.
 */
function roundTripCounter(): (run: () => Promise<unknown>) => Promise<string[]> {
  const seen: string[] = [];
  portalTable().client.middlewareStack.add(
    (next, context) => async (args) => {
      seen.push(String(context.commandName ?? 'unknown').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'benchRoundTripCounter' },
  );
  return async (run) => {
    seen.length = 0;
    await run();
    return [...seen];
  };
}

/** Alternates which of the two goes first, so neither always follows the other. */
async function pairs(
  samples: number,
  route: () => Promise<number>,
  raw: () => Promise<number>,
): Promise<{ route: number[]; raw: number[] }> {
  const out = { route: [] as number[], raw: [] as number[] };
  for (let i = 0; i < samples; i += 1) {
    if (i % 2 === 0) {
      out.route.push(await route());
      out.raw.push(await raw());
    } else {
      out.raw.push(await raw());
      out.route.push(await route());
    }
  }
  return out;
}

const POLL_MS = 50;
const COMMAND_TIMEOUT_MS = 30_000;

export async function measureLatency(options: LatencyOptions): Promise<LatencyResult> {
  const { log } = options;
  const { portal, teardown } = await startPortal(log);
  const phases: LatencyPhase[] = [];
  const fills: LatencyResult['fills'] = [];
  let commandToDone: CommandToDone | null = null;
  let leftoverProcesses: string[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'portal-bench-simulator-'));
  let simulator: Awaited<ReturnType<typeof startSimulator>> | undefined;
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
    const countRoundTrips = roundTripCounter();

    // The list's caller: three devices, written with the mapper.
    const user = await createUser(portal, 'list');
    const devices = callerDevices(user.sub);
    for (const device of devices) {
      await documents.send(new PutCommand({ TableName: tableName, Item: deviceItem(device) }));
    }
    log(`  signed in as ${user.email} (sub ${user.sub}), who has ${devices.length} devices`);

    // The device page's and the agent's user: a device with a few commands (mapper), and a phone
    // registered by PIN and enrolled through the API, whose credential the check-ins use.
    const agentUser = await createUser(portal, 'agent');
    const commandCount = 4;
    const detail = deviceWithCommands(agentUser.sub, commandCount);
    for (const Item of detail.items) await documents.send(new PutCommand({ TableName: tableName, Item }));
    const agentToken = await signIn(portal, agentUser.email);
    const registered = await registerPhone(portal, agentToken, 'Bench check-in phone');
    const enrolled = await enrollPhone(portal, agentUser, registered.pin);
    const deviceAuthorization = `Device ${enrolled.deviceCredential}`;
    log(
      `  ${agentUser.email} has device ${detail.device.deviceId} with ${commandCount} commands (device page) ` +
        `and enrolled ${enrolled.deviceId} through the API (check-in)`,
    );

    /** GET /api/devices, end to end over HTTP: authorizer, local server, handler, two table calls. */
    const listOnce = async (token: string): Promise<number> => {
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
    const rawListOnce = async (): Promise<number> => {
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

    /** The Query getDeviceWithCommands makes: the device and its commands, consistent. */
    const deviceQuery = (userSub: string, deviceId: string) =>
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.user(userSub), ':prefix': keys.device(deviceId) },
        ConsistentRead: true,
      });

    /** GET /api/devices/{id}, end to end over HTTP. */
    const detailOnce = async (token: string): Promise<number> => {
      const started = performance.now();
      const response = await fetch(`${portal.url}/api/devices/${detail.device.deviceId}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await response.text();
      const elapsed = performance.now() - started;
      if (response.status !== 200) {
        throw new Error(`GET /api/devices/{id} answered ${response.status}: ${text}`);
      }
      const body = JSON.parse(text) as DeviceDetailResponse;
      if (body.commands.length !== commandCount) {
        throw new Error(
          `GET /api/devices/{id} showed ${body.commands.length} commands, expected ${commandCount}`,
        );
      }
      return elapsed;
    };
    /** Its two round trips, issued as the handler does: the settings GetItem and the Query, in parallel. */
    const rawDetailOnce = async (): Promise<number> => {
      const started = performance.now();
      const [, page] = await Promise.all([
        documents.send(new GetCommand({ TableName: tableName, Key: keys.settings, ConsistentRead: true })),
        documents.send(deviceQuery(agentUser.sub, detail.device.deviceId)),
      ]);
      const elapsed = performance.now() - started;
      if (page.Items?.length !== commandCount + 1) throw new Error('the raw Query found the wrong items');
      return elapsed;
    };

    /** POST /api/agent/checkin with the enrolled phone's credential, end to end over HTTP. */
    const checkInOnce = async (): Promise<number> => {
      const started = performance.now();
      const response = await fetch(`${portal.url}/api/agent/checkin`, {
        method: 'POST',
        headers: { authorization: deviceAuthorization, 'content-type': 'application/json' },
        body: JSON.stringify({ device: {} }),
      });
      const text = await response.text();
      const elapsed = performance.now() - started;
      if (response.status !== 200)
        throw new Error(`POST /api/agent/checkin answered ${response.status}: ${text}`);
      const body = JSON.parse(text) as AgentCheckinResponse;
      if (body.deviceId !== enrolled.deviceId || body.commands.length !== 0) {
        throw new Error(`the check-in answered for ${body.deviceId} with ${body.commands.length} commands`);
      }
      return elapsed;
    };
    /** Its two round trips, issued directly: the Query, then the device's Put on the version it read. */
    const rawCheckInOnce = async (): Promise<number> => {
      const started = performance.now();
      const page = await documents.send(deviceQuery(agentUser.sub, enrolled.deviceId));
      const device = deviceFromItem(page.Items?.[0]);
      if (!device) throw new Error('the raw Query found no device');
      await documents.send(
        new PutCommand({
          TableName: tableName,
          Item: deviceToItem({
            ...device,
            lastCheckInAt: new Date().toISOString(),
            version: device.version + 1,
          }),
          ConditionExpression: '#device.#version = :expected',
          ExpressionAttributeNames: { '#device': 'device', '#version': 'version' },
          ExpressionAttributeValues: { ':expected': device.version },
        }),
      );
      return performance.now() - started;
    };

    const record = (
      path: LatencyPath,
      deviceItems: number,
      roundTrips: string[],
      timings: { route: number[]; raw: number[] },
    ) => {
      const route = summarize(timings.route);
      const raw = summarize(timings.raw);
      const phase: LatencyPhase = {
        ...LATENCY_PATHS[path],
        deviceItems,
        roundTrips,
        route,
        raw,
        ratio: route.p50 / raw.p50,
      };
      phases.push(phase);
      log(
        `  ${String(deviceItems).padStart(6)} device items, ${phase.path.padEnd(23)}: route p50 ${ms(route.p50)} p90 ${ms(route.p90)}` +
          ` | raw ${phase.rawCalls} p50 ${ms(raw.p50)} p90 ${ms(raw.p90)} | ratio ${ratio(phase.ratio)}` +
          ` | the handler made ${roundTrips.length}: ${roundTrips.join(', ')}`,
      );
    };

    const measure = async (warmup: number): Promise<number> => {
      const deviceItems = await countDeviceItems(documents, tableName);
      // Fresh tokens per phase: filling 100,000 items takes a while, tokens expire.
      const token = await signIn(portal, user.email);
      const agent = await signIn(portal, agentUser.email);
      for (let i = 0; i < warmup; i += 1) {
        await listOnce(token);
        await rawListOnce();
        await detailOnce(agent);
        await rawDetailOnce();
        await checkInOnce();
        await rawCheckInOnce();
      }
      const list = await countRoundTrips(() => listOnce(token));
      record('list', deviceItems, list, await pairs(options.samples, () => listOnce(token), rawListOnce));
      const detailCalls = await countRoundTrips(() => detailOnce(agent));
      record(
        'detail',
        deviceItems,
        detailCalls,
        await pairs(options.samples, () => detailOnce(agent), rawDetailOnce),
      );
      const checkIn = await countRoundTrips(checkInOnce);
      record('checkIn', deviceItems, checkIn, await pairs(options.samples, checkInOnce, rawCheckInOnce));
      return deviceItems;
    };

    await measure(options.warmup * 5);
    let deviceItems = 0;
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
      deviceItems = await measure(options.warmup);
      if (deviceItems !== target) {
        throw new Error(`the table holds ${deviceItems} device items, expected ${target}`);
      }
    }

    // A command to done, with the largest table: the simulator enrolls (its registration is one
    // more device item) and stays online; each lock wakes it through the local SNS stand-in.
    log(`  starting the device simulator (enroll --push) for ${agentUser.email}…`);
    const token = await signIn(portal, agentUser.email);
    const phone = await registerPhone(portal, token, 'Bench simulator phone');
    simulator = await startSimulator(portal, agentUser, phone.pin, stateDir);
    const runs: number[] = [];
    for (let i = 0; i < options.commandRuns; i += 1) {
      const started = performance.now();
      const queued = await call<{ command: CommandSummary }>(
        portal,
        `/api/devices/${phone.deviceId}/lock`,
        { authorization: `Bearer ${token}`, body: {} },
        202,
      );
      let status = queued.command.status;
      while (status !== 'DONE') {
        if (performance.now() - started > COMMAND_TIMEOUT_MS) {
          throw new Error(
            `lock ${queued.command.commandId} was still ${status} after ${COMMAND_TIMEOUT_MS} ms; simulator output:\n${simulator.output()}`,
          );
        }
        if (status === 'FAILED' || status === 'EXPIRED' || status === 'CANCELLED') {
          throw new Error(`lock ${queued.command.commandId} ended ${status}:\n${simulator.output()}`);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
        const page = await call<DeviceDetailResponse>(
          portal,
          `/api/devices/${phone.deviceId}`,
          { authorization: `Bearer ${token}` },
          200,
        );
        status = page.commands.find((c) => c.commandId === queued.command.commandId)?.status ?? 'QUEUED';
      }
      const elapsed = performance.now() - started;
      runs.push(elapsed);
      log(`    lock ${i + 1}/${options.commandRuns}: queued → DONE in ${ms(elapsed)}`);
    }
    commandToDone = {
      action: 'LOCK',
      deviceItems: deviceItems + 1,
      runs: runs.map((r) => round(r, 1)),
      summary: summarize(runs),
      pollMs: POLL_MS,
    };
  } finally {
    if (simulator) {
      log('  stopping the device simulator…');
      await simulator.stop();
    }
    rmSync(stateDir, { recursive: true, force: true });
    log('  stopping the local portal…');
    await teardown();
    leftoverProcesses = leftoverEmulators();
    if (simulator && simulator.child.exitCode === null && simulator.child.signalCode === null) {
      leftoverProcesses.push(`device simulator (pid ${simulator.child.pid})`);
    }
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
  return { phases, commandToDone, fills, leftoverProcesses };
}
