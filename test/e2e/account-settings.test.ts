/**
 * Account settings in the browser: alice changes her mobile number and language on /account, sets
 * up an authenticator app (the key read from the page, the code computed with RFC 6238), signs out
 * and signs in again with the code; axe checks /account and the code step. She is put back as she
 * was at the end (the browser tests share one portal).
 */
import {
  AdminDeleteUserAttributesCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { totp } from '../totp.ts';
import { expectAccessible } from './axe.ts';
import { ALICE, accountMenu, DEMO_PASSWORD, launchBrowser, openPage, signIn } from './browser.ts';

const STORAGE_KEY = 'device-portal.session';

/** Alice as the seed made her: her phone, no language, no second factor. */
async function restoreAlice(accessToken: string | undefined): Promise<void> {
  if (accessToken) {
    await fetch(`${inject('baseUrl')}/_local/cognito/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityProviderService.SetUserMFAPreference',
      },
      body: JSON.stringify({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: false } }),
    });
  }
  const cognito = new CognitoIdentityProviderClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: inject('cognitoEndpoint'),
  });
  const UserPoolId = inject('userPoolId');
  await cognito.send(
    new AdminUpdateUserAttributesCommand({
      UserPoolId,
      Username: ALICE,
      UserAttributes: [
        { Name: 'phone_number', Value: '+15555550101' },
        { Name: 'name', Value: 'Alice Martin' },
      ],
    }),
  );
  await cognito.send(
    new AdminDeleteUserAttributesCommand({ UserPoolId, Username: ALICE, UserAttributeNames: ['locale'] }),
  );
}

describe('account settings', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('alice changes her phone and language, sets up TOTP and signs in with its code', async () => {
    const { page, context, errors } = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    let firstToken: string | undefined;
    try {
      await signIn(page, baseUrl, ALICE);
      firstToken = await page.evaluate(
        (key) => (JSON.parse(sessionStorage.getItem(key) ?? '{}') as { accessToken?: string }).accessToken,
        STORAGE_KEY,
      );

      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Account settings' }).click();
      await page.getByRole('heading', { name: 'Account settings', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/account');
      expect(await page.title()).toBe('Account settings · Device Portal');
      expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe(ALICE);
      expect(await page.getByLabel('Email', { exact: true }).getAttribute('readonly')).not.toBeNull();
      await expectAccessible(page, '/account');

      // As people type it, with the country picked: stored as E.164.
      await page.locator('.phone-field select').selectOption('US');
      await page.getByLabel('Mobile number (for SMS invitations)').fill('(415) 555-0123');
      await page.getByLabel('Language').selectOption('de');
      const saved = page.waitForResponse(
        (r) => r.url().endsWith('/api/me') && r.request().method() === 'PATCH',
      );
      await page.getByRole('button', { name: 'Save details' }).click();
      const answer = await saved;
      expect(answer.status()).toBe(200);
      expect(((await answer.json()) as { user: { phoneNumber: string } }).user.phoneNumber).toBe(
        '+14155550123',
      );
      await page.getByRole('status').filter({ hasText: 'Your details are saved.' }).waitFor();

      await page.reload();
      await page.getByRole('heading', { name: 'Account settings', level: 1 }).waitFor();
      await page.getByLabel('Name', { exact: true }).waitFor();
      expect(await page.getByLabel('Mobile number (for SMS invitations)').inputValue()).toBe(
        '(415) 555-0123',
      );
      expect(await page.getByLabel('Language').inputValue()).toBe('de');

      // The authenticator app: the key from the page, the code from RFC 6238.
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const secretText = page.getByTestId('totp-secret');
      await secretText.waitFor();
      const secret = ((await secretText.textContent()) ?? '').trim();
      expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
      await page.getByTestId('totp-qr').waitFor();
      expect(await page.getByTestId('totp-qr').getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
      await page.getByLabel('Code from the app').fill(totp(secret));
      await page.getByRole('button', { name: 'Turn on' }).click();
      await page.getByTestId('totp-status').waitFor();

      // Signing in now asks for the code.
      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.getByLabel('Email', { exact: true }).fill(ALICE);
      await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      await expectAccessible(page, 'the code step');
      const wrong = String((Number(totp(secret)) + 1) % 1_000_000).padStart(6, '0');
      await page.getByLabel('Authentication code').fill(wrong);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
      await page.getByLabel('Authentication code').fill(totp(secret));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await accountMenu(page).waitFor();

      // And off again, from account settings.
      await page.goto(`${baseUrl}/account`);
      await page.getByRole('button', { name: 'Turn off' }).click();
      await page.getByRole('status').filter({ hasText: 'The second sign-in step is off' }).waitFor();
      // The one error is the browser's log line for the wrong code's 400 from Cognito.
      expect(errors).toEqual([
        'console error: Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ]);
    } finally {
      await restoreAlice(firstToken);
      await context.close();
    }
  });
});
