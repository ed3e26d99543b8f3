/**
 * No axe-core violation at WCAG 2.1 AA on any screen: sign-in, the device list (empty and with
 * cards), the Welcome menu, the register dialog (form and PIN result), /help, not found, /go (form
 * and next step), dark mode and the local outbox. Also: Escape closes the Welcome menu however it
 * was opened, and the method buttons are named by their visible labels.
 */
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import { ADMIN, accountMenu, BOB, launchBrowser, openPage, PHONE, signIn } from './browser.ts';

const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
const DARK: BrowserContextOptions = { ...DESKTOP, colorScheme: 'dark' };

/** Register device → iPhone → Request registration PIN; leaves the PIN result open, returns the PIN. */
async function registerWithPin(page: Page, check: (what: string) => Promise<void>): Promise<string> {
  await page.getByRole('button', { name: 'Register device' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Register device' });
  await dialog.waitFor();
  await check('the register dialog (form)');
  await dialog.getByLabel('iPhone or iPad').check();
  // An invitation by email too, so that the outbox has a message to check.
  await dialog.getByRole('checkbox', { name: /^Email/ }).check();
  await dialog.getByRole('button', { name: 'Request registration PIN', exact: true }).click();
  const pin = page.getByTestId('registration-pin');
  await pin.waitFor();
  await check('the register dialog (PIN result)');
  return ((await pin.textContent()) ?? '').replace(/\D/g, '');
}

describe('accessibility (axe-core, WCAG 2.1 AA)', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  for (const [scheme, options] of [
    ['light', DESKTOP],
    ['dark', DARK],
  ] as const) {
    it(`has no violation on the signed-out and empty screens (${scheme})`, async () => {
      const { page, context, errors } = await openPage(browser, options);
      const check = (what: string) => expectAccessible(page, `${what} (${scheme})`);
      try {
        await page.goto(baseUrl);
        await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
        await check('the sign-in page');

        await signIn(page, baseUrl, BOB);
        await page.getByRole('heading', { name: 'No devices yet' }).waitFor();
        await check('the empty device list');

        await accountMenu(page).click();
        await page.getByRole('menu').waitFor();
        await check('the Welcome menu');
        await page.keyboard.press('Escape');
        await page.getByRole('menu').waitFor({ state: 'detached' });

        await page.goto(`${baseUrl}/help`);
        await page.getByRole('heading', { name: 'Helpdesk', level: 1 }).waitFor();
        await page.locator('main a[href^="mailto:"]').waitFor();
        await check('/help');

        await page.goto(`${baseUrl}/nowhere`);
        await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
        await check('the not-found page');
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('has no violation in the register dialog, on device cards and on /go (light and dark)', async () => {
    const desktop = await openPage(browser, DESKTOP);
    const dark = await openPage(browser, DARK);
    const phone = await openPage(browser, { ...PHONE, colorScheme: 'dark' });
    try {
      const { page } = desktop;
      await signIn(page, baseUrl, ADMIN);
      const pin = await registerWithPin(page, (what) => expectAccessible(page, what));
      await page.getByRole('button', { name: 'Done' }).click();
      await page.locator('article[data-testid=device-card][data-status=PENDING]').first().waitFor();
      await expectAccessible(page, 'the device list with cards');

      await signIn(dark.page, baseUrl, ADMIN);
      await dark.page.locator('article[data-testid=device-card]').first().waitFor();
      await expectAccessible(dark.page, 'the device list with cards (dark)');
      await dark.page.getByRole('button', { name: 'Register device' }).first().click();
      await dark.page.getByRole('dialog', { name: 'Register device' }).waitFor();
      await expectAccessible(dark.page, 'the register dialog (dark)');

      await phone.page.goto(`${baseUrl}/go`);
      await phone.page.getByRole('heading', { name: 'Register this device' }).waitFor();
      await expectAccessible(phone.page, '/go (form, dark)');
      await phone.page.getByLabel('Email', { exact: true }).fill(ADMIN);
      await phone.page.getByLabel('Registration PIN', { exact: true }).fill(pin);
      await phone.page.getByRole('button', { name: 'Continue' }).click();
      await phone.page.getByTestId('enroll-next').waitFor();
      await expectAccessible(phone.page, '/go (next step, dark)');

      const light = await openPage(browser, PHONE);
      try {
        await light.page.goto(`${baseUrl}/go`);
        await light.page.getByRole('heading', { name: 'Register this device' }).waitFor();
        await expectAccessible(light.page, '/go (form)');
      } finally {
        await light.context.close();
      }
      expect(desktop.errors).toEqual([]);
      expect(dark.errors).toEqual([]);
    } finally {
      await desktop.context.close();
      await dark.context.close();
      await phone.context.close();
    }
  });

  it('has no violation on the local outbox (light and dark)', async () => {
    for (const options of [DESKTOP, DARK]) {
      const { page, context } = await openPage(browser, options);
      try {
        await page.goto(`${baseUrl}/_local/outbox`);
        await page.getByRole('heading', { name: 'Local outbox' }).waitFor();
        // The invitation from the register dialog test above is there.
        expect(await page.locator('article').count()).toBeGreaterThan(0);
        await expectAccessible(page, `the local outbox (${options.colorScheme ?? 'light'})`);
      } finally {
        await context.close();
      }
    }
  });

  it('closes the Welcome menu with Escape however it was opened, and names method buttons by their labels', async () => {
    const { page, context } = await openPage(browser, DESKTOP);
    try {
      await signIn(page, baseUrl, BOB);
      const menuButton = accountMenu(page);
      // Opened with the mouse: focus stays on the button.
      await menuButton.click();
      await page.getByRole('menu').waitFor();
      await page.keyboard.press('Escape');
      await page.getByRole('menu').waitFor({ state: 'detached' });
      expect(await menuButton.getAttribute('aria-expanded')).toBe('false');
      // Opened with the keyboard: focus moves into the menu.
      await menuButton.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('menuitem').first().waitFor();
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute('role')))
        .toBe('menuitem');
      await page.keyboard.press('Escape');
      await page.getByRole('menu').waitFor({ state: 'detached' });
      expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-haspopup'))).toBe('menu');
      // Opened with ArrowDown.
      await page.keyboard.press('ArrowDown');
      await page.getByRole('menu').waitFor();
      await page.keyboard.press('Escape');
      await page.getByRole('menu').waitFor({ state: 'detached' });

      // The register dialog's method buttons: the accessible name contains the visible label.
      await page.getByRole('button', { name: 'Register device' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Register device' });
      await dialog.waitFor();
      const buttons = dialog.locator('.method-button');
      for (let i = 0; i < (await buttons.count()); i++) {
        const button = buttons.nth(i);
        const label = ((await button.locator('.method-label').textContent()) ?? '').trim();
        expect(label).not.toBe('');
        await dialog.getByRole('button', { name: label, exact: true }).waitFor();
      }
      // The dialog itself shows no focus ring; its controls do.
      const dialogOutline = await dialog.evaluate((d) => getComputedStyle(d).outlineStyle);
      expect(dialogOutline).toBe('none');
    } finally {
      await context.close();
    }
  });
});
