/**
 * The one-time PIN is not lost by accident: while it is on screen, Back closes the dialog instead of
 * leaving the portal, and reloading or closing the tab asks first. Closing the dialog takes its
 * history entry away again, so Back afterwards goes where it went before.
 */
import type { Browser, Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN, launchBrowser, openPage, signIn } from './browser.ts';

async function requestPin(page: Page) {
  await page.getByRole('button', { name: 'Register device' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Register device' });
  await dialog.waitFor();
  await dialog.getByLabel('iPhone or iPad').check();
  await dialog.getByRole('button', { name: 'Request registration PIN', exact: true }).click();
  const pin = page.getByTestId('registration-pin');
  await pin.waitFor();
  // No channel was chosen (none is preselected), so no invitation went out.
  expect(await page.getByRole('heading', { name: 'Invitation' }).count()).toBe(0);
  return pin;
}

describe('the registration PIN on screen', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('asks before a reload, and Back closes the dialog but stays in the portal', async () => {
    const { page, context, errors } = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await signIn(page, baseUrl, ADMIN);
      const pin = await requestPin(page);
      const digits = await pin.textContent();

      // Reload asks first (beforeunload); staying keeps the same PIN on screen.
      const asked = new Promise<Dialog>((resolve) => page.once('dialog', resolve));
      void page.evaluate(() => location.reload());
      const prompt = await asked;
      expect(prompt.type()).toBe('beforeunload');
      await prompt.dismiss();
      expect(await page.getByTestId('registration-pin').textContent()).toBe(digits);

      // Back closes the dialog; the portal stays, signed in, on the same page.
      await page.goBack();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      expect(new URL(page.url()).pathname).toBe('/');
      await page.getByRole('heading', { name: 'My devices', level: 1 }).waitFor();
      await page.locator('article[data-testid=device-card][data-status=PENDING]').first().waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('takes its history entry away when closed with Done, and no longer asks before a reload', async () => {
    const { page, context, errors } = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await signIn(page, baseUrl, ADMIN);
      await page.goto(`${baseUrl}/help`);
      await page.getByRole('heading', { name: 'Helpdesk', level: 1 }).waitFor();
      await page.getByRole('link', { name: 'Back to My devices' }).click();
      await page.getByRole('heading', { name: 'My devices', level: 1 }).waitFor();

      await requestPin(page);
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      expect(new URL(page.url()).pathname).toBe('/');

      // No prompt any more: a reload just reloads.
      let prompted = false;
      page.on('dialog', (d) => {
        prompted = true;
        void d.dismiss();
      });
      await page.reload();
      await page.getByRole('heading', { name: 'My devices', level: 1 }).waitFor();
      expect(prompted).toBe(false);

      // Back goes to the page before, not to a dialog that is gone.
      await page.goBack();
      await page.getByRole('heading', { name: 'Helpdesk', level: 1 }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
