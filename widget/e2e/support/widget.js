// How the tests find their way around the widget: the DOM contract between the wasm widget
// (`widget/src/ui`) and this suite, in one place. Playwright's CSS locators pierce open shadow
// roots, so these reach inside `<natter-widget>`.
//
//   natter-widget                     the host element (the one element added to the page)
//   .natter-launcher                  the launcher button (aria-expanded)
//   .natter-panel[data-open]          the chat panel; data-open present (empty) while open
//   textarea (in the panel)           the composer (Enter sends)
//   .natter-send                      the send button (phones, where Enter may add a line)
//   .natter-status[data-state]        the connection line: data-state is the ConnectionStatus
//                                     (connecting, online, reconnecting, unavailable, offline,
//                                     refused)
//   .natter-line[data-side]           one message line: data-side visitor | agent | system,
//                                     data-delivery pending | sent | failed

import { expect } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './env.js';

export const SEL = {
  host: 'natter-widget',
  launcher: 'natter-widget .natter-launcher',
  panel: 'natter-widget .natter-panel',
  composer: 'natter-widget .natter-panel textarea',
  sendButton: 'natter-widget .natter-panel .natter-send',
  status: 'natter-widget .natter-status',
  line: 'natter-widget .natter-line',
};

export const launcher = (page) => page.locator(SEL.launcher);
export const panel = (page) => page.locator(SEL.panel);
export const composer = (page) => page.locator(SEL.composer);
export const status = (page) => page.locator(SEL.status);

/** Message lines, optionally of one side (`visitor`, `agent`, `system`) and containing `text`. */
export function lines(page, { side, text } = {}) {
  const selector = side ? `${SEL.line}[data-side="${side}"]` : SEL.line;
  return text === undefined ? page.locator(selector) : page.locator(selector, { hasText: text });
}

/** The panel is open (`data-open` present) and visible. */
export async function expectOpen(page) {
  await expect(panel(page)).toHaveAttribute('data-open');
  await expect(panel(page)).toBeVisible();
}

/** The panel is closed (or not drawn yet). */
export async function expectClosed(page) {
  await expect(panel(page)).not.toHaveAttribute('data-open');
  await expect(panel(page)).toBeHidden();
}

/** Waits for the launcher, clicks it and waits until the panel is open with its composer. */
export async function openPanel(page) {
  await expect(launcher(page)).toBeVisible();
  await launcher(page).click();
  await expectOpen(page);
  await expect(composer(page)).toBeVisible();
}

/**
 * Types `text` in the composer and sends it with Enter, or with the send button where Enter
 * adds a line (touch devices).
 */
export async function send(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  const sent = await expect(composer(page))
    .toHaveValue('', { timeout: 2_000 })
    .then(() => true)
    .catch(() => false);
  if (sent) return;
  // Enter added a line: send with the button.
  await composer(page).fill(text);
  await page.locator(SEL.sendButton).click();
  await expect(composer(page)).toHaveValue('');
}

/** A text no other test (or earlier run) wrote, so counts on the server are exact. */
export function unique(label) {
  return `${label} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Saves a screenshot of the page for the README: under `docs/screenshots/<name>.png` when
 * `NATTER_SCREENSHOTS=1` (to refresh the committed pictures), otherwise under `test-results/`
 * so that an ordinary test run leaves the working tree clean.
 */
export async function screenshot(page, name) {
  const dir =
    process.env.NATTER_SCREENSHOTS === '1'
      ? join(REPO, 'docs/screenshots')
      : join(REPO, 'widget/e2e/test-results/screenshots');
  mkdirSync(dir, { recursive: true });
  // Let transitions settle so the picture shows the resting state.
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(dir, `${name}.png`), animations: 'disabled', scale: 'css' });
}

/** Opens the panel unless it already is (a reload may keep it open). */
export async function ensureOpen(page) {
  await expect(launcher(page)).toBeVisible();
  // Give the widget a moment to mount and restore its state before deciding.
  await widgetReady(page);
  if ((await panel(page).getAttribute('data-open')) === null) await launcher(page).click();
  await expectOpen(page);
  await expect(composer(page)).toBeVisible();
}

/**
 * Waits until the wasm widget is mounted and ready (its `ready` event fired), as recorded by the
 * stub the `test` fixture puts in every page (see `support/fixtures.js`). Triggers nothing.
 */
export async function widgetReady(page) {
  await page.waitForFunction(() => window.__natterReady === true, null, { timeout: 20_000 });
}

/**
 * Lets pages reload while the browser is offline, as they would from the HTTP cache: the page
 * and natter's static files (`/widget.js`, `/widget/*`) are recorded on their first load and
 * served from that record afterwards. API calls and WebSockets are untouched, so offline they
 * fail as they should. (Chromium's offline emulation also fails cached loads, and routing
 * disables the HTTP cache.) A page served by the route has no address Chromium knows, so it
 * counts as public and may not call natter on the loopback address without the
 * local-network-access permission.
 */
export async function cacheStaticFiles(context, { site, natter }) {
  await context.grantPermissions(['local-network-access']);
  const record = new Map();
  const isStatic = (url) =>
    url.origin === site.origin ||
    (url.origin === natter.base && (url.pathname === '/widget.js' || url.pathname.startsWith('/widget/')));
  await context.route(isStatic, async (route) => {
    const url = route.request().url();
    if (!record.has(url)) {
      const response = await route.fetch();
      record.set(url, { status: response.status(), headers: response.headers(), body: await response.body() });
    }
    await route.fulfill(record.get(url));
  });
}

/** The element's box once its animations (the panel's entrance) are over, in whole pixels. */
export async function restingBox(locator) {
  await locator.evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)));
  const box = await locator.boundingBox();
  return box && Object.fromEntries(Object.entries(box).map(([k, v]) => [k, Math.round(v)]));
}
