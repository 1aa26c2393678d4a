// The suite's fixtures.
//
// Per worker (the suite runs with one): `natter`, the real server (`natter serve --demo` on a
// free port, a fresh data directory); `agent`, the `auto_greeter` bot signed in as Ada; `site`,
// the static server for the "third-party" pages, whose origin the demo tenant is told to allow.
//
// Per test: every test gets a fresh browser context, and `consoleErrors` watches it: console
// messages of type error and uncaught page errors, from every tab, fail the test. Two options
// relax it where a test provokes failures on purpose:
// - `expectNetworkErrors`: Chromium itself logs failed requests ("Failed to load resource:
//   net::ERR_CONNECTION_REFUSED", "WebSocket connection to ... failed") while the server is down
//   or the browser offline; those (and only those: they have no JS arguments) are allowed.
// - `allowConsoleErrors`: the refused-origin test, where the browser reports the 403s.

import { test as base, expect } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkEnvironment } from './env.js';
import { Agent, NatterServer } from './natter.js';
import { Site } from './site.js';

const NETWORK_NOISE = [
  /^Failed to load resource: net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|EMPTY_RESPONSE|INTERNET_DISCONNECTED|NETWORK_CHANGED|NETWORK_IO_SUSPENDED)\b/,
  /^WebSocket connection to '[^']*' failed/,
];

/** Console guard only: for tests that bring their own servers (the loader's). */
export const guarded = base.extend({
  allowConsoleErrors: [false, { option: true }],
  expectNetworkErrors: [false, { option: true }],
  consoleErrors: [
    async ({ context, allowConsoleErrors, expectNetworkErrors }, use) => {
      const errors = [];
      context.on('console', (message) => {
        if (message.type() !== 'error') return;
        const text = message.text();
        // Browser-generated network logs carry no JS arguments; a console.error call does.
        const fromBrowser = message.args().length === 0;
        if (expectNetworkErrors && fromBrowser && NETWORK_NOISE.some((re) => re.test(text))) return;
        const { url, lineNumber } = message.location();
        errors.push(`console.error: ${text}${url ? ` (${url}:${lineNumber})` : ''}`);
      });
      context.on('weberror', (webError) => {
        const error = webError.error();
        errors.push(`page error: ${error.stack || `${error.name}: ${error.message}`}`);
      });
      await use(errors);
      if (!allowConsoleErrors) expect(errors, 'console errors and page errors').toEqual([]);
    },
    { auto: true },
  ],
});

/**
 * The full stack: the real server, the bot agent, the third-party site. Every page starts with
 * the documented stub (`window.Natter = { q: [...] }`) holding one `on('ready')` call, so tests
 * can tell when the widget is mounted (`window.__natterReady`) without making it load.
 */
export const test = guarded.extend({
  readyProbe: [
    async ({ context }, use) => {
      await context.addInitScript(() => {
        window.Natter = { q: [['on', 'ready', () => (window.__natterReady = true)]] };
      });
      await use();
    },
    { auto: true },
  ],
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
  agent: [
    async ({ natter }, use, workerInfo) => {
      const agent = await Agent.start(natter, join(workerInfo.project.outputDir, 'agent.log'));
      await use(agent);
      await agent.stop();
    },
    { scope: 'worker', timeout: 60_000 },
  ],
  site: [
    // Depends on `agent` so that every test using the site has the bot online.
    // eslint-disable-next-line no-unused-vars
    async ({ natter, agent }, use) => {
      const site = await Site.start(natter.base);
      await natter.prepareTenant([site.origin]);
      await use(site);
      await site.close();
    },
    { scope: 'worker', timeout: 60_000 },
  ],
});

export { expect };
