/**
 * Signing in through the portal's form: Alice (a fresh account, no devices) sees the Welcome menu at
 * the top right and the empty device list that explains how to register a device.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ALICE, launchBrowser, openPage, signIn } from './browser.ts';

const DESKTOP = { viewport: { width: 1280, height: 800 } };

describe('sign-in', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('refuses a wrong password with a clear message and keeps the form', async () => {
    const { page, context } = await openPage(browser, DESKTOP);
    try {
      await page.goto(baseUrl);
      await expect(page.title()).resolves.toContain('Device Portal');
      await page.getByRole('heading', { name: 'Device Portal' }).waitFor();
      await page.getByLabel('Email', { exact: true }).fill(ALICE);
      await page.getByLabel('Password', { exact: true }).fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toContain('Wrong email or password');
      expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe(ALICE);
    } finally {
      await context.close();
    }
  });

  it('shows Alice the Welcome menu at the top right and the empty device list', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      await signIn(page, baseUrl, ALICE);

      const welcome = page.getByRole('button', { name: /^Welcome, Alice/ });
      await welcome.waitFor();
      const box = await welcome.boundingBox();
      expect(box).not.toBeNull();
      if (box) {
        expect(box.x + box.width).toBeGreaterThan(1280 * 0.75);
        expect(box.y).toBeLessThan(80);
      }

      await page.getByRole('heading', { name: 'My devices', level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'No devices yet' }).waitFor();
      expect(await page.getByTestId('device-card').count()).toBe(0);
      const explanation = (await page.locator('.empty-state').textContent()) ?? '';
      expect(explanation).toContain('Register device');
      expect(explanation).toContain('/go');
      expect(explanation).toMatch(/Pending/);
      await page.locator('.empty-state').getByRole('button', { name: 'Register device' }).waitFor();

      // The Welcome menu: register, activity, certificates, account, helpdesk and sign out (Alice has the register-device role).
      await welcome.click();
      const items = await page.getByRole('menuitem').allInnerTexts();
      expect(items.map((t) => t.trim())).toEqual([
        'Register device',
        'Activity',
        'Certificates',
        'Account settings',
        'Helpdesk',
        'Sign out',
      ]);

      // Helpdesk is a page of its own (/help) with the contact details.
      await page.getByRole('menuitem', { name: 'Helpdesk' }).click();
      const helpdesk = page.locator('main section[aria-labelledby="help-heading"]');
      await page.getByRole('heading', { name: 'Helpdesk', level: 1 }).waitFor();
      expect(await helpdesk.locator('a[href^="tel:"]').count()).toBe(1);
      expect(await helpdesk.locator('a[href^="mailto:"]').count()).toBe(1);
      await page.goBack();
      await page.getByRole('heading', { name: 'My devices', level: 1 }).waitFor();

      await welcome.click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps the Welcome menu in the header on a 375-px phone', async () => {
    const { page, context } = await openPage(browser, { viewport: { width: 375, height: 812 } });
    try {
      await signIn(page, baseUrl, ALICE);
      const welcome = page.getByRole('button', { name: /^Welcome, Alice/ });
      await welcome.waitFor();
      const box = await welcome.boundingBox();
      expect(box).not.toBeNull();
      if (box) {
        expect(box.x + box.width).toBeLessThanOrEqual(375);
        expect(box.y).toBeLessThan(70);
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      expect(overflow).toBe(false);
    } finally {
      await context.close();
    }
  });
});
