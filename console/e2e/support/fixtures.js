// The suite's fixtures.
//
// Per worker (the suite runs with one): `natter`, the real server (`natter serve --demo` on a
// free port, a fresh data directory, the widget suite's `NatterServer`), and `site`, the widget
// suite's static server for "third-party" pages (`widget/e2e/pages`), whose origin the demo
// tenant is told to allow. No bot agent: here the agents are people in the console.
//
// Per test: fresh browser contexts, and `consoleErrors` watches every context the test opens
// (through the `newContext` fixture and the default `context`): console messages of type error
// and uncaught page errors fail the test. `expectNetworkErrors` allows Chromium's own logs of
// refused connections while the server is down (the outage test); `expectRefusals` allows its
// logs of 401/403 answers where a test provokes them (a visitor's token at the console).
//
// The widget suite's support files that import `@playwright/test` are not imported: a second
// copy of Playwright (theirs lives in widget/e2e/node_modules) refuses to load. `natter.js`,
// `site.js` and `env.js` are plain Node and shared.

import { test as base, expect } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NatterServer } from '../../../widget/e2e/support/natter.js';
import { Site } from '../../../widget/e2e/support/site.js';
import { checkEnvironment } from './env.js';

const NETWORK_NOISE = [
  /^Failed to load resource: net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|EMPTY_RESPONSE|INTERNET_DISCONNECTED|NETWORK_CHANGED|NETWORK_IO_SUSPENDED)\b/,
  /^WebSocket connection to '[^']*' failed/,
];

/** Chromium's log of an HTTP refusal the test provokes (a visitor's token at the console). */
const REFUSAL_NOISE = /^Failed to load resource: the server responded with a status of 40[13]\b/;

/** Collects console errors and page errors of `context` into `errors`. */
function watch(context, errors, { expectNetworkErrors, expectRefusals }) {
  context.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // Browser-generated network logs carry no JS arguments; a console.error call does.
    const fromBrowser = message.args().length === 0;
    if (expectNetworkErrors && fromBrowser && NETWORK_NOISE.some((re) => re.test(text))) return;
    if (expectRefusals && fromBrowser && REFUSAL_NOISE.test(text)) return;
    const { url, lineNumber } = message.location();
    errors.push(`console.error: ${text}${url ? ` (${url}:${lineNumber})` : ''}`);
  });
  context.on('weberror', (webError) => {
    const error = webError.error();
    errors.push(`page error: ${error.stack || `${error.name}: ${error.message}`}`);
  });
}

export const test = base.extend({
  expectNetworkErrors: [false, { option: true }],
  expectRefusals: [false, { option: true }],
  consoleErrors: [
    async ({}, use) => {
      const errors = [];
      await use(errors);
      expect(errors, 'console errors and page errors').toEqual([]);
    },
    { auto: true },
  ],
  context: async ({ context, consoleErrors, expectNetworkErrors, expectRefusals }, use) => {
    watch(context, consoleErrors, { expectNetworkErrors, expectRefusals });
    await use(context);
  },
  /**
   * Opens another browser context (another person: a second agent, the owner, a visitor),
   * watched like the default one and closed after the test. Options as `browser.newContext`.
   */
  newContext: async ({ browser, consoleErrors, expectNetworkErrors, expectRefusals }, use, testInfo) => {
    const opened = [];
    await use(async (options = {}) => {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        locale: 'en-US',
        ...options,
      });
      watch(context, consoleErrors, { expectNetworkErrors, expectRefusals });
      opened.push(context);
      return context;
    });
    for (const [i, context] of opened.entries()) {
      if (testInfo.status !== testInfo.expectedStatus) {
        // Keep each person's last screen for the failure's report.
        for (const page of context.pages()) {
          await page
            .screenshot({ path: testInfo.outputPath(`context-${i}-${context.pages().indexOf(page)}.png`) })
            .catch(() => {});
        }
      }
      await context.close();
    }
  },
  natter: [
    async ({}, use, workerInfo) => {
      checkEnvironment();
      mkdirSync(workerInfo.project.outputDir, { recursive: true });
      const server = await NatterServer.start(join(workerInfo.project.outputDir, 'natter.log'));
      await use(server);
      await server.dispose();
    },
    { scope: 'worker', timeout: 60_000 },
  ],
  site: [
    async ({ natter }, use) => {
      const site = await Site.start(natter.base);
      await natter.prepareTenant([site.origin]);
      await use(site);
      await site.close();
    },
    { scope: 'worker', timeout: 60_000 },
  ],
});

export { expect };
