/**
 * The device simulator as a process: its argument handling, and `run` against a stand-in agent API
 * (check-in handing over commands, results recorded) woken through the portal's local SNS, as the
 * backend wakes it. The end-to-end test against the real agent routes is simulator-commands.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreatePlatformEndpointCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  AgentCheckinRequest,
  AgentCheckinResponse,
  AgentCommand,
  AgentCommandResultRequest,
} from '../../functions/core/api-types.ts';
import { portalUrl } from './helpers.ts';
import { type Run, SIMULATOR, simulate } from './simulator.ts';

const dir = mkdtempSync(join(tmpdir(), 'device-simulator-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('device simulator: a mistake is one line', () => {
  const oneLine = (run: Run) => {
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^device simulator: /);
    expect(run.stderr).not.toMatch(/\bat .+:\d+:\d+/); // no stack
  };

  it('refuses an unknown --mode', async () => {
    const run = await simulate([
      'enroll',
      '--user',
      'a@example.com',
      '--pin',
      '12345678',
      '--mode',
      'ROOTED',
    ]);
    oneLine(run);
    expect(run.stderr).toContain('--mode is one of SUPERVISED');
  });

  it('refuses a --mode of the other platform', async () => {
    const run = await simulate([
      'enroll',
      '--token',
      'x'.repeat(20),
      '--platform',
      'IOS',
      '--mode',
      'FULLY_MANAGED',
    ]);
    oneLine(run);
    expect(run.stderr).toContain('not a mode of an iPhone');
  });

  it.each(['north', '91,0', '0,181', '52.1;4.2', '52.1,'])('refuses --location %s', async (location) => {
    const run = await simulate(['run', '--state', join(dir, 'none.json'), '--location', location]);
    oneLine(run);
    expect(run.stderr).toContain('--location is LAT,LON');
  });

  it('refuses a bad --interval, and run without an enrolled device', async () => {
    oneLine(await simulate(['run', '--state', join(dir, 'none.json'), '--interval', '0']));
    const run = await simulate(['run', '--state', join(dir, 'none.json')]);
    oneLine(run);
    expect(run.stderr).toContain('No enrolled device');
  });
});

/** A stand-in for the agent routes the backend serves: check-ins hand over queued commands. */
interface FakeAgentApi {
  url: string;
  checkins: AgentCheckinRequest[];
  results: Map<string, AgentCommandResultRequest>;
  queue: AgentCommand[];
  ownership: 'COMPANY' | 'EMPLOYEE';
  revoked: boolean;
  server: Server;
}

async function fakeAgentApi(): Promise<FakeAgentApi> {
  const api: FakeAgentApi = {
    url: '',
    checkins: [],
    results: new Map(),
    queue: [],
    ownership: 'COMPANY',
    revoked: false,
    server: createServer(),
  };
  api.server.on('request', (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
      const json = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      if (request.headers.authorization !== 'Device test-credential' || api.revoked) {
        return json(401, { error: { code: 'UNAUTHORIZED', message: 'Unknown device credential.' } });
      }
      if (request.url === '/api/agent/checkin') {
        api.checkins.push(body as AgentCheckinRequest);
        const answer: AgentCheckinResponse = {
          deviceId: 'dev-1',
          status: 'ACTIVE',
          lastCheckInAt: new Date().toISOString(),
          commands: api.queue.splice(0),
          ownership: api.ownership,
          checkInIntervalSeconds: 3600,
        };
        return json(200, answer);
      }
      const result = /^\/api\/agent\/commands\/([^/]+)\/result$/.exec(request.url ?? '');
      if (result?.[1]) {
        api.results.set(decodeURIComponent(result[1]), body as AgentCommandResultRequest);
        return json(200, {});
      }
      json(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    });
  });
  api.server.listen(0, '127.0.0.1');
  await once(api.server, 'listening');
  api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  return api;
}

async function until<T>(probe: () => T | undefined | false, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('device simulator: run', () => {
  let agentApi: FakeAgentApi;
  let child: ChildProcess | null = null;
  let output = '';
  let stateFile = '';

  beforeAll(async () => {
    agentApi = await fakeAgentApi();
  });
  afterAll(() => new Promise<void>((done) => agentApi.server.close(() => done())));
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'close');
    }
    child = null;
  });

  function writeState(name: string, mode: string): void {
    stateFile = join(dir, `${name}.json`);
    writeFileSync(
      stateFile,
      JSON.stringify({
        portal: agentApi.url,
        deviceId: 'dev-1',
        deviceCredential: 'test-credential',
        facts: { platform: 'IOS', deviceType: 'iPhone 15', manufacturer: 'Apple', osVersion: 'iOS 18.1.1' },
        enrolledAt: new Date().toISOString(),
        managementMode: mode,
      }),
      { mode: 0o600 },
    );
  }

  function start(name: string, mode: string, extra: string[] = []): ChildProcess {
    writeState(name, mode);
    agentApi.checkins = [];
    agentApi.revoked = false;
    output = '';
    const started = spawn(process.execPath, [...SIMULATOR, 'run', '--state', stateFile, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child = started;
    return started;
  }

  /** Wakes the simulator as the backend does: an endpoint for its token, then Publish. */
  async function wakeThroughSns(token: string): Promise<void> {
    const sns = new SNSClient({
      region: 'us-east-1',
      endpoint: `${portalUrl()}/_local/sns`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { EndpointArn } = await sns.send(
      new CreatePlatformEndpointCommand({
        PlatformApplicationArn: 'arn:aws:sns:us-east-1:000000000000:app/APNS/device-portal-local',
        Token: token,
      }),
    );
    await sns.send(
      new PublishCommand({ TargetArn: EndpointArn, Message: JSON.stringify({ wake: 'checkin' }) }),
    );
  }

  it('checks in at once with its wake-up URL as push token, and is woken through the local SNS', async () => {
    const sim = start('wake', 'SUPERVISED', ['--location', '48.8584,2.2945']);
    const first = await until(() => agentApi.checkins[0], 'the first check-in');
    expect(first.pushToken).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/wake\/[\w-]+$/);
    await until(() => output.includes('Ownership: Company'), 'the ownership line');
    agentApi.queue.push(
      {
        commandId: 'cmd-lost',
        action: 'LOST_MODE_ON',
        lockScreen: { message: 'Lost phone, please call', phoneNumber: '+14155550123' },
      },
      { commandId: 'cmd-locate', action: 'LOCATE', lockScreen: null },
    );
    await wakeThroughSns(first.pushToken ?? '');
    await until(() => agentApi.results.has('cmd-locate'), 'the locate result');
    expect(agentApi.checkins).toHaveLength(2);
    expect(agentApi.checkins[1]?.pushToken).toBeUndefined();
    expect(agentApi.results.get('cmd-lost')).toEqual({ status: 'DONE' });
    const located = agentApi.results.get('cmd-locate');
    expect(located?.status).toBe('DONE');
    expect(located?.position).toMatchObject({ latitude: 48.8584, longitude: 2.2945, accuracy: 12 });
    expect(Date.now() - Date.parse(located?.position?.at ?? '')).toBeLessThan(30_000);
    expect(output).toContain('Lost phone, please call');
    expect(output).toContain('Call +14155550123');
    expect(output).toContain('Wake-up: {"wake":"checkin"}');
    // The ownership changes: said once, when it does.
    agentApi.ownership = 'EMPLOYEE';
    await wakeThroughSns(first.pushToken ?? '');
    await until(() => output.includes('Ownership: Employee'), 'the new ownership');
    expect(output.match(/Ownership: /g)).toHaveLength(2);
    agentApi.ownership = 'COMPANY';
    // Ctrl-C stops cleanly, the device stays enrolled.
    sim.kill('SIGINT');
    const [code] = await once(sim, 'close');
    expect(code).toBe(0);
    expect(output).toContain('Stopped.');
    expect(existsSync(stateFile)).toBe(true);
  });

  it('checkin: one check-in, and the commands it gets carried out', async () => {
    agentApi.queue.push({ commandId: 'cmd-unlock', action: 'UNLOCK', lockScreen: null });
    writeState('once', 'DEVICE_ENROLLMENT');
    const run = await simulate(['checkin', '--state', stateFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(agentApi.results.get('cmd-unlock')).toEqual({ status: 'DONE' });
    expect(run.stdout).toContain('Passcode cleared');
  });

  it('checks in again every --interval seconds without a wake-up', async () => {
    start('interval', 'SUPERVISED', ['--interval', '0.3']);
    await until(() => agentApi.checkins.length >= 3 || undefined, 'three check-ins', 10_000);
  });

  it('reports FAILED with the --fail-next code once, then carries out the next command', async () => {
    agentApi.queue.push(
      { commandId: 'cmd-fail', action: 'LOCK', lockScreen: null },
      { commandId: 'cmd-lock', action: 'LOCK', lockScreen: { message: 'Locked by IT' } },
    );
    start('fail', 'SUPERVISED', ['--fail-next', 'PASSCODE_REQUIRED']);
    await until(() => agentApi.results.has('cmd-lock'), 'the second lock');
    expect(agentApi.results.get('cmd-fail')).toEqual({ status: 'FAILED', error: 'PASSCODE_REQUIRED' });
    expect(agentApi.results.get('cmd-lock')).toEqual({ status: 'DONE' });
  });

  it('refuses what its management mode does not allow (device-actions.md)', async () => {
    agentApi.queue.push({ commandId: 'cmd-user-wipe', action: 'WIPE', lockScreen: null });
    start('user-enrollment', 'USER_ENROLLMENT');
    await until(() => agentApi.results.has('cmd-user-wipe'), 'the refused wipe');
    expect(agentApi.results.get('cmd-user-wipe')).toEqual({ status: 'FAILED', error: 'NOT_SUPPORTED' });
    expect(existsSync(stateFile)).toBe(true);
  });

  it.each(['WIPE', 'RETIRE'] as const)(
    'after a DONE %s forgets the credential and exits 0',
    async (action) => {
      agentApi.queue.push(
        { commandId: `cmd-${action}`, action, lockScreen: null },
        { commandId: `cmd-after-${action}`, action: 'LOCK', lockScreen: null },
      );
      const sim = start(`end-${action}`, 'SUPERVISED');
      const [code] = await once(sim, 'close');
      expect(code, output).toBe(0);
      expect(agentApi.results.get(`cmd-${action}`)).toEqual({ status: 'DONE' });
      expect(agentApi.results.has(`cmd-after-${action}`)).toBe(false);
      expect(existsSync(stateFile)).toBe(false);
      expect(output).toContain(action === 'WIPE' ? 'Wiped' : 'Retired');
      agentApi.queue.splice(0);
    },
  );

  it('a revoked credential ends run with one line', async () => {
    const sim = start('revoked', 'SUPERVISED');
    agentApi.revoked = true;
    const [code] = await once(sim, 'close');
    expect(code).toBe(1);
    expect(output).toContain('no longer accepts this device');
  });
});
