/** The activity feed's one-line summaries (functions/core/activity.ts), built from audit details. */
import { describe, expect, it } from 'vitest';
import { toActivityEvent } from '../../functions/core/activity.ts';
import { commandDetail } from '../../functions/core/commands.ts';
import type { AuditEvent } from '../../functions/core/ports.ts';

const COMMAND_ID = 'c0000000-0000-4000-8000-000000000001';

function event(action: string, detail: string): AuditEvent {
  return {
    id: 'e1',
    userSub: 'u',
    deviceId: 'd',
    action,
    result: 'SUCCESS',
    detail,
    sourceIp: '127.0.0.1',
    userAgent: 'test',
    at: '2026-12-02T00:00:00.000Z',
  };
}

const certificate = { certificateId: 'x', name: 'Alice S/MIME', fingerprintSha256: 'AA' };

describe('activity summaries of commands', () => {
  it('names a device action by its words', () => {
    const detail = commandDetail({ action: 'LOCK', commandId: COMMAND_ID });
    expect(toActivityEvent(event('COMMAND_DONE', detail)).summary).toBe('Lock done');
  });

  it('names the certificate an install or removal is about', () => {
    const detail = commandDetail({ action: 'INSTALL_CERTIFICATE', commandId: COMMAND_ID, certificate });
    expect(toActivityEvent(event('COMMAND_SENT', detail)).summary).toBe(
      'Install certificate “Alice S/MIME” picked up by the device',
    );
  });

  it('keeps the device’s error after the certificate’s name', () => {
    const detail = `${commandDetail({ action: 'REMOVE_CERTIFICATE', commandId: COMMAND_ID, certificate })}: KEYCHAIN_LOCKED`;
    expect(toActivityEvent(event('COMMAND_FAILED', detail)).summary).toBe(
      'Remove certificate “Alice S/MIME” failed: KEYCHAIN_LOCKED',
    );
  });

  it('keeps a colon in a certificate’s name from being read as the start of an error', () => {
    const named = { ...certificate, name: 'VPN: Berlin office' };
    const detail = commandDetail({
      action: 'INSTALL_CERTIFICATE',
      commandId: COMMAND_ID,
      certificate: named,
    });
    expect(toActivityEvent(event('COMMAND_DONE', detail)).summary).toBe(
      'Install certificate “VPN Berlin office” done',
    );
  });
});
