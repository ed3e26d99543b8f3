/**
 * The device simulator's `secure-apps-reset` and `--secure-apps` / `--no-secure-apps` as a process:
 * its argument handling (each mistake one line), and what it sends, against a stand-in agent API.
 * The round trip against the real backend is secure-apps-simulator.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Run, simulate } from './simulator.ts';

const oneLine = (run: Run) => {
  expect(run.code).toBe(1);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^device simulator: /);
  expect(run.stderr).not.toMatch(/\bat .+:\d+:\d+/); // no stack
};

const dir = mkdtempSync(join(tmpdir(), 'secure-apps-args-'));

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

/** A stand-in agent API: enroll hands out a credential; verify answers what `verifyAnswer` says. */
let stub: Server;
let stubUrl = '';
const seen: Seen[] = [];
let verifyAnswer: { status: number; body: unknown } = { status: 200, body: { verified: true } };

function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {}));
  });
}

beforeAll(async () => {
  stub = createServer(async (request, response) => {
    const body = await readJson(request);
    seen.push({
      method: request.method ?? '',
      path: request.url ?? '',
      authorization: request.headers.authorization,
      body,
    });
    const json = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    if (request.url === '/api/agent/enroll')
      return json(201, { deviceId: 'dev-1', deviceCredential: 'cred-1' });
    if (request.url === '/api/agent/secure-apps-passcode/verify')
      return json(verifyAnswer.status, verifyAnswer.body);
    json(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', () => resolve()));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => stub.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function enrolledState(name: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      portal: stubUrl,
      deviceId: 'dev-1',
      deviceCredential: 'cred-1',
      facts: { platform: 'ANDROID' },
      enrolledAt: new Date().toISOString(),
    }),
    { mode: 0o600 },
  );
  return file;
}

describe('secure-apps-reset: a mistake is one line', () => {
  it('without --pin', async () => {
    const run = await simulate([
      'secure-apps-reset',
      '--state',
      enrolledState('no-pin.json'),
      '--user',
      'a@example.com',
    ]);
    oneLine(run);
    expect(run.stderr).toContain('secure-apps-reset needs --user and --pin');
  });

  it('without --user', async () => {
    const run = await simulate(['secure-apps-reset', '--state', enrolledState('no-user.json'), '--pin', '1']);
    oneLine(run);
    expect(run.stderr).toContain('secure-apps-reset needs --user and --pin');
  });

  it('--pin without a value', async () => {
    const run = await simulate(['secure-apps-reset', '--user', 'a@example.com', '--pin']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')[0]).toMatch(/^device simulator: .*--pin/);
  });

  it('without a state file', async () => {
    const run = await simulate([
      'secure-apps-reset',
      '--state',
      join(dir, 'missing.json'),
      '--user',
      'a@example.com',
      '--pin',
      '123456',
    ]);
    oneLine(run);
    expect(run.stderr).toContain('No enrolled device in');
  });

  it('with a portal that is not running', async () => {
    const state = enrolledState('unreachable.json');
    const run = await simulate([
      'secure-apps-reset',
      '--state',
      state,
      '--portal',
      'http://127.0.0.1:9',
      '--user',
      'a@example.com',
      '--pin',
      '123456',
    ]);
    oneLine(run);
    expect(run.stderr).toContain('cannot reach the portal');
  });
});

describe('secure-apps-reset against a stand-in agent API', () => {
  it('sends username and pin with the device credential; 200 → the reset line', async () => {
    verifyAnswer = { status: 200, body: { verified: true } };
    seen.length = 0;
    const run = await simulate([
      'secure-apps-reset',
      '--state',
      enrolledState('ok.json'),
      '--user',
      'a@example.com',
      '--pin',
      '654321',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('Secure-apps passcode reset: choose a new passcode in the agent app.');
    expect(seen).toEqual([
      {
        method: 'POST',
        path: '/api/agent/secure-apps-passcode/verify',
        authorization: 'Device cred-1',
        body: { username: 'a@example.com', pin: '654321' },
      },
    ]);
  });

  it("a refusal → the server's message in one line, exit 1", async () => {
    verifyAnswer = {
      status: 400,
      body: { error: { code: 'PIN_NOT_VALID', message: 'The PIN is wrong,\nused or expired.' } },
    };
    const run = await simulate([
      'secure-apps-reset',
      '--state',
      enrolledState('refused.json'),
      '--user',
      'a@example.com',
      '--pin',
      '000000',
    ]);
    oneLine(run);
    expect(run.stderr.trim()).toBe(
      'device simulator: Secure-apps passcode not reset: PIN_NOT_VALID: The PIN is wrong, used or expired. (400)',
    );
    expect(run.stdout).toBe('');
  });

  it('a non-JSON failure is still one line', async () => {
    verifyAnswer = { status: 502, body: 'Bad\ngateway' };
    const run = await simulate([
      'secure-apps-reset',
      '--state',
      enrolledState('bad-gateway.json'),
      '--user',
      'a@example.com',
      '--pin',
      '000000',
    ]);
    oneLine(run);
    expect(run.stderr).toContain('Secure-apps passcode not reset:');
    expect(run.stderr).toContain('(502)');
  });
});

describe('enroll: --secure-apps (default) / --no-secure-apps', () => {
  const enrollWith = async (name: string, extra: string[]) => {
    seen.length = 0;
    const state = join(dir, name);
    const run = await simulate([
      'enroll',
      '--portal',
      stubUrl,
      '--state',
      state,
      '--user',
      'a@example.com',
      '--pin',
      '12345678',
      ...extra,
    ]);
    return { run, state, body: seen.find((s) => s.path === '/api/agent/enroll')?.body };
  };

  it('sends secureAppsContainer: true by default', async () => {
    const { run, body, state } = await enrollWith('default.json', []);
    expect(run.code, run.stderr).toBe(0);
    expect(body?.secureAppsContainer).toBe(true);
    expect(run.stdout).toContain('with the secure-apps container');
    expect(JSON.parse(readFileSync(state, 'utf8')).secureAppsContainer).toBe(true);
  });

  it('sends secureAppsContainer: true with --secure-apps', async () => {
    const { run, body } = await enrollWith('on.json', ['--secure-apps']);
    expect(run.code, run.stderr).toBe(0);
    expect(body?.secureAppsContainer).toBe(true);
  });

  it('sends secureAppsContainer: false with --no-secure-apps', async () => {
    const { run, body, state } = await enrollWith('off.json', ['--no-secure-apps']);
    expect(run.code, run.stderr).toBe(0);
    expect(body?.secureAppsContainer).toBe(false);
    expect(run.stdout).toContain('without the secure-apps container');
    expect(JSON.parse(readFileSync(state, 'utf8')).secureAppsContainer).toBe(false);
  });

  it('refuses both at once in one line, before anything is sent', async () => {
    const { run } = await enrollWith('both.json', ['--secure-apps', '--no-secure-apps']);
    oneLine(run);
    expect(run.stderr).toContain('--secure-apps or --no-secure-apps, not both');
    expect(seen).toEqual([]);
  });

  it('go accepts --no-secure-apps (checked before /go is called)', async () => {
    seen.length = 0;
    const run = await simulate([
      'go',
      '--portal',
      stubUrl,
      '--state',
      join(dir, 'go.json'),
      '--user',
      'a@example.com',
      '--pin',
      '1',
      '--secure-apps',
      '--no-secure-apps',
    ]);
    oneLine(run);
    expect(seen).toEqual([]);
  });
});
