/**
 * The administrator's settings routes (issue 13.5–6) over the mocked document client: admins only,
 * a fresh read with the version, a partial change merged over the current settings, per-field
 * issues, optimistic locking and the audit of what changed in the same transaction.
 */
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  AdminSettingsResponse,
  AdminSettingsSavedResponse,
  SettingsConflict,
  SettingsFieldIssues,
} from '../../functions/core/api-types.ts';
import { defaultSettings, type PortalSettings, ROLES } from '../../functions/core/settings.ts';
import { handler as getSettings } from '../../functions/handlers/admin-get-settings.ts';
import { handler as putSettings } from '../../functions/handlers/admin-put-settings.ts';
import { ALICE_SUB, accessClaims, apiEvent, groupClaims, jsonBody, lambdaContext } from './fixtures.ts';
import {
  auditEvents,
  dynamo,
  errorOf,
  type FakeTable,
  onlyTransaction,
  resetMocks,
  transactionCanceled,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const ADMIN = groupClaims(['portal-admins']);
let table: FakeTable;

beforeEach(() => {
  table = resetMocks();
  table.putSettings({ helpdesk: { ...defaultSettings().helpdesk, phone: '+1 555 0199' } }, 4);
});

afterEach(() => {
  vi.useRealTimers();
});

const get = (claims = ADMIN) =>
  getSettings(apiEvent({ method: 'GET', path: '/api/admin/settings', claims }), lambdaContext());

const put = (body: unknown, claims = ADMIN) =>
  putSettings(
    apiEvent({ method: 'PUT', path: '/api/admin/settings', claims, body: JSON.stringify(body) }),
    lambdaContext(),
  );

function savedSettings(): PortalSettings {
  const [settingsPut] = onlyTransaction();
  const item = settingsPut?.Put?.Item;
  return { ...(item?.settings as Omit<PortalSettings, 'version'>), version: item?.version as number };
}

describe('GET /api/admin/settings', () => {
  it('answers 403 ADMIN_ONLY to a user outside portal-admins', async () => {
    const result = await get(accessClaims());
    expect(result.statusCode).toBe(403);
    expect(errorOf(result).code).toBe('ADMIN_ONLY');
    const other = await get(groupClaims(['sales']));
    expect(other.statusCode).toBe(403);
  });

  it('reads the settings with a consistent read and gives their version, the roles, variables and defaults', async () => {
    const result = await get();
    expect(result.statusCode).toBe(200);
    const body = jsonBody<AdminSettingsResponse>(result);
    expect(body.version).toBe(4);
    expect(body.settings.version).toBe(4);
    expect(body.settings.helpdesk.phone).toBe('+1 555 0199');
    expect(body.settings.helpdesk.name).toBe(defaultSettings().helpdesk.name);
    expect(body.roles).toEqual([...ROLES]);
    expect(body.templateVariables).toEqual([
      '{{displayName}}',
      '{{username}}',
      '{{goUrl}}',
      '{{expiresAt}}',
      '{{platform}}',
      '{{signInWith}}',
      '{{helpdesk}}',
    ]);
    expect(body.defaults.pinLength).toBe(defaultSettings().pinLength);
    const reads = dynamo.commandCalls(GetCommand).filter((c) => c.args[0].input.Key?.pk === 'CONFIG');
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads.every((c) => c.args[0].input.ConsistentRead === true)).toBe(true);
  });
});

describe('PUT /api/admin/settings', () => {
  it('answers 403 ADMIN_ONLY to a non-admin and writes nothing', async () => {
    const result = await put({ version: 4, changes: { pinLength: 10 } }, accessClaims());
    expect(result.statusCode).toBe(403);
    expect(errorOf(result).code).toBe('ADMIN_ONLY');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('lays a partial change over the current settings: siblings are kept', async () => {
    const result = await put({
      version: 4,
      changes: { registrationMethods: { qr: false }, helpdesk: { hours: '24/7' } },
    });
    expect(result.statusCode).toBe(200);
    const body = jsonBody<AdminSettingsSavedResponse>(result);
    expect(body.version).toBe(5);
    expect(body.changed.sort()).toEqual(['helpdesk.hours', 'registrationMethods.qr']);
    const saved = savedSettings();
    expect(saved.version).toBe(5);
    expect(saved.registrationMethods).toEqual({ invitation: true, pin: true, qr: false, passwordAtGo: true });
    expect(saved.helpdesk.phone).toBe('+1 555 0199');
    expect(saved.helpdesk.hours).toBe('24/7');
    expect(saved.pinLength).toBe(defaultSettings().pinLength);
  });

  it('saves on the version read, with the audit of what changed in the same transaction', async () => {
    const result = await put({ version: 4, changes: { groupRoles: { sales: ['wipe'] }, pinLength: 10 } });
    expect(result.statusCode).toBe(200);
    const items = onlyTransaction();
    expect(items).toHaveLength(2);
    const settingsPut = items[0]?.Put;
    expect(settingsPut?.ConditionExpression).toBe('#v = :v');
    expect(settingsPut?.ExpressionAttributeValues).toEqual({ ':v': 4 });
    const [audit] = auditEvents(items);
    expect(audit).toMatchObject({
      userSub: ALICE_SUB,
      deviceId: '-',
      action: 'SETTINGS_CHANGED',
      result: 'SUCCESS',
    });
    expect(audit?.detail?.split(', ').sort()).toEqual([
      'groupRoles.portal-admins',
      'groupRoles.sales',
      'pinLength',
    ]);
    expect(items[1]?.Put?.Item?.pk).toBe(`USER#${ALICE_SUB}`);
  });

  it('answers 400 with a message per wrong field, unknown fields included, and saves nothing', async () => {
    const result = await put({
      version: 4,
      changes: {
        pinLength: 3,
        publicOrigin: 'http://evil.example.com/path',
        helpdesk: { fax: '123' },
        colour: 'blue',
      },
    });
    expect(result.statusCode).toBe(400);
    const error = errorOf(result);
    expect(error.code).toBe('SETTINGS_INVALID');
    const { fields } = error.details as SettingsFieldIssues;
    expect(fields.map((f) => f.path).sort()).toEqual(['colour', 'helpdesk.fax']);
    expect(fields.every((f) => f.message.length > 0)).toBe(true);

    const values = await put({ version: 4, changes: { pinLength: 3, publicOrigin: 'http://x.example.com' } });
    expect(values.statusCode).toBe(400);
    const paths = (errorOf(values).details as SettingsFieldIssues).fields.map((f) => f.path).sort();
    expect(paths).toEqual(['pinLength', 'publicOrigin']);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 409 SETTINGS_CHANGED on a stale version with the current settings and what differs', async () => {
    const result = await put({
      version: 3,
      changes: { helpdesk: { phone: '+1 555 0100' }, pinLength: defaultSettings().pinLength },
    });
    expect(result.statusCode).toBe(409);
    const error = errorOf(result);
    expect(error.code).toBe('SETTINGS_CHANGED');
    expect(error.message).toBe('Someone else saved the settings first.');
    const details = error.details as SettingsConflict;
    expect(details.version).toBe(4);
    expect(details.settings.helpdesk.phone).toBe('+1 555 0199');
    expect(details.changed).toEqual(['helpdesk.phone']);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 409 when another save lands between the read and the write', async () => {
    dynamo.on(TransactWriteCommand).rejects(transactionCanceled(['ConditionalCheckFailed', 'None']));
    const result = await put({ version: 4, changes: { pinLength: 10 } });
    expect(result.statusCode).toBe(409);
    const details = errorOf(result).details as SettingsConflict;
    expect(details.version).toBe(4);
    expect(details.changed).toEqual(['pinLength']);
  });

  it('saves nothing when nothing changed', async () => {
    const result = await put({ version: 4, changes: { pinLength: defaultSettings().pinLength } });
    expect(result.statusCode).toBe(200);
    expect(jsonBody<AdminSettingsSavedResponse>(result)).toMatchObject({ version: 4, changed: [] });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('refuses a body without the version read', async () => {
    const result = await put({ changes: { pinLength: 10 } });
    expect(result.statusCode).toBe(400);
  });
});
