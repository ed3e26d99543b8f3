/**
 * Issue 12 on the device page against a stubbed API: Change ownership (the password step and the
 * retry, a 409 from a change that came first, a locked ownership's reason) and Reset secure apps
 * passcode (the one-time PIN shown once: grouped digits, countdown, Copy, Back closes it).
 */
import type { Browser, Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  ActionAvailability,
  DeviceDetailResponse,
  OwnershipRequest,
  SecureAppsPasscodeResponse,
} from '../../functions/core/api-types.ts';
import { expectAccessible } from './axe.ts';
import { accountMenu, BOB, DEMO_PASSWORD, launchBrowser, openPage, signIn } from './browser.ts';
import {
  activeDevice,
  available,
  DEVICE_ID,
  RECENT_SIGN_IN,
  type Stub,
  stubApi,
  unavailable,
  unexpected,
} from './device-stubs.ts';

const DESKTOP = { viewport: { width: 1280, height: 900 } };
const WIPE_NOT_ON_PERSONAL = 'A full wipe is not allowed on an employee-owned device.';
const LOCKED = 'Your administrator does not let users change the ownership of a device.';
const CHANGED_FIRST = 'The ownership was changed by someone else first: it is now Employee-owned.';
const NO_CONTAINER = 'The agent has not reported the secure apps on this device.';

const ALLOWED: DeviceDetailResponse['ownershipChange'] = {
  allowed: true,
  reason: null,
  needsRecentSignIn: true,
};

function companyDetail(): DeviceDetailResponse {
  return {
    device: activeDevice(),
    ownershipChange: ALLOWED,
    actions: [available('LOCK'), available('WIPE', 'Everything on this iPhone is erased.')],
    commands: [],
  };
}

function employeeDetail(): DeviceDetailResponse {
  const actions: ActionAvailability[] = [available('LOCK'), unavailable('WIPE', WIPE_NOT_ON_PERSONAL)];
  return {
    device: activeDevice({ ownership: 'EMPLOYEE', version: 4 }),
    ownershipChange: ALLOWED,
    actions,
    commands: [],
  };
}

async function openDevicePage(page: Page, baseUrl: string) {
  await signIn(page, baseUrl, BOB);
  await page.goto(`${baseUrl}/devices/${DEVICE_ID}`);
  await page.getByRole('heading', { name: 'Work iPhone', level: 1 }).waitFor();
}

describe('device page: ownership and the secure apps passcode', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('changes ownership with the version read, asks for the password on RECENT_SIGN_IN_REQUIRED, retries and shows the new actions', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let current = companyDetail();
      let puts = 0;
      const stub: Stub = {
        detail: () => current,
        answer: (method, path) => {
          if (method === 'PUT' && path === `/api/devices/${DEVICE_ID}/ownership`) {
            puts += 1;
            if (puts === 1) return RECENT_SIGN_IN;
            current = employeeDetail();
            return { status: 200, json: current };
          }
          return undefined;
        },
        seen: [],
      };
      await stubApi(page, stub);
      await openDevicePage(page, baseUrl);

      expect(await page.getByTestId('ownership').textContent()).toBe('Company-owned');
      await page.getByRole('button', { name: 'Change ownership' }).click();
      const dialog = page.getByRole('dialog', { name: 'Change ownership?' });
      await dialog.waitFor();
      expect(await dialog.getByTestId('ownership-change').textContent()).toContain('to Employee-owned');
      expect(await dialog.textContent()).toContain(
        'a full wipe of an employee-owned device may not be allowed',
      );
      await expectAccessible(page, 'the change-ownership dialog');
      await dialog.getByRole('button', { name: 'Change to employee-owned' }).click();

      const again = page.getByRole('dialog', { name: 'Enter your password again' });
      await again.waitFor();
      await expectAccessible(page, 'the password step of the ownership change');
      await again.getByLabel('Password').fill(DEMO_PASSWORD);
      await again.getByRole('button', { name: 'Confirm and change ownership' }).click();
      await again.waitFor({ state: 'detached' });

      const sent = stub.seen.filter((s) => s.method === 'PUT');
      expect(sent).toHaveLength(2);
      const expected: OwnershipRequest = { ownership: 'EMPLOYEE', version: 3 };
      expect(sent[0]?.body).toEqual(expected);
      expect(sent[1]?.body).toEqual(expected);
      // The retry carries the new sign-in's token; the user was never signed out.
      expect(sent[1]?.authorization).not.toBe(sent[0]?.authorization);
      await accountMenu(page).waitFor();

      // The answer's re-evaluated actions, without another GET.
      await expect.poll(() => page.getByTestId('ownership').textContent()).toBe('Employee-owned');
      const wipe = page.locator('[data-action="WIPE"]');
      await expect.poll(() => wipe.textContent()).toContain(WIPE_NOT_ON_PERSONAL);
      expect(await wipe.getByRole('button', { name: 'Wipe' }).getAttribute('aria-disabled')).toBe('true');
      expect(await page.getByTestId('action-notice').textContent()).toContain('employee-owned');
      await expectAccessible(page, 'the device page after the ownership change');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the server’s message on 409 and reloads the device', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let current = companyDetail();
      const stub: Stub = {
        detail: () => current,
        answer: (method, path) => {
          if (method === 'PUT' && path.endsWith('/ownership')) {
            current = employeeDetail();
            return { status: 409, json: { error: { code: 'OWNERSHIP_CHANGED', message: CHANGED_FIRST } } };
          }
          return undefined;
        },
        seen: [],
      };
      await stubApi(page, stub);
      await openDevicePage(page, baseUrl);
      await page.getByRole('button', { name: 'Change ownership' }).click();
      const dialog = page.getByRole('dialog', { name: 'Change ownership?' });
      await dialog.getByRole('button', { name: 'Change to employee-owned' }).click();
      await dialog.waitFor({ state: 'detached' });

      await expect.poll(() => page.getByTestId('ownership-refused').textContent()).toContain(CHANGED_FIRST);
      // Reloaded: the page shows what the other change made of it.
      await expect.poll(() => page.getByTestId('ownership').textContent()).toBe('Employee-owned');
      const gets = stub.seen.filter((s) => s.method === 'GET' && s.path === `/api/devices/${DEVICE_ID}`);
      expect(gets.length).toBeGreaterThanOrEqual(2);
      await expectAccessible(page, 'the device page with the 409 message');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a PUT refused with 403 OWNERSHIP_LOCKED shows the message, and the reloaded page the reason', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let current = companyDetail();
      const stub: Stub = {
        detail: () => current,
        answer: (method, path) => {
          if (method === 'PUT' && path.endsWith('/ownership')) {
            current = {
              ...companyDetail(),
              ownershipChange: { allowed: false, reason: LOCKED, needsRecentSignIn: true },
            };
            return { status: 403, json: { error: { code: 'OWNERSHIP_LOCKED', message: LOCKED } } };
          }
          return undefined;
        },
        seen: [],
      };
      await stubApi(page, stub);
      await openDevicePage(page, baseUrl);
      await page.getByRole('button', { name: 'Change ownership' }).click();
      const dialog = page.getByRole('dialog', { name: 'Change ownership?' });
      await dialog.getByRole('button', { name: 'Change to employee-owned' }).click();
      await dialog.waitFor({ state: 'detached' });
      await expect.poll(() => page.getByTestId('ownership-refused').textContent()).toContain(LOCKED);
      await expect.poll(() => page.getByTestId('ownership-reason').textContent()).toBe(LOCKED);
      expect(await page.getByRole('button', { name: 'Change ownership' }).count()).toBe(0);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('says why ownership cannot be changed (OWNERSHIP_LOCKED) and why the passcode cannot be reset', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub: Stub = {
        detail: () => ({
          ...companyDetail(),
          ownershipChange: { allowed: false, reason: LOCKED, needsRecentSignIn: true },
          actions: [available('LOCK'), unavailable('SECURE_APPS_PASSCODE', NO_CONTAINER)],
          device: activeDevice({ secureAppsContainer: false }),
        }),
        seen: [],
      };
      await stubApi(page, stub);
      await openDevicePage(page, baseUrl);
      expect(await page.getByTestId('ownership-reason').textContent()).toBe(LOCKED);
      expect(await page.getByRole('button', { name: 'Change ownership' }).count()).toBe(0);
      const tile = page.locator('[data-action="SECURE_APPS_PASSCODE"]');
      expect(await tile.textContent()).toContain(NO_CONTAINER);
      const button = tile.getByRole('button', { name: 'Reset secure apps passcode' });
      expect(await button.getAttribute('aria-disabled')).toBe('true');
      await button.click({ force: true });
      expect(await page.getByRole('dialog').count()).toBe(0);
      await expectAccessible(page, 'the device page with ownership locked');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('resets the secure apps passcode: confirm, then the one-time PIN once, grouped, counting down, copyable; Back closes it', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    try {
      const passcode: SecureAppsPasscodeResponse = {
        pin: '48213907',
        expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      };
      const stub: Stub = {
        detail: () => ({
          ...companyDetail(),
          actions: [available('LOCK'), available('SECURE_APPS_PASSCODE')],
        }),
        answer: (method, path) =>
          method === 'POST' && path === `/api/devices/${DEVICE_ID}/secure-apps-passcode`
            ? { status: 201, json: passcode }
            : undefined,
        seen: [],
      };
      await stubApi(page, stub);
      await openDevicePage(page, baseUrl);

      await page.getByRole('button', { name: 'Reset secure apps passcode' }).click();
      const confirm = page.getByRole('dialog', { name: 'Reset the secure apps passcode?' });
      await confirm.waitFor();
      await expectAccessible(page, 'the reset-passcode confirmation');
      expect(stub.seen.some((s) => s.path.endsWith('/secure-apps-passcode'))).toBe(false);
      await confirm.getByRole('button', { name: 'Get a one-time PIN' }).click();

      const shown = page.getByRole('dialog', { name: 'Your one-time PIN' });
      await shown.waitFor();
      const pin = shown.getByTestId('secure-apps-pin');
      expect(await pin.locator('.pin-group').allTextContents()).toEqual(['4821', '3907']);
      expect(await shown.getByTestId('secure-apps-next').textContent()).toBe(
        'In the agent app choose Forgot passcode, enter your user name and this PIN, then set a new passcode.',
      );
      const countdown = shown.getByTestId('secure-apps-countdown');
      const first = await countdown.textContent();
      expect(first).toMatch(/^\((9:5\d|10:00) left\)$/);
      await expect.poll(() => countdown.textContent(), { timeout: 4_000 }).not.toBe(first);
      await expectAccessible(page, 'the one-time PIN dialog');

      await shown.getByRole('button', { name: 'Copy PIN' }).click();
      await shown.getByRole('button', { name: 'Copied' }).waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('48213907');

      // Back closes the dialog; the page stays.
      await page.goBack();
      await shown.waitFor({ state: 'detached' });
      expect(new URL(page.url()).pathname).toBe(`/devices/${DEVICE_ID}`);
      await page.getByRole('heading', { name: 'Work iPhone', level: 1 }).waitFor();
      expect(stub.seen.filter((s) => s.path.endsWith('/secure-apps-passcode'))).toHaveLength(1);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('resets the secure apps passcode after the password step on RECENT_SIGN_IN_REQUIRED', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      let posts = 0;
      const stub: Stub = {
        detail: () => ({ ...companyDetail(), actions: [available('SECURE_APPS_PASSCODE')] }),
        answer: (method, path) => {
          if (method !== 'POST' || path !== `/api/devices/${DEVICE_ID}/secure-apps-passcode`)
            return undefined;
          posts += 1;
          if (posts === 1) return RECENT_SIGN_IN;
          return {
            status: 201,
            json: { pin: '73915284', expiresAt: new Date(Date.now() + 600_000).toISOString() },
          };
        },
        seen: [],
      };
      await stubApi(page, stub);
      await openDevicePage(page, baseUrl);
      await page.getByRole('button', { name: 'Reset secure apps passcode' }).click();
      await page.getByRole('button', { name: 'Get a one-time PIN' }).click();

      const again = page.getByRole('dialog', { name: 'Enter your password again' });
      await again.waitFor();
      expect(await again.textContent()).toContain('To reset the secure apps passcode, confirm it is you');
      await expectAccessible(page, 'the password step of the passcode reset');
      await again.getByLabel('Password').fill(DEMO_PASSWORD);
      await again.getByRole('button', { name: 'Confirm and reset the secure apps passcode' }).click();

      const shown = page.getByRole('dialog', { name: 'Your one-time PIN' });
      await shown.waitFor();
      expect(await shown.getByTestId('secure-apps-pin').textContent()).toBe('73915284');
      const sent = stub.seen.filter((s) => s.method === 'POST' && s.path.endsWith('/secure-apps-passcode'));
      expect(sent).toHaveLength(2);
      // The retry carries the new sign-in's token; the user was never signed out.
      expect(sent[1]?.authorization).toMatch(/^Bearer /);
      expect(sent[1]?.authorization).not.toBe(sent[0]?.authorization);
      await accountMenu(page).waitFor();
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('asks before a reload while the PIN is on screen', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub: Stub = {
        detail: () => ({ ...companyDetail(), actions: [available('SECURE_APPS_PASSCODE')] }),
        answer: (method, path) =>
          method === 'POST' && path.endsWith('/secure-apps-passcode')
            ? {
                status: 201,
                json: { pin: '123456', expiresAt: new Date(Date.now() + 300_000).toISOString() },
              }
            : undefined,
        seen: [],
      };
      await stubApi(page, stub);
      await openDevicePage(page, baseUrl);
      await page.getByRole('button', { name: 'Reset secure apps passcode' }).click();
      await page.getByRole('button', { name: 'Get a one-time PIN' }).click();
      const pin = page.getByTestId('secure-apps-pin');
      await pin.waitFor();
      expect(await pin.locator('.pin-group').allTextContents()).toEqual(['123', '456']);
      const asked = new Promise<Dialog>((resolve) => page.once('dialog', resolve));
      void page.evaluate(() => location.reload());
      const prompt = await asked;
      expect(prompt.type()).toBe('beforeunload');
      await prompt.dismiss();
      expect(await pin.textContent()).toBe('123456');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
