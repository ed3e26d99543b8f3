/**
 * Sign out revokes the refresh token (Cognito RevokeToken, which cognito-local 5.3 implements):
 * afterwards REFRESH_TOKEN_AUTH with the old refresh token is refused, so a copy of it is useless.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN, accountMenu, launchBrowser, openPage, signIn } from './browser.ts';

const STORAGE_KEY = 'device-portal.session';

interface PortalConfig {
  userPoolClientId: string;
  cognitoEndpoint: string;
}

/** REFRESH_TOKEN_AUTH through the portal's local Cognito endpoint, as the web app sends it. */
async function refresh(baseUrl: string, refreshToken: string): Promise<{ status: number; body: unknown }> {
  const config = (await (await fetch(`${baseUrl}/config.json`)).json()) as PortalConfig;
  const res = await fetch(new URL(config.cognitoEndpoint, baseUrl), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: config.userPoolClientId,
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    }),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

describe('sign-out', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('revokes the refresh token: REFRESH_TOKEN_AUTH with it is refused afterwards', async () => {
    const { page, context, errors } = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await signIn(page, baseUrl, ADMIN);
      const stored = await page.evaluate((key) => sessionStorage.getItem(key), STORAGE_KEY);
      const refreshToken = (JSON.parse(stored ?? '{}') as { refreshToken?: string }).refreshToken ?? '';
      expect(refreshToken).not.toBe('');
      // The token works while signed in.
      expect((await refresh(baseUrl, refreshToken)).status).toBe(200);

      const revoked = page.waitForResponse(
        (response) =>
          response.url().includes('/_local/cognito') &&
          response.request().headers()['x-amz-target'] === 'AWSCognitoIdentityProviderService.RevokeToken',
      );
      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      const answer = await revoked;
      expect(answer.status()).toBe(200);
      const body = answer.request().postDataJSON() as { Token?: string; ClientId?: string };
      expect(body.Token).toBe(refreshToken);
      expect(body.ClientId).toBeTruthy();

      const after = await refresh(baseUrl, refreshToken);
      expect(after.status).toBe(400);
      expect(JSON.stringify(after.body)).toMatch(/NotAuthorized/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
