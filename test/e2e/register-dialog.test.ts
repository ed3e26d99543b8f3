/**
 * The register dialog's delivery: no channel is preselected (a PIN or QR code needs none, an
 * invitation at least one), and the SMS number is typed as people type it — a country (the
 * browser's region by default) and a local number, normalised to E.164 in the browser, with one
 * clear message for invalid or premium-rate numbers.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import { ADMIN, launchBrowser, openPage, signIn } from './browser.ts';

describe('register dialog: delivery channels and the phone number', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('preselects no channel, asks for one for an invitation, and sends the SMS to the E.164 number', async () => {
    const { page, context, errors } = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await signIn(page, baseUrl, ADMIN);
      await page.getByRole('button', { name: 'Register device' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Register device' });
      await dialog.waitFor();
      const email = dialog.getByRole('checkbox', { name: /^Email/ });
      const sms = dialog.getByRole('checkbox', { name: 'SMS' });
      expect(await email.isChecked()).toBe(false);
      expect(await sms.isChecked()).toBe(false);

      // An invitation needs a channel.
      await dialog.getByLabel('Android').check();
      await dialog.getByRole('button', { name: 'Send invitation', exact: true }).click();
      await dialog.getByText('Choose email, SMS or both for the invitation.').waitFor();

      // SMS: the country defaults to the browser's region (en-US here).
      await sms.check();
      const country = dialog.getByRole('combobox', { name: 'Country' });
      expect(await country.inputValue()).toBe('US');
      const number = dialog.getByLabel('Mobile number', { exact: true });
      const hint = (await dialog.locator('#reg-phone-hint').textContent()) ?? '';

      // Invalid, then premium-rate: refused, each with one message that is not the hint.
      await number.fill('123');
      await dialog.getByRole('button', { name: 'Send invitation', exact: true }).click();
      const error = dialog.locator('#reg-phone-error');
      await error.waitFor();
      expect(await error.textContent()).toMatch(/not a valid mobile number/);
      expect(await number.getAttribute('aria-invalid')).toBe('true');
      await country.selectOption('DE');
      await number.fill('0900 1234567');
      await dialog.getByRole('button', { name: 'Send invitation', exact: true }).click();
      await error.waitFor();
      expect(await error.textContent()).toMatch(/premium-rate/);
      expect(await dialog.locator('.field-error').count()).toBe(1);
      expect((await error.textContent())?.trim()).not.toBe(hint.trim());
      await expectAccessible(page, 'the register dialog with the phone field and an error');

      // A German mobile number typed the local way: shown formatted, sent as E.164.
      await number.fill('0151 23456789');
      await dialog.getByTestId('phone-formatted').waitFor();
      const formatted = (await dialog.getByTestId('phone-formatted').textContent()) ?? '';
      expect(formatted).toMatch(/^\+49 1\d/);
      expect(formatted.replace(/\s/g, '')).toBe('+4915123456789');
      const created = page.waitForRequest(
        (request) => new URL(request.url()).pathname === '/api/registrations' && request.method() === 'POST',
      );
      await dialog.getByRole('button', { name: 'Send invitation', exact: true }).click();
      const body = (await created).postDataJSON() as { delivery: string[]; phoneNumber?: string };
      expect(body.delivery).toEqual(['SMS']);
      expect(body.phoneNumber).toBe('+4915123456789');
      await page.getByRole('dialog', { name: 'Registration started' }).waitFor();

      const outbox = (await (await fetch(inject('outboxJsonUrl'))).json()) as {
        sms: { phoneNumber: string; message: string }[];
      };
      expect(outbox.sms.some((m) => m.phoneNumber === '+4915123456789' && m.message.includes('/go'))).toBe(
        true,
      );
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
