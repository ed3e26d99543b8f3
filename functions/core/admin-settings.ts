/**
 * The administrator's settings page (issue 13.5–7): read the current settings with their version,
 * and save a partial change on that version (optimistic locking), audited with what changed.
 */
import type { AdminSettingsResponse, AdminSettingsSavedResponse } from './api-types.ts';
import { ACCOUNT_DEVICE_ID, auditEvent, type RequestOrigin } from './audit.ts';
import { PortalError } from './errors.ts';
import { type AuditEvent, type Clock, ConcurrentUpdateError, type RandomSource } from './ports.ts';
import {
  applySettingsChange,
  changedPaths,
  defaultSettings,
  mergeDeep,
  type PortalSettings,
  ROLES,
  TEMPLATE_VARIABLES,
  unknownSettingPaths,
} from './settings.ts';

export interface AdminSettingsStore {
  getSettings(options?: { fresh?: boolean }): Promise<PortalSettings>;
  saveSettings(
    settings: PortalSettings,
    expectedVersion: number,
    audit?: AuditEvent,
  ): Promise<PortalSettings>;
}

export interface AdminSettingsPorts {
  store: AdminSettingsStore;
  clock: Clock;
  random: RandomSource;
}

/** The audit trail of a settings change sits in the administrator's own partition, on no device. */

export async function getAdminSettings(
  ports: Pick<AdminSettingsPorts, 'store'>,
): Promise<AdminSettingsResponse> {
  const settings = await ports.store.getSettings({ fresh: true });
  return {
    settings,
    version: settings.version,
    roles: [...ROLES],
    templateVariables: [...TEMPLATE_VARIABLES],
    defaults: defaultSettings(),
  };
}

function invalid(fields: { path: string; message: string }[]): PortalError {
  return new PortalError(
    'INVALID',
    'SETTINGS_INVALID',
    fields.length === 1
      ? 'One setting is not valid: correct it and save again.'
      : `${fields.length} settings are not valid: correct them and save again.`,
    undefined,
    undefined,
    { fields },
  );
}

/** 409 with what the page needs to show what changed: the current settings and where they differ. */
function changedMeanwhile(current: PortalSettings, changes: Record<string, unknown>): PortalError {
  return new PortalError(
    'CONFLICT',
    'SETTINGS_CHANGED',
    'Someone else saved the settings first.',
    undefined,
    undefined,
    {
      settings: current,
      version: current.version,
      // What this administrator sent that the current settings now hold differently.
      changed: changedPaths(current, mergeDeep(current, changes)),
    },
  );
}

export async function saveAdminSettings(
  ports: AdminSettingsPorts,
  caller: { sub: string },
  body: { version: number; changes: Record<string, unknown> },
  request: RequestOrigin,
): Promise<AdminSettingsSavedResponse> {
  const current = await ports.store.getSettings({ fresh: true });
  const unknown = unknownSettingPaths(current, body.changes);
  if (unknown.length > 0) throw invalid(unknown);
  const applied = applySettingsChange(current, body.changes);
  if (!applied.ok) throw invalid(applied.issues);
  if (current.version !== body.version) throw changedMeanwhile(current, body.changes);
  const changed = changedPaths(current, applied.settings);
  if (changed.length === 0) return { settings: current, version: current.version, changed };
  const audit = auditEvent(ports, request, {
    userSub: caller.sub,
    deviceId: ACCOUNT_DEVICE_ID,
    action: 'SETTINGS_CHANGED',
    detail: changed.join(', ').slice(0, 1000),
  });
  try {
    const saved = await ports.store.saveSettings(applied.settings, body.version, audit);
    return { settings: saved, version: saved.version, changed };
  } catch (error) {
    if (!(error instanceof ConcurrentUpdateError)) throw error;
    throw changedMeanwhile(await ports.store.getSettings({ fresh: true }), body.changes);
  }
}
