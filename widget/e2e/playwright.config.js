// Playwright's configuration for the widget's end-to-end suite (see README.md). It drives
// Debian's Chromium (never a downloaded browser) and runs one test at a time: the machine has
// two cores, and the tests share one natter server that some of them stop and restart.

import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from './support/env.js';

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  // `list` for the terminal; the HTML report (playwright-report/, with traces of failures) for
  // a closer look: `npx playwright show-report`.
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
