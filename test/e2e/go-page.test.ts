/**
 * The /go page opens without signing in, on a phone, and answers a bad PIN with the server's message.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BOB, launchBrowser, openPage, PHONE } from './browser.ts';

const DAMAGED = 'This QR code is damaged or old: generate a new one in the portal.';

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

  it('takes the QR token out of the address bar, keeps it for the tab, and says when a QR link is damaged', async () => {
    const { page, context, errors } = await openPage(browser, PHONE);
    try {
      await page.goto(`${baseUrl}/go#t=AbCdEfGhIjKlMnOpQrSt_-`);
      await page.getByText('QR code recognised').waitFor();
      expect(new URL(page.url()).hash).toBe('');
      // A reload before signing in still has it.
      await page.reload();
      await page.getByText('QR code recognised').waitFor();

      // Too short, or not base64url: damaged, instead of the QR notice; the form still works.
      for (const fragment of ['t=abc', 't=not%20a%20token%20at%20all!!']) {
        await page.goto(`${baseUrl}/go#${fragment}`);
        await page.getByRole('heading', { name: 'Register this device' }).waitFor();
        await page.getByTestId('qr-damaged').waitFor();
        expect(await page.getByTestId('qr-damaged').textContent()).toContain(DAMAGED);
        expect(await page.getByText('QR code recognised').count()).toBe(0);
        expect(new URL(page.url()).hash).toBe('');
        await page.getByLabel('Registration PIN', { exact: true }).waitFor();
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("shows the server's QR_CODE_INVALID with the same words", async () => {
    const { page, context } = await openPage(browser, PHONE);
    try {
      await page.route(
        (url) => url.pathname === '/api/enroll/verify',
        (route) =>
          route.fulfill({
            status: 410,
            json: {
              error: { code: 'QR_CODE_INVALID', message: 'This QR code has expired or was already used.' },
            },
          }),
      );
      await page.goto(`${baseUrl}/go#t=AbCdEfGhIjKlMnOpQrSt_-`);
      await page.getByText('QR code recognised').waitFor();
      await page.getByLabel('Email', { exact: true }).fill(BOB);
      await page.getByLabel('Registration PIN', { exact: true }).fill('12345678');
      await page.getByRole('button', { name: 'Continue' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toContain(DAMAGED);
      expect(await page.getByText('QR code recognised').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
