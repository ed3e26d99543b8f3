/**
 * The administrator's settings page end to end (issue 13.7): QR registration turned off on /admin
 * disappears from a user's register dialog, the wipe role taken away leaves the wipe icon saying why it
 * is unavailable (and the server refuses it), and two admins saving at once: the second is told.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { AgentEnrollResponse, RegistrationResponse } from '../../functions/core/api-types.ts';
import { ROLES } from '../../functions/routes.ts';
import { api } from '../integration/helpers.ts';
import { newUser, putSettings, resetSettings } from '../integration/local-table.ts';
import { expectAccessible } from './axe.ts';
import { ADMIN, ALICE, accountMenu, launchBrowser, openPage, signIn } from './browser.ts';

const baseUrl = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

beforeEach(async () => {
  await putSettings({
    goAttemptsPerAddress: 10_000,
    deviceLimitPerUser: 20,
    invitationsPerUserPerHour: 1000,
  });
});

afterAll(async () => {
  await browser?.close();
  await resetSettings();
});

async function openAdmin(page: Page): Promise<void> {
  await signIn(page, baseUrl, ADMIN);
  await accountMenu(page).click();
  await page.getByRole('menuitem', { name: 'Portal settings' }).click();
  await page.getByRole('heading', { name: 'Portal settings', level: 1 }).waitFor();
}

async function saveAndWait(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText(/^Settings saved/).waitFor();
}

describe('/admin', () => {
  it('turns QR registration off: the user no longer sees Generate QR code', async () => {
    const admin = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    const user = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    try {
      await openAdmin(admin.page);
      await expectAccessible(admin.page, 'the admin settings page');
      const qr = admin.page.getByRole('checkbox', { name: 'QR code' });
      expect(await qr.isChecked()).toBe(true);
      // The live preview follows the template as it is typed.
      await admin.page.getByLabel('Email subject').first().fill('Hi {{displayName}}');
      await admin.page.getByTestId('preview-IOS').getByText('Hi Alice Martin').waitFor();
      await admin.page.getByLabel('Email subject').first().fill('Register your iPhone or iPad');
      await qr.uncheck();
      await saveAndWait(admin.page);

      await signIn(user.page, baseUrl, ALICE);
      await user.page.getByRole('button', { name: 'Register device' }).first().click();
      const dialog = user.page.getByRole('dialog', { name: 'Register device' });
      await dialog.waitFor();
      await dialog.getByText('PIN', { exact: false }).first().waitFor();
      expect(await dialog.getByText('Generate QR code').count()).toBe(0);
      expect(admin.errors).toEqual([]);
    } finally {
      await admin.context.close();
      await user.context.close();
    }
  });

  it('shows a field error next to its field', async () => {
    const { page, context } = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    try {
      await openAdmin(page);
      const pinLength = page.getByLabel('PIN length (digits)');
      await pinLength.fill('3');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.locator('#setting-pinLength-error').waitFor();
      expect(await pinLength.getAttribute('aria-invalid')).toBe('true');
      expect(await pinLength.getAttribute('aria-describedby')).toContain('setting-pinLength-error');
      await expectAccessible(page, 'the admin settings page with a field error');
    } finally {
      await context.close();
    }
  });

  it('takes the wipe role away: the wipe icon explains it is unavailable, and the server answers 403', async () => {
    await putSettings({ defaultRoles: [...ROLES], goAttemptsPerAddress: 10_000, deviceLimitPerUser: 20 });
    const alice = await newUser();
    const created = await api<RegistrationResponse>('/api/registrations', {
      method: 'POST',
      token: alice.accessToken,
      body: { platform: 'ANDROID', method: 'PIN', delivery: [], ownership: 'COMPANY', name: 'Work phone' },
    });
    expect(created.status).toBe(201);
    const enrolled = await api<AgentEnrollResponse>('/api/agent/enroll', {
      method: 'POST',
      body: {
        username: alice.email,
        pin: created.body.pin,
        managementMode: 'FULLY_MANAGED',
        device: {
          platform: 'ANDROID',
          deviceType: 'Pixel 9',
          manufacturer: 'Google',
          osVersion: 'Android 15',
        },
      },
    });
    expect(enrolled.status).toBe(201);

    const admin = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    const user = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    try {
      await signIn(user.page, baseUrl, alice.email);
      await user.page.goto(`${baseUrl}/devices/${enrolled.body.deviceId}`);
      await user.page.locator('[data-action="WIPE"]').waitFor();

      await openAdmin(admin.page);
      await admin.page
        .getByRole('group', { name: "Everyone's roles" })
        .getByRole('checkbox', { name: 'Wipe' })
        .uncheck();
      await saveAndWait(admin.page);

      await user.page.reload();
      const wipe = user.page.locator('[data-action="WIPE"]');
      await expect
        .poll(() =>
          wipe
            .getByTestId('action-reason')
            .textContent()
            .catch(() => ''),
        )
        .toContain('does not allow this (needs "wipe")');
      const refused = await api(`/api/devices/${enrolled.body.deviceId}/wipe`, {
        method: 'POST',
        token: alice.accessToken,
      });
      expect(refused.status).toBe(403);
    } finally {
      await admin.context.close();
      await user.context.close();
    }
  });

  it('two admins save at once: the second is told and can load their values', async () => {
    const first = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    const second = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    try {
      await openAdmin(first.page);
      await openAdmin(second.page);
      await first.page.getByLabel('Opening hours').fill('Around the clock');
      await second.page.getByLabel('Opening hours').fill('Weekdays only');
      await saveAndWait(first.page);
      await second.page.getByRole('button', { name: 'Save settings' }).click();
      const alert = second.page
        .getByRole('alert')
        .filter({ hasText: 'Someone else saved the settings first' });
      await alert.waitFor();
      expect(await alert.textContent()).toContain('helpdesk.hours');
      await expectAccessible(second.page, 'the admin settings page after a conflict');
      await alert.getByRole('button', { name: 'Load their values' }).click();
      expect(await second.page.getByLabel('Opening hours').inputValue()).toBe('Around the clock');
    } finally {
      await first.context.close();
      await second.context.close();
    }
  });

  it('tells a user outside portal-admins that the page is for administrators', async () => {
    const { page, context } = await openPage(browser);
    try {
      await signIn(page, baseUrl, ALICE);
      await accountMenu(page).click();
      expect(await page.getByRole('menuitem', { name: 'Portal settings' }).count()).toBe(0);
      await page.goto(`${baseUrl}/admin`);
      await page.getByRole('heading', { name: 'Only portal administrators can open this page' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
