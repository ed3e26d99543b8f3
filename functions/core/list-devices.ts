import type { DeviceListResponse } from './api-types.ts';
import { countsAgainstLimit, type DeviceRecord, toDeviceSummary } from './device.ts';
import type { Clock } from './ports.ts';
import { derivedCredentialOffered, type PortalSettings } from './settings.ts';

export interface DeviceReader {
  listDevices(userSub: string): Promise<DeviceRecord[]>;
}

/** Registrations waiting for the user first, then devices in use, then the past. */
const STATUS_ORDER = ['PENDING', 'EXPIRED', 'ACTIVE', 'RETIRED', 'WIPED', 'CANCELLED'];

/**
 * GET /api/devices: the caller's devices in the order the portal shows them (the web app does not
 * sort): by STATUS_ORDER, newest first within each (by registration, else by request).
 */
export async function listDevices(
  ports: { devices: DeviceReader; clock: Clock; settings?: { getSettings(): Promise<PortalSettings> } },
  userSub: string,
): Promise<DeviceListResponse> {
  const now = ports.clock.now();
  const [records, settings] = await Promise.all([
    ports.devices.listDevices(userSub),
    ports.settings?.getSettings(),
  ]);
  const offered = settings ? derivedCredentialOffered(settings) : false;
  const devices = records.map((d) => toDeviceSummary(d, now, offered));
  devices.sort(
    (a, b) =>
      STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) ||
      (b.registeredAt ?? b.createdAt).localeCompare(a.registeredAt ?? a.createdAt),
  );
  return { devices, inUse: records.filter((d) => countsAgainstLimit(d, now)).length };
}
