/**
 * Issue 10 in the browser: a named registration, the wrong phone told so without losing the PIN,
 * the card saying where things stand from the server's truth, and a cancelled registration removed.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import { ANDROID_PHONE, BOB, launchBrowser, openPage, PHONE, signIn } from './browser.ts';

describe('a registration as a user lives it', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('names it, refuses the wrong phone keeping the PIN, shows Verified, and removes it once cancelled', async () => {
    const desktop = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    const iphone = await openPage(browser, PHONE);
    const pixel = await openPage(browser, ANDROID_PHONE);
    try {
      const { page } = desktop;
      await signIn(page, baseUrl, BOB);
      await page.getByRole('button', { name: 'Register device' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Register device' });
      await dialog.getByLabel('Android').check();
      await dialog.getByLabel('Name (optional)').fill('Bob work Pixel');
      await dialog.getByRole('button', { name: 'Request registration PIN', exact: true }).click();
      const pin = ((await page.getByTestId('registration-pin').textContent()) ?? '').replace(/\D/g, '');
      await page.getByRole('button', { name: 'Done' }).click();
      const card = page.locator('article[data-testid=device-card]', { hasText: 'Bob work Pixel' });
      await card.waitFor();
      expect(await card.getByTestId('registration-stage').getAttribute('data-stage')).toBe(
        'WAITING_FOR_DEVICE',
      );

      // On an iPhone: the right PIN for an Android registration is refused, and not used up.
      await iphone.page.goto(`${baseUrl}/go`);
      await iphone.page.getByLabel('Email', { exact: true }).fill(BOB);
      await iphone.page.getByLabel('Registration PIN', { exact: true }).fill(pin);
      await iphone.page.getByRole('button', { name: 'Continue' }).click();
      const refusal = iphone.page.getByRole('alert');
      await refusal.waitFor();
      expect(await refusal.textContent()).toContain('This registration is for an Android device');

      // On the Pixel the same PIN works.
      await pixel.page.goto(`${baseUrl}/go`);
      await pixel.page.getByLabel('Email', { exact: true }).fill(BOB);
      await pixel.page.getByLabel('Registration PIN', { exact: true }).fill(pin);
      await pixel.page.getByRole('button', { name: 'Continue' }).click();
      await pixel.page.getByRole('link', { name: 'Get the agent app' }).waitFor();

      // The card says so, from the server: verified, waiting for the app, no Resend meanwhile.
      await page.reload();
      await card.waitFor();
      expect(await card.getByTestId('registration-stage').getAttribute('data-stage')).toBe('VERIFIED');
      expect(await card.getByTestId('registration-stage').textContent()).toMatch(/^Verified at \/go/);
      expect(await card.getByRole('button', { name: 'Resend' }).count()).toBe(0);
      await expectAccessible(page, 'a card verified at /go');

      await card.getByRole('button', { name: 'Cancel registration' }).click();
      await page.getByRole('button', { name: 'Yes, cancel registration' }).click();
      const past = page.locator('.past-devices article[data-testid=device-card]', {
        hasText: 'Bob work Pixel',
      });
      await past.waitFor();
      await past.getByRole('button', { name: 'Remove from list' }).click();
      await past.waitFor({ state: 'detached' });
      expect(desktop.errors).toEqual([]);
      expect(pixel.errors).toEqual([]);
    } finally {
      await desktop.context.close();
      await iphone.context.close();
      await pixel.context.close();
    }
  });
});
