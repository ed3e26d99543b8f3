/**
 * axe-core in the browser tests: its source (from npm) is evaluated in the page through the DevTools
 * protocol, which the portal's CSP (script-src 'self') does not block, so the page is checked as
 * served. `expectAccessible` fails with every WCAG 2.1 A/AA violation axe finds.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, RunOptions } from 'axe-core';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface Violation {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: { target: string; summary: string | undefined }[];
}

/** Every WCAG 2.1 AA violation on the page as it is now, in a readable form. */
export async function axeViolations(page: Page): Promise<Violation[]> {
  // Colours are checked as they end up, not half-way through a dialog's fade-in.
  await page.evaluate(() =>
    Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))),
  );
  const loaded = await page.evaluate(() => 'axe' in globalThis);
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const options: RunOptions = { runOnly: { type: 'tag', values: TAGS }, resultTypes: ['violations'] };
  const results = await page.evaluate(async (runOptions) => {
    const axe = (globalThis as unknown as { axe: { run: (c: Document, o: unknown) => Promise<AxeResults> } })
      .axe;
    return axe.run(document, runOptions);
  }, options);
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
  }));
}

/** Fails with the violations found, naming the screen (`what`) they were found on. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations, `axe-core violations on ${what}`).toEqual([]);
}
