/**
 * The /go page opens without signing in, on a phone, and answers a bad PIN with the server's message.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BOB, launchBrowser, openPage, PHONE } from './browser.ts';

describe('/go page', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('asks for email and PIN without a sign-in, offers the password, and shows refusals', async () => {
    const { page, context, errors } = await openPage(browser, PHONE);
    try {
      await page.goto(`${baseUrl}/go#t=not-a-real-token`);
      await page.getByRole('heading', { name: 'Register this device' }).waitFor();
      expect(await page.getByLabel('Password', { exact: true }).count()).toBe(0);
      await page.getByText('QR code recognised').waitFor();

      await page.getByRole('button', { name: 'Use my password instead' }).click();
      await page.getByLabel('Password', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Use a registration PIN instead' }).click();

      await page.getByLabel('Email', { exact: true }).fill(BOB);
      await page.getByLabel('Registration PIN', { exact: true }).fill('12345678');
      await page.getByRole('button', { name: 'Continue' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect((await alert.textContent())?.trim().length ?? 0).toBeGreaterThan(10);
      // No next step for a refused attempt.
      expect(await page.getByTestId('enroll-next').count()).toBe(0);
      // The only console errors allowed are the refused request itself (4xx), never a CSP or script error.
      expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
