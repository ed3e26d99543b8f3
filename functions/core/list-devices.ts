import type { DeviceListResponse } from './api-types.ts';
import { type DeviceRecord, toDeviceSummary } from './device.ts';
import type { Clock } from './ports.ts';

export interface DeviceReader {
  listDevices(userSub: string): Promise<DeviceRecord[]>;
}

const STATUS_ORDER = ['ACTIVE', 'PENDING', 'EXPIRED', 'RETIRED', 'WIPED', 'CANCELLED'];

/** GET /api/devices: the caller's devices, active and pending first, newest first within each. */
export async function listDevices(
  ports: { devices: DeviceReader; clock: Clock },
  userSub: string,
): Promise<DeviceListResponse> {
  const now = ports.clock.now();
  const devices = (await ports.devices.listDevices(userSub)).map((d) => toDeviceSummary(d, now));
  devices.sort(
    (a, b) =>
      STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) ||
      b.createdAt.localeCompare(a.createdAt),
  );
  return { devices };
}
