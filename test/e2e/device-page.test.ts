/**
 * The device page (issue 11) against a stubbed API: the real backend of the device actions is built
 * elsewhere, so after a real sign-in the tests answer /api/devices…, the action routes and the
 * activity feeds with contract-shaped JSON (page.route); /api/me and Cognito stay real. Map tiles
 * are answered with a tiny PNG, so nothing depends on the internet.
 */
import type { Browser, Page, Request, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  ActionAvailability,
  ActivityEvent,
  ActivityResponse,
  CommandResponse,
  CommandSummary,
  DeviceDetailResponse,
  DeviceListResponse,
} from '../../functions/core/api-types.ts';
import { expectAccessible } from './axe.ts';
import { accountMenu, BOB, DEMO_PASSWORD, launchBrowser, openPage, signIn } from './browser.ts';
import { activeDevice, available, minutesAgo, type Seen, unexpected } from './device-stubs.ts';

const DESKTOP = { viewport: { width: 1280, height: 900 } };
const DEVICE_ID = 'dev-e2e-actions';
const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

/** The shared active iPhone, under this file's id and without the secure-apps container. */
function device(): DeviceDetailResponse['device'] {
  return activeDevice({ deviceId: DEVICE_ID, secureAppsContainer: false });
}

const LOST_MODE_REASON = 'Lost mode needs a supervised iPhone; this one was enrolled by its owner.';
const WIPE_CONSEQUENCE = 'Everything on this iPhone 15 is erased, personal data included, and it is removed.';

function actions(): ActionAvailability[] {
  return [
    available('LOCK'),
    {
      action: 'LOST_MODE',
      available: false,
      reason: { code: 'NOT_SUPPORTED', message: LOST_MODE_REASON },
      needsRecentSignIn: false,
      consequence: null,
    },
    available('LOCATE', 'The device reports where it is; the company sees the position.'),
    available('WIPE', WIPE_CONSEQUENCE),
  ];
}

function command(
  overrides: Partial<CommandSummary> & Pick<CommandSummary, 'action' | 'status'>,
): CommandSummary {
  return {
    commandId: `cmd-${overrides.action.toLowerCase()}`,
    createdAt: minutesAgo(1),
    expiresAt: new Date(Date.now() + 72 * 3_600_000).toISOString(),
    sentAt: null,
    completedAt: null,
    lockScreen: null,
    error: null,
    position: null,
    certificate: null,
    canCancel: overrides.status === 'QUEUED',
    ...overrides,
  };
}

function event(
  id: string,
  summary: string,
  minutes: number,
  result: ActivityEvent['result'] = 'SUCCESS',
): ActivityEvent {
  return {
    id,
    at: minutesAgo(minutes),
    deviceId: DEVICE_ID,
    action: 'COMMAND_DONE',
    result,
    summary,
    actor: 'USER',
  };
}

/** The detail as these tests give it: ownership change is not what they test (issue 12 has its own). */
type Detail = Omit<DeviceDetailResponse, 'ownershipChange'> &
  Partial<Pick<DeviceDetailResponse, 'ownershipChange'>>;

const NO_OWNERSHIP_CHANGE: DeviceDetailResponse['ownershipChange'] = {
  allowed: false,
  reason: null,
  needsRecentSignIn: true,
};

interface Stub {
  /** The detail GET /api/devices/{id} answers (called for each request). */
  detail: () => Detail;
  /** Answers an action (POST/DELETE under the device); absent: 404. */
  action?: (
    method: string,
    route: string,
    body: unknown,
  ) => { status: number; json: unknown; headers?: Record<string, string> };
  activity?: (cursor: string | null) => ActivityResponse;
  deviceActivity?: (cursor: string | null) => ActivityResponse;
  seen: Seen[];
}

const EMPTY_ACTIVITY: ActivityResponse = { events: [], nextCursor: null };

function json(route: Route, status: number, body: unknown, headers: Record<string, string> = {}) {
  return route.fulfill({ status, contentType: 'application/json', headers, body: JSON.stringify(body) });
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

/** Answers the device routes from `stub`; everything else (/api/me, Cognito) goes to the real portal. */
async function stubApi(page: Page, stub: Stub): Promise<void> {
  await page.route(
    (url) => url.pathname.endsWith('.png') && url.hostname !== '127.0.0.1' && url.hostname !== 'localhost',
    (route) => route.fulfill({ status: 200, contentType: 'image/png', body: TINY_PNG }),
  );
  await page.route('**/api/**', async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    const method = request.method();
    const path = url.pathname;
    const cursor = url.searchParams.get('cursor');
    const base = `/api/devices/${DEVICE_ID}`;
    if (path === '/api/me') return route.fallback();
    stub.seen.push({ method, path, body: bodyOf(request), authorization: request.headers().authorization });
    if (path === '/api/devices' && method === 'GET') {
      const { device: d } = stub.detail();
      const list: DeviceListResponse = { devices: [d], inUse: 1 };
      return json(route, 200, list);
    }
    if (path === base && method === 'GET') {
      const answer: DeviceDetailResponse = { ownershipChange: NO_OWNERSHIP_CHANGE, ...stub.detail() };
      return json(route, 200, answer);
    }
    if (path === `${base}/activity`) return json(route, 200, stub.deviceActivity?.(cursor) ?? EMPTY_ACTIVITY);
    if (path === '/api/activity') return json(route, 200, stub.activity?.(cursor) ?? EMPTY_ACTIVITY);
    if (path.startsWith(`${base}/`) && stub.action) {
      const answer = stub.action(method, path.slice(base.length + 1), bodyOf(request));
      return json(route, answer.status, answer.json, answer.headers);
    }
    return json(route, 404, { error: { code: 'NOT_FOUND', message: 'No such device.' } });
  });
}

function heading(page: Page, name: string) {
  return page.getByRole('heading', { name, level: 1 });
}

function commandLine(page: Page, commandId: string) {
  return page.locator(`[data-testid="command"][data-command-id="${commandId}"]`);
}

describe('device page', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('opens from its card, survives reload and Back, and says why an action is unavailable', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub: Stub = { detail: () => ({ device: device(), actions: actions(), commands: [] }), seen: [] };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await heading(page, 'My devices').waitFor();
      await page.getByRole('link', { name: 'Work iPhone' }).click();
      await heading(page, 'Work iPhone').waitFor();
      expect(new URL(page.url()).pathname).toBe(`/devices/${DEVICE_ID}`);
      await expect.poll(() => page.title()).toBe('Work iPhone · Device Portal');

      // The details, in words.
      const details = page.locator('.device-details');
      await expect.poll(() => details.textContent()).toContain('356938035643809');
      const text = (await details.textContent()) ?? '';
      for (const expected of [
        'iPhone 15',
        'Active',
        'iOS 17.5',
        'Example Mobile',
        'Apple',
        '+15555550100',
        'Company-owned',
      ])
        expect(text).toContain(expected);
      expect(text).toContain('Device enrollment');
      expect(text).toMatch(/12 minutes ago/);
      expect(text).toMatch(/in 45 minutes/);

      // The exact check-in time shows on keyboard focus too.
      const checkIn = details.locator('time').first();
      await checkIn.focus();
      const tip = details.locator('.when-tip').first();
      await expect.poll(() => tip.isVisible()).toBe(true);
      expect(await checkIn.getAttribute('aria-describedby')).toBe(await tip.getAttribute('id'));

      // Lost mode is listed with the server's reason next to it; lock, locate and wipe are offered.
      const lost = page.locator('[data-action="LOST_MODE"]');
      await expect.poll(() => lost.textContent()).toContain(LOST_MODE_REASON);
      const lostButton = lost.getByRole('button', { name: 'Lost mode' });
      expect(await lostButton.getAttribute('aria-disabled')).toBe('true');
      await lostButton.click({ force: true });
      expect(await page.getByRole('dialog').count()).toBe(0);
      for (const name of ['Lock', 'Locate', 'Wipe'])
        await page.getByRole('button', { name, exact: true }).waitFor();
      expect(await page.getByRole('button', { name: 'Retire', exact: true }).count()).toBe(0);
      await expectAccessible(page, 'the device page');

      await page.reload();
      await heading(page, 'Work iPhone').waitFor();
      expect(new URL(page.url()).pathname).toBe(`/devices/${DEVICE_ID}`);
      await page.goBack();
      await heading(page, 'My devices').waitFor();
      await page.goForward();
      await heading(page, 'Work iPhone').waitFor();
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('locks with a message: sends it, shows the command Queued, then Done without a reload', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let lockedAt = 0;
      const lock = (status: CommandSummary['status']) =>
        command({
          commandId: 'cmd-lock-1',
          action: 'LOCK',
          status,
          lockScreen: { message: 'Please return this phone', phoneNumber: '+15555550199' },
          ...(status === 'DONE' ? { completedAt: new Date().toISOString(), canCancel: false } : {}),
        });
      const stub: Stub = {
        detail: () => ({
          device: device(),
          actions: actions(),
          commands: lockedAt === 0 ? [] : [lock(Date.now() - lockedAt < 3_000 ? 'QUEUED' : 'DONE')],
        }),
        action: (method, route) => {
          if (method === 'POST' && route === 'lock') {
            lockedAt = Date.now();
            const answer: CommandResponse = { command: lock('QUEUED') };
            return { status: 202, json: answer };
          }
          return { status: 404, json: { error: { code: 'NOT_FOUND', message: 'No such route.' } } };
        },
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
      await heading(page, 'Work iPhone').waitFor();

      await page.getByRole('button', { name: 'Lock', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Lock this device?' });
      await dialog.waitFor();
      await dialog.getByLabel('Message on the lock screen (optional)').fill('Please return this phone');
      await dialog.getByLabel('Phone number on the lock screen (optional)').fill('+15555550199');
      await expectAccessible(page, 'the lock dialog');
      await dialog.getByRole('button', { name: 'Lock device' }).click();
      await dialog.waitFor({ state: 'detached' });

      const post = stub.seen.find((s) => s.method === 'POST' && s.path.endsWith('/lock'));
      expect(post?.body).toEqual({ message: 'Please return this phone', phoneNumber: '+15555550199' });
      await page.getByTestId('action-notice').waitFor();
      const line = commandLine(page, 'cmd-lock-1');
      await expect.poll(() => line.getAttribute('data-status')).toBe('QUEUED');
      expect(await line.textContent()).toContain('Please return this phone');
      // Polled every 2 s while it waits: Done within seconds, no reload.
      await expect.poll(() => line.getAttribute('data-status'), { timeout: 10_000 }).toBe('DONE');
      expect(await line.getByTestId('command-status').textContent()).toBe('Done');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('wipe: says what happens, wants a tick, asks for the password on RECENT_SIGN_IN_REQUIRED and retries', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let wipes = 0;
      const stub: Stub = {
        detail: () => ({ device: device(), actions: actions(), commands: [] }),
        action: (method, route) => {
          if (method === 'POST' && route === 'wipe') {
            wipes += 1;
            if (wipes === 1) {
              return {
                status: 401,
                headers: { 'WWW-Authenticate': 'Bearer error="insufficient_user_authentication"' },
                json: {
                  error: { code: 'RECENT_SIGN_IN_REQUIRED', message: 'Sign in again to wipe this device.' },
                },
              };
            }
            const answer: CommandResponse = {
              command: command({ commandId: 'cmd-wipe-1', action: 'WIPE', status: 'QUEUED' }),
            };
            return { status: 202, json: answer };
          }
          return { status: 404, json: { error: { code: 'NOT_FOUND', message: 'No such route.' } } };
        },
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
      await heading(page, 'Work iPhone').waitFor();

      await page.getByRole('button', { name: 'Wipe', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Wipe this device?' });
      await dialog.waitFor();
      expect(await dialog.getByTestId('action-consequence').textContent()).toBe(WIPE_CONSEQUENCE);
      expect(await dialog.getByTestId('backup-warning').textContent()).toContain('Back up first');
      const send = dialog.getByRole('button', { name: 'Wipe device' });
      expect(await send.isDisabled()).toBe(true);
      await expectAccessible(page, 'the wipe dialog');
      await dialog.getByLabel('I understand that everything on this device will be erased').check();
      await send.click();

      const again = page.getByRole('dialog', { name: 'Enter your password again' });
      await again.waitFor();
      await expectAccessible(page, 'the password-again dialog');
      await again.getByLabel('Password').fill(DEMO_PASSWORD);
      await again.getByRole('button', { name: 'Confirm and wipe device' }).click();
      await again.waitFor({ state: 'detached' });
      await page.getByTestId('action-notice').waitFor();

      const posts = stub.seen.filter((s) => s.method === 'POST' && s.path.endsWith('/wipe'));
      expect(posts).toHaveLength(2);
      // The retry carries the fresh token of the new sign-in; the user was never signed out.
      expect(posts[1]?.authorization).toMatch(/^Bearer /);
      expect(posts[1]?.authorization).not.toBe(posts[0]?.authorization);
      await accountMenu(page).waitFor();
      expect(new URL(page.url()).pathname).toBe(`/devices/${DEVICE_ID}`);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('locate: one click with a confirmation, then the position as text and on a map', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let located = false;
      const position = { latitude: 52.520008, longitude: 13.404954, accuracy: 25, at: minutesAgo(2) };
      const stub: Stub = {
        detail: () => ({
          device: device(),
          actions: actions(),
          commands: located
            ? [
                command({
                  commandId: 'cmd-locate-1',
                  action: 'LOCATE',
                  status: 'DONE',
                  completedAt: minutesAgo(0),
                  position,
                  canCancel: false,
                }),
              ]
            : [],
        }),
        action: (method, route) => {
          if (method === 'POST' && route === 'locate') {
            located = true;
            const answer: CommandResponse = {
              command: command({ commandId: 'cmd-locate-1', action: 'LOCATE', status: 'QUEUED' }),
            };
            return { status: 202, json: answer };
          }
          return { status: 404, json: { error: { code: 'NOT_FOUND', message: 'No such route.' } } };
        },
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
      await heading(page, 'Work iPhone').waitFor();
      expect(await page.getByTestId('location').count()).toBe(0);

      await page.getByRole('button', { name: 'Locate', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Locate this device?' });
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain('the company sees the position');
      await dialog.getByRole('button', { name: 'Locate device' }).click();
      await dialog.waitFor({ state: 'detached' });

      const location = page.getByTestId('location');
      await location.waitFor();
      expect(await location.getByTestId('latitude').textContent()).toBe('52.52001');
      expect(await location.getByTestId('longitude').textContent()).toBe('13.40495');
      expect(await location.getByTestId('accuracy').textContent()).toBe('within 25 m');
      const map = location.locator('.leaflet-container');
      await map.waitFor();
      await expect
        .poll(() => map.locator('img.leaflet-tile-loaded').count(), { timeout: 10_000 })
        .toBeGreaterThan(0);
      expect(await map.locator('.leaflet-control-attribution').textContent()).toContain('OpenStreetMap');
      await map.locator('.map-pin').waitFor();
      await expectAccessible(page, 'the map view');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lost mode: wants a message, then shows what the lock screen says and turns off', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let lostSince: string | null = null;
      const lostActions = (): ActionAvailability[] => [available('LOCK'), available('LOST_MODE')];
      const stub: Stub = {
        detail: () => ({
          device: {
            ...device(),
            managementMode: 'SUPERVISED',
            lostMode: lostSince
              ? { message: 'Lost phone, please call', phoneNumber: '+15555550123', since: lostSince }
              : null,
          },
          actions: lostActions(),
          commands: [],
        }),
        action: (method, route) => {
          if (method === 'POST' && route === 'lost-mode') {
            lostSince = new Date().toISOString();
            const answer: CommandResponse = {
              command: command({ commandId: 'cmd-lost-1', action: 'LOST_MODE_ON', status: 'QUEUED' }),
            };
            return { status: 202, json: answer };
          }
          if (method === 'DELETE' && route === 'lost-mode') {
            lostSince = null;
            const answer: CommandResponse = {
              command: command({ commandId: 'cmd-lost-2', action: 'LOST_MODE_OFF', status: 'QUEUED' }),
            };
            return { status: 202, json: answer };
          }
          return { status: 404, json: { error: { code: 'NOT_FOUND', message: 'No such route.' } } };
        },
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
      await heading(page, 'Work iPhone').waitFor();

      await page.getByRole('button', { name: 'Lost mode', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Turn on lost mode?' });
      await dialog.waitFor();
      const send = dialog.getByRole('button', { name: 'Turn on lost mode' });
      expect(await send.isDisabled()).toBe(true);
      await dialog.getByLabel('Message on the lock screen', { exact: true }).fill('Lost phone, please call');
      await dialog.getByLabel('Phone number on the lock screen (optional)').fill('+15555550123');
      await expectAccessible(page, 'the lost-mode dialog');
      await send.click();
      await dialog.waitFor({ state: 'detached' });
      const post = stub.seen.find((s) => s.method === 'POST' && s.path.endsWith('/lost-mode'));
      expect(post?.body).toEqual({ message: 'Lost phone, please call', phoneNumber: '+15555550123' });

      const panel = page.getByTestId('lost-mode');
      await panel.waitFor();
      expect(await panel.textContent()).toContain('Lost phone, please call');
      expect(await panel.textContent()).toContain('+15555550123');
      await expectAccessible(page, 'the device page in lost mode');
      await panel.getByRole('button', { name: 'Turn off lost mode' }).click();
      const off = page.getByRole('dialog', { name: 'Turn off lost mode?' });
      await off.waitFor();
      await off.getByRole('button', { name: 'Turn off lost mode' }).click();
      await off.waitFor({ state: 'detached' });
      await panel.waitFor({ state: 'detached' });
      expect(stub.seen.some((s) => s.method === 'DELETE' && s.path.endsWith('/lost-mode'))).toBe(true);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("rename: shows the server's 400 by the name field, sends the name as typed, and has no axe violation (dark)", async () => {
    const { page, context, errors } = await openPage(browser, { ...DESKTOP, colorScheme: 'dark' });
    try {
      const message = 'body.name: Keep the name to 40 characters, e.g. "Work iPhone".';
      const stub: Stub = {
        detail: () => ({ device: device(), actions: actions(), commands: [] }),
        action: (method, route) =>
          method === 'PUT' && route === 'name'
            ? { status: 400, json: { error: { code: 'VALIDATION_FAILED', message } } }
            : { status: 404, json: { error: { code: 'NOT_FOUND', message: 'No such route.' } } },
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
      await heading(page, 'Work iPhone').waitFor();
      await page.getByRole('button', { name: 'Rename', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Rename device' });
      const field = dialog.getByLabel('Name');
      await field.fill('  Travel iPhone ');
      await dialog.getByRole('button', { name: 'Save name' }).click();
      await dialog.getByRole('alert').filter({ hasText: message }).waitFor();
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect(stub.seen.filter((s) => s.method === 'PUT').map((s) => [s.path, s.body])).toEqual([
        [`/api/devices/${DEVICE_ID}/name`, { name: '  Travel iPhone ' }],
      ]);
      await expectAccessible(page, 'the rename dialog with a field error (dark)');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      await heading(page, 'Work iPhone').waitFor();
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('has no violation in dark mode, with lost mode on, a position, commands and activity', async () => {
    const { page, context, errors } = await openPage(browser, { ...DESKTOP, colorScheme: 'dark' });
    try {
      const stub: Stub = {
        detail: () => ({
          device: {
            ...device(),
            lostMode: { message: 'Lost phone', phoneNumber: '+15555550123', since: minutesAgo(30) },
            lastPosition: { latitude: 48.8566, longitude: 2.3522, accuracy: 40, at: minutesAgo(20) },
          },
          actions: actions(),
          commands: [
            command({ commandId: 'cmd-lock-5', action: 'LOCK', status: 'QUEUED' }),
            command({
              commandId: 'cmd-locate-5',
              action: 'LOCATE',
              status: 'FAILED',
              error: 'Location is off.',
            }),
          ],
        }),
        deviceActivity: () => ({
          events: [event('e1', 'Lock queued', 1), event('e2', 'Locate failed', 20, 'FAILURE')],
          nextCursor: 'more',
        }),
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
      await heading(page, 'Work iPhone').waitFor();
      await page.getByTestId('lost-mode').waitFor();
      await page.locator('.leaflet-container .map-pin').waitFor();
      await expect.poll(() => page.getByTestId('activity-event').count()).toBe(2);
      await expectAccessible(page, 'the device page (dark)');
      await page.getByRole('button', { name: 'Wipe', exact: true }).click();
      await page.getByRole('dialog', { name: 'Wipe this device?' }).waitFor();
      await expectAccessible(page, 'the wipe dialog (dark)');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('cancels a queued command', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let cancelled = false;
      const queued = () =>
        command({
          commandId: 'cmd-lock-9',
          action: 'LOCK',
          status: cancelled ? 'CANCELLED' : 'QUEUED',
          completedAt: cancelled ? minutesAgo(0) : null,
        });
      const stub: Stub = {
        detail: () => ({ device: device(), actions: actions(), commands: [queued()] }),
        action: (method, route) => {
          if (method === 'DELETE' && route === 'commands/cmd-lock-9') {
            cancelled = true;
            const answer: CommandResponse = { command: queued() };
            return { status: 200, json: answer };
          }
          return { status: 404, json: { error: { code: 'NOT_FOUND', message: 'No such route.' } } };
        },
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
      await heading(page, 'Work iPhone').waitFor();
      const line = commandLine(page, 'cmd-lock-9');
      await expect.poll(() => line.getAttribute('data-status')).toBe('QUEUED');
      await line.getByRole('button', { name: 'Cancel lock' }).click();
      await expect.poll(() => line.getAttribute('data-status')).toBe('CANCELLED');
      expect(await line.getByRole('button').count()).toBe(0);
      expect(stub.seen.some((s) => s.method === 'DELETE' && s.path.endsWith('/commands/cmd-lock-9'))).toBe(
        true,
      );
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('names the certificate of install and remove commands, which have no Cancel', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const alice = {
        certificateId: '3f2b8c1e-5d4a-4b7e-9c1f-2a6d8e0b4c71',
        name: 'Alice S/MIME',
        fingerprintSha256: 'AB:CD',
      };
      const stub: Stub = {
        detail: () => ({
          device: device(),
          actions: actions(),
          commands: [
            command({
              commandId: 'cmd-install',
              action: 'INSTALL_CERTIFICATE',
              status: 'QUEUED',
              certificate: alice,
              canCancel: false,
            }),
            command({
              commandId: 'cmd-remove',
              action: 'REMOVE_CERTIFICATE',
              status: 'DONE',
              completedAt: minutesAgo(0),
              certificate: { ...alice, name: 'Old VPN' },
              canCancel: false,
            }),
          ],
        }),
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
      await heading(page, 'Work iPhone').waitFor();
      const install = commandLine(page, 'cmd-install');
      await install.waitFor();
      expect(await install.locator('.command-name').textContent()).toBe('Install certificate “Alice S/MIME”');
      expect(await install.getByRole('button').count()).toBe(0);
      // Where to stop it instead: the Certificates page.
      expect(await install.getByRole('link', { name: 'Certificates' }).getAttribute('href')).toBe(
        '/certificates',
      );
      const remove = commandLine(page, 'cmd-remove');
      expect(await remove.locator('.command-name').textContent()).toBe('Remove certificate “Old VPN”');
      expect(await remove.getByRole('button').count()).toBe(0);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the activity of all devices, newest first, with Show more', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub: Stub = {
        detail: () => ({ device: device(), actions: actions(), commands: [] }),
        activity: (cursor) =>
          cursor === 'page-2'
            ? { events: [event('e3', 'Device registered', 60 * 24 * 20)], nextCursor: null }
            : {
                events: [
                  event('e1', 'Lock done on the device', 3),
                  event('e2', 'Locate failed', 30, 'FAILURE'),
                ],
                nextCursor: 'page-2',
              },
        deviceActivity: () => ({ events: [event('e1', 'Lock done on the device', 3)], nextCursor: null }),
        seen: [],
      };
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Activity' }).click();
      await heading(page, 'Activity').waitFor();
      expect(new URL(page.url()).pathname).toBe('/activity');

      const lines = page.getByTestId('activity-event');
      await expect.poll(() => lines.count()).toBe(2);
      const first = (await lines.nth(0).textContent()) ?? '';
      expect(first).toContain('Lock done on the device');
      expect(first).toContain('You');
      expect(first).toContain('Work iPhone');
      expect(first).toContain('Succeeded');
      expect(await lines.nth(1).textContent()).toContain('Failed');
      await expectAccessible(page, 'the Activity page');

      await page.getByRole('button', { name: 'Show more' }).click();
      await expect.poll(() => lines.count()).toBe(3);
      expect(await lines.nth(2).textContent()).toContain('Device registered');
      expect(await page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
      expect(stub.seen.some((s) => s.path === '/api/activity' && s.method === 'GET')).toBe(true);

      // A line's device leads to its page, which has its own timeline.
      await lines.nth(0).getByRole('link', { name: 'Work iPhone' }).click();
      await heading(page, 'Work iPhone').waitFor();
      await expect.poll(() => page.getByTestId('activity-event').count()).toBe(1);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
