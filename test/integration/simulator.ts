/**
 * The device simulator in tests: one run of it as a process (`simulate`), one that stays online
 * (enroll --push) for the tests in which the portal wakes a device and it carries out what it is
 * handed, and a device enrolled through the API alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type {
  AgentEnrollResponse,
  ApiErrorBody,
  RegistrationResponse,
} from '../../functions/core/api-types.ts';
import { api, portalUrl } from './helpers.ts';
import type { TestUser } from './local-table.ts';

export const SIMULATOR = ['--import', 'tsx', 'infra/local/device-simulator.ts'];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One run of `npm run device -- …args`, to its end. */
export function simulate(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...SIMULATOR, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls until `probe` answers something other than undefined. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface OnlineDevice {
  child: ChildProcess;
  deviceId: string;
  stateFile: string;
  output(): string;
}

/** What the portal registers the device as (its name on the page, its ownership). */
export interface RegistrationOptions {
  name?: string;
  ownership?: 'EMPLOYEE' | 'COMPANY';
}

/** Where LOCATE says the simulator is, unless a test asks for the simulator's own default. */
export const TEST_LOCATION = '40.6892,-74.0445';

/** An Android registration with a PIN, enrolled by the simulator with --push: it then stays online. */
export async function onlineDevice(
  dir: string,
  user: TestUser,
  stateName: string,
  registrationOptions: RegistrationOptions = {},
  { location = TEST_LOCATION }: { location?: string | null } = {},
): Promise<OnlineDevice> {
  const registration = await api<RegistrationResponse & ApiErrorBody>('/api/registrations', {
    method: 'POST',
    token: user.accessToken,
    body: { platform: 'ANDROID', method: 'PIN', delivery: [], ...registrationOptions },
  });
  expect(registration.status, JSON.stringify(registration.body)).toBe(201);
  const stateFile = join(dir, `${stateName}.json`);
  const child = spawn(
    process.execPath,
    [
      ...SIMULATOR,
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
      ...(location ? ['--location', location] : []),
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

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGINT');
  await once(child, 'close');
}

/** An Android device enrolled through the API with a registration PIN (no simulator): Active at once. */
export async function enrolledDevice(
  user: TestUser,
  registration: RegistrationOptions = {},
): Promise<{ deviceId: string; deviceCredential: string }> {
  const created = await api<RegistrationResponse & ApiErrorBody>('/api/registrations', {
    method: 'POST',
    token: user.accessToken,
    body: { platform: 'ANDROID', method: 'PIN', delivery: [], ...registration },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const enrolled = await api<AgentEnrollResponse & ApiErrorBody>('/api/agent/enroll', {
    method: 'POST',
    body: {
      username: user.email,
      pin: created.body.pin,
      managementMode: 'FULLY_MANAGED',
      device: { platform: 'ANDROID', deviceType: 'Pixel 9', manufacturer: 'Google', osVersion: 'Android 15' },
    },
  });
  expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
  return enrolled.body;
}
