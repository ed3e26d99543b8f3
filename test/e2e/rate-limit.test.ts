/**
 * After a rate limit (429 with Retry-After) the retry is disabled with a countdown until the time
 * the server gave: the register dialog's method buttons, and /go's Continue. The 429 answers are
 * stubbed in the browser (the server's own limits are tested in the integration tests).
 */
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN, launchBrowser, openPage, PHONE, signIn } from './browser.ts';

const RETRY_AFTER_S = 3;

function tooMany(route: Route) {
  return route.fulfill({
    status: 429,
    headers: { 'Retry-After': String(RETRY_AFTER_S) },
    json: { error: { code: 'RATE_LIMITED', message: 'Too many attempts. Wait, then try again.' } },
  });
}

describe('rate limits in the browser', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('disables the register dialog’s buttons with a countdown until Retry-After has passed', async () => {
    const { page, context } = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      let calls = 0;
      await page.route(
        (url) => url.pathname === '/api/registrations',
        (route) => {
          calls += 1;
          return tooMany(route);
        },
      );
      await signIn(page, baseUrl, ADMIN);
      await page.getByRole('button', { name: 'Register device' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Register device' });
      await dialog.getByLabel('Android').check();
      const pinButton = dialog.getByRole('button', { name: 'Request registration PIN', exact: true });
      await pinButton.click();
      await dialog.getByRole('alert').waitFor();
      expect(await dialog.getByRole('alert').textContent()).toContain('Too many attempts');
      const countdown = dialog.getByTestId('retry-countdown');
      expect(await countdown.textContent()).toMatch(/try again in 0:0[1-3]/);
      expect(await pinButton.isDisabled()).toBe(true);
      expect(await dialog.getByRole('button', { name: 'Generate QR code', exact: true }).isDisabled()).toBe(
        true,
      );
      await pinButton.click({ force: true });
      expect(calls).toBe(1);

      await countdown.waitFor({ state: 'detached', timeout: (RETRY_AFTER_S + 2) * 1000 });
      expect(await pinButton.isEnabled()).toBe(true);
      await pinButton.click();
      await expect.poll(() => calls).toBe(2);
    } finally {
      await context.close();
    }
  });

  it('disables Continue on /go with a countdown until Retry-After has passed', async () => {
    const { page, context } = await openPage(browser, PHONE);
    try {
      await page.route((url) => url.pathname === '/api/enroll/verify', tooMany);
      await page.goto(`${baseUrl}/go`);
      await page.getByLabel('Email', { exact: true }).fill(ADMIN);
      await page.getByLabel('Registration PIN', { exact: true }).fill('12345678');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('alert').waitFor();
      const waiting = page.getByRole('button', { name: /^Try again in 0:0[1-3]$/ });
      await waiting.waitFor();
      expect(await waiting.isDisabled()).toBe(true);
      await page.getByRole('button', { name: 'Continue' }).waitFor({ timeout: (RETRY_AFTER_S + 2) * 1000 });
      expect(await page.getByRole('button', { name: 'Continue' }).isEnabled()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
