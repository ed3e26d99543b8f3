/**
 * Device actions end to end: a user queues a command through the API, the portal wakes the device
 * simulator through the local SNS, the simulator checks in, carries it out and reports DONE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ApiErrorBody,
  CommandResponse,
  CommandSummary,
  DeviceDetailResponse,
} from '../../functions/core/api-types.ts';
import { api } from './helpers.ts';
import { newUser, putSettings, resetSettings, type TestUser } from './local-table.ts';
import { onlineDevice, stop, until } from './simulator.ts';

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

async function finished(user: TestUser, deviceId: string, commandId: string): Promise<CommandSummary> {
  return until(async () => {
    const detail = await api<DeviceDetailResponse>(`/api/devices/${deviceId}`, { token: user.accessToken });
    expect(detail.status).toBe(200);
    const command = detail.body.commands.find((c) => c.commandId === commandId);
    return command && (command.status === 'DONE' || command.status === 'FAILED') ? command : undefined;
  }, `command ${commandId} to finish`);
}

describe('device actions carried out by the running simulator', () => {
  it('lock: queued through the API, the device is woken, locks and reports DONE', async () => {
    const user = await newUser();
    const device = await onlineDevice(dir, user, 'lock');
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
    const device = await onlineDevice(dir, user, 'locate');
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
