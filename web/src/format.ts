import type { DeviceStatus, DeviceSummary, Ownership, Platform } from '../../functions/core/api-types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

function toTime(iso: string): number {
  return new Date(iso).getTime();
}

/** "2 hours ago", "just now", "yesterday". */
export function relativeTime(iso: string, now = Date.now()): string {
  const diff = toTime(iso) - now;
  const abs = Math.abs(diff);
  if (abs < 45_000) return 'just now';
  if (abs < HOUR) return relative.format(Math.round(diff / MINUTE), 'minute');
  if (abs < DAY) return relative.format(Math.round(diff / HOUR), 'hour');
  if (abs < 30 * DAY) return relative.format(Math.round(diff / DAY), 'day');
  return dateFormat.format(new Date(iso));
}

export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

export function formatDateTime(iso: string): string {
  return dateTimeFormat.format(new Date(iso));
}

/** The clock time, with the date too when it is not today. */
export function formatTimeOrDateTime(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  return new Date(now).toDateString() === d.toDateString() ? timeFormat.format(d) : dateTimeFormat.format(d);
}

/** "47 min", "2 h 5 min", "3 days": a coarse duration for cards. */
export function durationWords(ms: number): string {
  if (ms < MINUTE) return 'less than a minute';
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min`;
  if (ms < 2 * DAY) {
    const h = Math.floor(ms / HOUR);
    const m = Math.floor((ms % HOUR) / MINUTE);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  return `${Math.floor(ms / DAY)} days`;
}

/**
 * "64 KB", "1.5 MB", "900 bytes" (1 KB = 1024 bytes). Rounded down: said of a limit, it never
 * promises more than the limit takes.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.floor(bytes / 1024)} KB`;
  return `${Math.floor((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

/** "59:58" or "1:02:03": a live countdown. */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export const STATUS_LABEL: Record<DeviceStatus, string> = {
  PENDING: 'Pending',
  ACTIVE: 'Active',
  EXPIRED: 'Expired',
  CANCELLED: 'Cancelled',
  RETIRED: 'Retired',
  WIPED: 'Wiped',
};

export const PLATFORM_LABEL: Record<Platform, string> = {
  IOS: 'iPhone/iPad',
  ANDROID: 'Android device',
};

export const PLATFORM_OS: Record<Platform, string> = { IOS: 'iOS', ANDROID: 'Android' };

export const OWNERSHIP_LABEL: Record<Ownership, string> = {
  EMPLOYEE: 'Employee-owned',
  COMPANY: 'Company-owned',
};

export function deviceTitle(device: DeviceSummary): string {
  return device.deviceType || PLATFORM_LABEL[device.platform];
}

/** How a device is called: the user's own name for it, else its model's (`deviceTitle`). */
export function deviceName(device: DeviceSummary): string {
  return device.name || deviceTitle(device);
}

/** "iOS 17.4.1": the OS name unless the version already carries it. */
export function osLabel(device: DeviceSummary): string | null {
  if (!device.osVersion) return null;
  const os = PLATFORM_OS[device.platform];
  return device.osVersion.toLowerCase().startsWith(os.toLowerCase())
    ? device.osVersion
    : `${os} ${device.osVersion}`;
}
