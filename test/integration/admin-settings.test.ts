/**
 * The administrator's settings (issue 13.5–7) against the emulators: an admin reads and saves on the
 * version read, everyone else gets 403, two saves on one version (the second is told), and a change
 * takes effect on users' next request (the local twin caches settings for 0 ms).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  AdminSettingsResponse,
  AdminSettingsSavedResponse,
  AgentEnrollResponse,
  ApiErrorBody,
  MeResponse,
  RegistrationResponse,
  SettingsConflict,
  SettingsFieldIssues,
} from '../../functions/core/api-types.ts';
import { ROLES } from '../../functions/routes.ts';
import { ADMIN, api, decodeJwt, tokensOf } from './helpers.ts';
import { newUser, putSettings, rawItem, resetSettings, userItems } from './local-table.ts';

type Answer = AdminSettingsResponse & AdminSettingsSavedResponse & ApiErrorBody;

async function adminToken(): Promise<string> {
  return (await tokensOf(ADMIN)).accessToken;
}

const read = async (token?: string) =>
  api<Answer>('/api/admin/settings', { token: token ?? (await adminToken()) });

const save = async (version: number, changes: Record<string, unknown>, token?: string) =>
  api<Answer>('/api/admin/settings', {
    method: 'PUT',
    token: token ?? (await adminToken()),
    body: { version, changes },
  });

beforeEach(async () => {
  await putSettings({
    goAttemptsPerAddress: 10_000,
    deviceLimitPerUser: 20,
    invitationsPerUserPerHour: 1000,
  });
});

afterAll(async () => {
  await resetSettings();
});

describe('GET and PUT /api/admin/settings', () => {
  it('gives an admin the current settings with their version, then saves a partial change on it', async () => {
    const first = await read();
    expect(first.status).toBe(200);
    expect(first.body.roles).toEqual([...ROLES]);
    expect(first.body.templateVariables).toContain('{{goUrl}}');
    const version = first.body.version;

    const saved = await save(version, { helpdesk: { hours: 'Around the clock' } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.version).toBe(version + 1);
    expect(saved.body.changed).toEqual(['helpdesk.hours']);

    const again = await read();
    expect(again.body.version).toBe(version + 1);
    expect(again.body.settings.helpdesk.hours).toBe('Around the clock');
    expect(again.body.settings.helpdesk.name).toBe(first.body.settings.helpdesk.name);

    const item = await rawItem('CONFIG', 'SETTINGS');
    expect(item?.version).toBe(version + 1);
    const adminSub = String(decodeJwt(await adminToken()).sub);
    const audit = (await userItems(adminSub)).filter(
      (i) => (i.event as { action?: string } | undefined)?.action === 'SETTINGS_CHANGED',
    );
    expect(audit.map((i) => (i.event as { detail?: string }).detail)).toContain('helpdesk.hours');
  });

  it('answers 403 ADMIN_ONLY from both routes to a user outside portal-admins', async () => {
    const alice = await newUser();
    const get = await read(alice.accessToken);
    expect(get.status).toBe(403);
    expect(get.body.error.code).toBe('ADMIN_ONLY');
    const put = await save(1, { pinLength: 10 }, alice.accessToken);
    expect(put.status).toBe(403);
    expect(put.body.error.code).toBe('ADMIN_ONLY');
  });

  it('answers 400 with a message per wrong field', async () => {
    const { version } = (await read()).body;
    const refused = await save(version, { pinLength: 2, helpdesk: { fax: '1' } });
    expect(refused.status).toBe(400);
    const { fields } = refused.body.error.details as SettingsFieldIssues;
    expect(fields.map((f) => f.path)).toContain('helpdesk.fax');
  });

  it('tells the second of two admins saving on the same version, with what differs', async () => {
    const { version } = (await read()).body;
    const [a, b] = await Promise.all([
      save(version, { pinLength: 9 }),
      save(version, { pinLength: 10, helpdesk: { note: 'Second' } }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error.code).toBe('SETTINGS_CHANGED');
    expect(loser.body.error.message).toBe('Someone else saved the settings first.');
    const details = loser.body.error.details as SettingsConflict;
    expect(details.version).toBe(version + 1);
    expect(details.changed).toContain('pinLength');
  });
});

describe('a change takes effect on the next request of users', () => {
  it('QR registration turned off: /api/me says so and a QR registration is refused', async () => {
    const alice = await newUser();
    const { version } = (await read()).body;
    expect((await save(version, { registrationMethods: { qr: false } })).status).toBe(200);
    const me = await api<MeResponse>('/api/me', { token: alice.accessToken });
    expect(me.body.features.registrationMethods.qr).toBe(false);
    expect(me.body.features.registrationMethods.pin).toBe(true);
    const refused = await api<ApiErrorBody>('/api/registrations', {
      method: 'POST',
      token: alice.accessToken,
      body: { platform: 'ANDROID', method: 'QR', delivery: [] },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('METHOD_DISABLED');
  });

  it('the wipe role taken away: wipe answers 403', async () => {
    const alice = await newUser();
    let { version } = (await read()).body;
    const granted = await save(version, { defaultRoles: [...ROLES] });
    expect(granted.status).toBe(200);
    version = granted.body.version;
    const created = await api<RegistrationResponse>('/api/registrations', {
      method: 'POST',
      token: alice.accessToken,
      body: { platform: 'ANDROID', method: 'PIN', delivery: [], ownership: 'COMPANY' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const enrolled = await api<AgentEnrollResponse>('/api/agent/enroll', {
      method: 'POST',
      body: {
        username: alice.email,
        pin: created.body.pin,
        managementMode: 'FULLY_MANAGED',
        device: {
          platform: 'ANDROID',
          deviceType: 'Pixel 9',
          manufacturer: 'Google',
          osVersion: 'Android 15',
        },
      },
    });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);

    const withoutWipe = ROLES.filter((role) => role !== 'wipe');
    expect((await save(version, { defaultRoles: withoutWipe })).status).toBe(200);
    const refused = await api<ApiErrorBody>(`/api/devices/${enrolled.body.deviceId}/wipe`, {
      method: 'POST',
      token: alice.accessToken,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ROLE_REQUIRED');
  });
});
