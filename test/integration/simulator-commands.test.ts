/**
 * Device actions end to end: a user queues a command through the API, the portal wakes the device
 * simulator through the local SNS, the simulator checks in, carries it out and reports DONE.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ApiErrorBody,
  CommandResponse,
  CommandSummary,
  DeviceDetailResponse,
  RegistrationResponse,
} from '../../functions/core/api-types.ts';
import { api, portalUrl } from './helpers.ts';
import { newUser, putSettings, resetSettings, type TestUser } from './local-table.ts';

interface Outbox {
  push: { endpointArn: string; token: string; message: string; deliveredTo: string | null }[];
}

const dir = mkdtempSync(join(tmpdir(), 'simulator-commands-'));
beforeAll(async () => {
  // Every test enrolls from 127.0.0.1: the per-address /go limit must not be what answers.
  await putSettings({ goAttemptsPerAddress: 10_000 });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await resetSettings();
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An Android registration with a PIN, enrolled by the simulator with --push: it then stays online. */
async function onlineDevice(user: TestUser, name: string) {
  const registration = await api<RegistrationResponse & ApiErrorBody>('/api/registrations', {
    method: 'POST',
    token: user.accessToken,
    body: { platform: 'ANDROID', method: 'PIN', delivery: [] },
  });
  expect(registration.status, JSON.stringify(registration.body)).toBe(201);
  const stateFile = join(dir, `${name}.json`);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'infra/local/device-simulator.ts',
      'enroll',
      '--portal',
      portalUrl(),
      '--state',
      stateFile,
      '--user',
      user.email,
      '--pin',
      registration.body.pin ?? '',
      '--mode',
      'FULLY_MANAGED',
      '--push',
      // No scheduled check-in during the test: only a wake-up can bring the command.
      '--interval',
      '3600',
      '--location',
      '40.6892,-74.0445',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await until(async () => (output.includes('Checked in') ? true : undefined), 'the first check-in');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { deviceId: string };
  return { child, deviceId: state.deviceId, stateFile, output: () => output };
}

async function finished(user: TestUser, deviceId: string, commandId: string): Promise<CommandSummary> {
  return until(async () => {
    const detail = await api<DeviceDetailResponse>(`/api/devices/${deviceId}`, { token: user.accessToken });
    expect(detail.status).toBe(200);
    const command = detail.body.commands.find((c) => c.commandId === commandId);
    return command && (command.status === 'DONE' || command.status === 'FAILED') ? command : undefined;
  }, `command ${commandId} to finish`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGINT');
  await once(child, 'close');
}

describe('device actions carried out by the running simulator', () => {
  it('lock: queued through the API, the device is woken, locks and reports DONE', async () => {
    const user = await newUser();
    const device = await onlineDevice(user, 'lock');
    try {
      const queued = await api<CommandResponse & ApiErrorBody>(`/api/devices/${device.deviceId}/lock`, {
        method: 'POST',
        token: user.accessToken,
        body: { message: 'This phone belongs to ACME', phoneNumber: '+14155550123' },
      });
      expect(queued.status, JSON.stringify(queued.body)).toBe(202);
      expect(queued.body.command.action).toBe('LOCK');
      const done = await finished(user, device.deviceId, queued.body.command.commandId);
      expect(done.status).toBe('DONE');
      expect(done.completedAt).toBeTruthy();
      expect(device.output()).toContain('Wake-up:');
      expect(device.output()).toContain('This phone belongs to ACME');
      // The wake-up went through the local SNS to the simulator's own URL.
      const outbox = (await api<Outbox>('/_local/outbox.json')).body;
      const token = /push token \(wake-up URL\): (\S+)/.exec(device.output())?.[1];
      expect(outbox.push.some((p) => p.deliveredTo === token && p.message.includes('checkin'))).toBe(true);
    } finally {
      await stop(device.child);
    }
  });

  it('locate: the position the simulator reports is the command result', async () => {
    const user = await newUser();
    const device = await onlineDevice(user, 'locate');
    try {
      const queued = await api<CommandResponse & ApiErrorBody>(`/api/devices/${device.deviceId}/locate`, {
        method: 'POST',
        token: user.accessToken,
      });
      expect(queued.status, JSON.stringify(queued.body)).toBe(202);
      const done = await finished(user, device.deviceId, queued.body.command.commandId);
      expect(done.status).toBe('DONE');
      expect(done.position).toMatchObject({ latitude: 40.6892, longitude: -74.0445 });
    } finally {
      await stop(device.child);
    }
  });
});
