/**
 * Contract-shaped stubs for the browser tests of issue 12 (ownership, secure-apps passcode, derived
 * credential) and 13.3 (certificates): the backend is built elsewhere, so after a real sign-in
 * page.route answers the device and certificate routes; /api/me and Cognito stay real.
 */
import type { Page, Request, Route } from 'playwright-core';
import type {
  ActionAvailability,
  ActivityResponse,
  DeviceAction,
  DeviceDetailResponse,
  DeviceListResponse,
  DeviceSummary,
} from '../../functions/core/api-types.ts';

export const DEVICE_ID = 'dev-e2e-issue-12';

export function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

export function activeDevice(
  overrides: Partial<DeviceDetailResponse['device']> = {},
): DeviceDetailResponse['device'] {
  return {
    deviceId: DEVICE_ID,
    version: 3,
    name: 'Work iPhone',
    status: 'ACTIVE',
    platform: 'IOS',
    ownership: 'COMPANY',
    deviceType: 'iPhone 15',
    manufacturer: 'Apple',
    osVersion: '17.5',
    phoneNumber: '+15555550100',
    carrier: 'Example Mobile',
    imei: '356938035643809',
    lastCheckInAt: minutesAgo(12),
    registeredAt: minutesAgo(60 * 24 * 20),
    createdAt: minutesAgo(60 * 24 * 21),
    registration: null,
    canRemove: false,
    derivedCredential: { status: 'NONE', at: null, name: null, canRequest: false },
    managementMode: 'DEVICE_ENROLLMENT',
    lostMode: null,
    lastPosition: null,
    nextCheckInDueAt: new Date(Date.now() + 45 * 60_000).toISOString(),
    secureAppsContainer: true,
    ...overrides,
  };
}

export function pendingDevice(overrides: Partial<DeviceSummary> = {}): DeviceSummary {
  return {
    deviceId: DEVICE_ID,
    version: 1,
    name: 'New iPhone',
    status: 'PENDING',
    platform: 'IOS',
    ownership: 'COMPANY',
    deviceType: null,
    manufacturer: null,
    osVersion: null,
    phoneNumber: null,
    carrier: null,
    imei: null,
    lastCheckInAt: null,
    registeredAt: null,
    createdAt: minutesAgo(2),
    registration: {
      method: 'PIN',
      stage: 'WAITING_FOR_DEVICE',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      enrollmentExpiresAt: null,
      canResend: true,
      deliveries: [],
    },
    canRemove: false,
    derivedCredential: { status: 'NONE', at: null, name: null, canRequest: true },
    ...overrides,
  };
}

export function available(action: DeviceAction, consequence: string | null = null): ActionAvailability {
  return {
    action,
    available: true,
    reason: null,
    needsRecentSignIn: action === 'WIPE' || action === 'RETIRE',
    consequence,
  };
}

export function unavailable(action: DeviceAction, message: string): ActionAvailability {
  return {
    action,
    available: false,
    reason: { code: 'POLICY', message },
    needsRecentSignIn: false,
    consequence: null,
  };
}

export interface Seen {
  method: string;
  path: string;
  body: unknown;
  authorization: string | undefined;
}

export interface Answer {
  status: number;
  json: unknown;
}

export interface Stub {
  /** GET /api/devices/{id}. */
  detail?: () => DeviceDetailResponse;
  /** GET /api/devices. */
  list?: () => DeviceListResponse;
  /** Everything else under /api/ (not /api/me): method and path; absent or undefined: 404. */
  answer?: (method: string, path: string, body: unknown) => Answer | undefined;
  seen: Seen[];
}

const EMPTY_ACTIVITY: ActivityResponse = { events: [], nextCursor: null };

export function json(route: Route, status: number, body: unknown) {
  return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
}

function bodyOf(request: Request): unknown {
  const raw = request.postData();
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export async function stubApi(page: Page, stub: Stub): Promise<void> {
  await page.route('**/api/**', async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    const method = request.method();
    const path = url.pathname;
    if (path === '/api/me') return route.fallback();
    const body = bodyOf(request);
    stub.seen.push({ method, path, body, authorization: request.headers().authorization });
    const base = `/api/devices/${DEVICE_ID}`;
    if (path === '/api/devices' && method === 'GET') {
      if (stub.list) return json(route, 200, stub.list());
      const detail = stub.detail?.();
      const list: DeviceListResponse = { devices: detail ? [detail.device] : [], inUse: detail ? 1 : 0 };
      return json(route, 200, list);
    }
    if (path === base && method === 'GET' && stub.detail) return json(route, 200, stub.detail());
    if (path.endsWith('/activity') || path === '/api/activity') return json(route, 200, EMPTY_ACTIVITY);
    const answer = stub.answer?.(method, path, body);
    if (answer) return json(route, answer.status, answer.json);
    return json(route, 404, { error: { code: 'NOT_FOUND', message: 'No such route.' } });
  });
}

export const RECENT_SIGN_IN: Answer = {
  status: 401,
  json: { error: { code: 'RECENT_SIGN_IN_REQUIRED', message: 'Sign in again to go on.' } },
};

/** Errors other than the HTTP statuses the stubs answer on purpose (CSP violations stay errors). */
export function unexpected(errors: string[]): string[] {
  return errors.filter(
    (e) =>
      !/Failed to load resource: the server responded with a status of (400|401|403|404|409|410|413)/.test(e),
  );
}
