/**
 * Each page of the portal has its own URL: Back, Forward and reload keep the user's place, and a
 * path the portal has no page for says so. The device list polls while a registration is pending,
 * backs off after errors, and asks nothing while the tab is hidden (refreshing as soon as it shows).
 */
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeviceSummary } from '../../functions/core/api-types.ts';
import { accountMenu, BOB, launchBrowser, openPage, signIn } from './browser.ts';

const DESKTOP = { viewport: { width: 1280, height: 800 } };
/** web/src/portal/portal.tsx polls the device list this often while a device is pending. */
const POLL_MS = 15_000;

function heading(page: Page, name: string) {
  return page.getByRole('heading', { name, level: 1 });
}

/** Makes the page see its tab hidden or shown, as switching tabs does. */
async function setVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  await page.evaluate((value) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => value });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => value === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

function pendingDevice(): DeviceSummary {
  const now = Date.now();
  return {
    deviceId: 'dev-polling-test',
    version: 1,
    name: null,
    status: 'PENDING',
    platform: 'IOS',
    ownership: 'EMPLOYEE',
    deviceType: null,
    manufacturer: null,
    osVersion: null,
    phoneNumber: null,
    carrier: null,
    imei: null,
    lastCheckInAt: null,
    registeredAt: null,
    createdAt: new Date(now).toISOString(),
    registration: {
      method: 'PIN',
      stage: 'WAITING_FOR_DEVICE',
      expiresAt: new Date(now + 3_600_000).toISOString(),
      enrollmentExpiresAt: null,
      canResend: true,
      deliveries: [],
    },
    canRemove: false,
    derivedCredential: { status: 'NONE', at: null, name: null, canRequest: false },
  };
}

describe('pages and polling', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('gives each page its own URL; reload, Back and Forward keep the place', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      await signIn(page, baseUrl, BOB);
      await heading(page, 'My devices').waitFor();
      await expect.poll(() => page.title()).toBe('My devices · Device Portal');

      // The Welcome menu's Helpdesk opens the helpdesk page.
      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Helpdesk' }).click();
      await heading(page, 'Helpdesk').waitFor();
      expect(new URL(page.url()).pathname).toBe('/help');
      await expect.poll(() => page.title()).toBe('Helpdesk · Device Portal');
      expect(await page.locator('main a[href^="tel:"]').count()).toBeGreaterThan(0);
      expect(await page.locator('main a[href^="mailto:"]').count()).toBe(1);

      // Reload stays on the page (the session is kept for the tab).
      await page.reload();
      await heading(page, 'Helpdesk').waitFor();
      expect(new URL(page.url()).pathname).toBe('/help');

      // Back to the device list, Forward to the helpdesk again.
      await page.goBack();
      await heading(page, 'My devices').waitFor();
      expect(new URL(page.url()).pathname).toBe('/');
      await page.goForward();
      await heading(page, 'Helpdesk').waitFor();

      // The footer links to it too, from the device list.
      await page.getByRole('link', { name: 'Back to My devices' }).click();
      await heading(page, 'My devices').waitFor();
      await page.locator('footer').getByRole('link', { name: 'Contact details' }).click();
      await heading(page, 'Helpdesk').waitFor();

      // A path with no page: a not-found page, with the way back.
      await page.goto(`${baseUrl}/no/such/page`);
      await heading(page, 'Page not found').waitFor();
      await expect.poll(() => page.title()).toBe('Page not found · Device Portal');
      await page.getByRole('link', { name: 'Go to My devices' }).click();
      await heading(page, 'My devices').waitFor();
      expect(new URL(page.url()).pathname).toBe('/');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('polls while a device is pending, backs off after errors, and pauses while the tab is hidden', async () => {
    const { page, context } = await openPage(browser, DESKTOP);
    try {
      const requests: number[] = [];
      let fail = false;
      await page.route(
        (url) => url.pathname === '/api/devices',
        async (route: Route) => {
          requests.push(Date.now());
          if (fail) {
            await route.fulfill({ status: 503, json: { error: { code: 'UNAVAILABLE', message: 'Down.' } } });
          } else {
            await route.fulfill({ json: { devices: [pendingDevice()], inUse: 1 } });
          }
        },
      );
      await page.clock.install({ time: Date.now() });
      await signIn(page, baseUrl, BOB);
      await page.locator('article[data-testid=device-card][data-status=PENDING]').waitFor();
      /** Waits for the request count, then lets the page take the answer in (and set its next timer). */
      const count = async (n: number) => {
        await expect.poll(() => requests.length).toBe(n);
        await page.waitForTimeout(300);
      };
      await count(1);

      // Visible: one refresh per interval.
      await page.clock.fastForward(POLL_MS + 100);
      await count(2);
      await page.clock.fastForward(POLL_MS + 100);
      await count(3);

      // Hidden: nothing, however long.
      await setVisibility(page, 'hidden');
      for (let i = 0; i < 4; i++) await page.clock.fastForward(POLL_MS + 100);
      await page.waitForTimeout(500);
      expect(requests.length).toBe(3);

      // Shown again: a refresh at once, then polling as before.
      await setVisibility(page, 'visible');
      await count(4);
      await page.clock.fastForward(POLL_MS + 100);
      await count(5);

      // Errors: the wait doubles (30 s, then 60 s) and the cards stay on screen.
      fail = true;
      await page.clock.fastForward(POLL_MS + 100);
      await count(6);
      await page.clock.fastForward(2 * POLL_MS - 1_000);
      await page.waitForTimeout(500);
      expect(requests.length).toBe(6);
      await page.clock.fastForward(1_200);
      await count(7);
      await page.clock.fastForward(4 * POLL_MS - 1_000);
      await page.waitForTimeout(500);
      expect(requests.length).toBe(7);
      fail = false;
      await page.clock.fastForward(1_200);
      await count(8);
      // Success: back to the normal interval.
      await page.clock.fastForward(POLL_MS + 100);
      await count(9);
      expect(await page.locator('article[data-testid=device-card][data-status=PENDING]').count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});
