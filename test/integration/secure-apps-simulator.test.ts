/**
 * The secure-apps passcode reset end to end (issue 12), against the contract in
 * functions/core/api-types.ts: a user registers with a PIN, the simulator enrolls, the user asks the
 * portal for a one-time PIN (POST /api/devices/{id}/secure-apps-passcode), and `secure-apps-reset`
 * with it succeeds once; the same PIN a second time is refused in one line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ApiErrorBody,
  RegistrationResponse,
  SecureAppsPasscodeResponse,
} from '../../functions/core/api-types.ts';
import { ROLES } from '../../functions/routes.ts';
import { api, portalUrl } from './helpers.ts';
import { newUser, putSettings, resetSettings } from './local-table.ts';
import { simulate } from './simulator.ts';

const dir = mkdtempSync(join(tmpdir(), 'secure-apps-simulator-'));
beforeAll(async () => {
  // The secure-apps reset is a role of its own; everyone gets it here.
  await putSettings({ goAttemptsPerAddress: 10_000, defaultRoles: [...ROLES] });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await resetSettings();
});

describe('secure-apps passcode reset with the simulator', () => {
  it('a one-time PIN from the portal resets the passcode once, and only once', async () => {
    const user = await newUser();
    const registration = await api<RegistrationResponse & ApiErrorBody>('/api/registrations', {
      method: 'POST',
      token: user.accessToken,
      body: { platform: 'ANDROID', method: 'PIN', delivery: [] },
    });
    expect(registration.status, JSON.stringify(registration.body)).toBe(201);
    const deviceId = registration.body.device.deviceId;

    const state = join(dir, 'device.json');
    const enrolled = await simulate([
      'enroll',
      '--portal',
      portalUrl(),
      '--state',
      state,
      '--user',
      user.email,
      '--pin',
      registration.body.pin ?? '',
      '--mode',
      'FULLY_MANAGED',
      '--secure-apps',
    ]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toContain(`Enrolled device ${deviceId}`);
    expect(enrolled.stdout).toContain('with the secure-apps container');

    const passcode = await api<SecureAppsPasscodeResponse & ApiErrorBody>(
      `/api/devices/${encodeURIComponent(deviceId)}/secure-apps-passcode`,
      { method: 'POST', token: user.accessToken },
    );
    expect(passcode.status, JSON.stringify(passcode.body)).toBe(201);
    expect(passcode.body.pin).toMatch(/^\d+$/);
    expect(Date.parse(passcode.body.expiresAt)).toBeGreaterThan(Date.now());

    const reset = ['secure-apps-reset', '--state', state, '--user', user.email, '--pin', passcode.body.pin];
    const first = await simulate(reset);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe('Secure-apps passcode reset: choose a new passcode in the agent app.');

    const second = await simulate(reset);
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(/^device simulator: Secure-apps passcode not reset: .+ \(\d{3}\)$/m);
    expect(second.stdout).toBe('');
  });
});
