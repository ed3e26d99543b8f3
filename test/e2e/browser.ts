/**
 * Browser helpers for the e2e tests: Debian's Chromium driven by playwright-core (Playwright never
 * downloads a browser here), and signing in through the portal's own form.
 */
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';
import { DEFAULT_DEMO_PASSWORD } from '../../infra/local/local-portal.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The global setup seeds the demo users with the default password, whatever DEMO_PASSWORD says. */
export const DEMO_PASSWORD = DEFAULT_DEMO_PASSWORD;

export const ALICE = 'alice@example.com';
export const BOB = 'bob@example.com';
export const ADMIN = 'admin@example.com';

/** A phone-sized context, for the /go page as a device opens it. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
};

/** An Android phone: /go tells the server the phone's platform from the user agent. */
export const ANDROID_PHONE: BrowserContextOptions = {
  viewport: { width: 412, height: 915 },
  deviceScaleFactor: 2.6,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
};

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors (CSP violations among them) seen so far. */
  errors: string[];
}

/** A fresh context (own storage, so its own session) and a page that records its errors. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<OpenPage> {
  const context = await browser.newContext({ locale: 'en-US', ...options });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
  });
  return { context, page, errors };
}

/**
 * Signs in through the portal's form: fills "Email" and "Password", presses "Sign in", and waits
 * until the form is gone and the account menu ("Welcome, <name>") shows the profile loaded.
 * Throws with the form's own error text when sign-in is refused.
 */
export async function signIn(
  page: Page,
  baseUrl: string,
  email: string,
  password: string = DEMO_PASSWORD,
): Promise<void> {
  await page.goto(baseUrl);
  const emailField = page.getByLabel('Email', { exact: true });
  await emailField.fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const refusal = page.getByRole('alert').first();
  // Both waits settle (the loser by timeout or page close), so no rejection goes unhandled.
  const outcome = await Promise.race([
    emailField.waitFor({ state: 'detached' }).then(
      () => 'signed-in' as const,
      () => 'timeout' as const,
    ),
    refusal.waitFor({ state: 'visible' }).then(
      () => 'refused' as const,
      () => 'timeout' as const,
    ),
  ]);
  if (outcome === 'refused') {
    throw new Error(`Sign-in as ${email} was refused: ${(await refusal.textContent())?.trim()}`);
  }
  if (outcome === 'timeout') throw new Error(`Sign-in as ${email} did not finish`);
  await accountMenu(page).waitFor({ state: 'visible' });
}

/** The account menu button, labelled "Welcome, <display name>", shown once the profile is loaded. */
export function accountMenu(page: Page) {
  return page.getByRole('button', { name: /^Welcome, / });
}
