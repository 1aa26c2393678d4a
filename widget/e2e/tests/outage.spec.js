// Never lose, never duplicate: messages written while the server is down or the browser is
// offline show as pending, survive a reload, and are delivered exactly once when the way is
// clear again.

import { test, expect } from '../support/fixtures.js';
import { echoOf } from '../support/natter.js';
import {
  cacheStaticFiles,
  ensureOpen,
  lines,
  openPanel,
  screenshot,
  send,
  status,
  unique,
} from '../support/widget.js';

// Chromium logs the refused connections itself while the server is down or the browser offline.
test.use({ expectNetworkErrors: true });

/** Exactly one copy of `text` on the server, still one a moment later, and one echo. */
async function expectStoredOnce(natter, text) {
  await expect.poll(() => natter.messagesWithText(text).then((found) => found.length)).toBe(1);
  await expect.poll(() => natter.messagesWithText(echoOf(text)).then((found) => found.length)).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(await natter.messagesWithText(text)).toHaveLength(1);
  expect(await natter.messagesWithText(echoOf(text))).toHaveLength(1);
}

test('a message written while the server is down is delivered once after it restarts', async ({ page, site, natter, agent }) => {
  await page.goto(site.url('/shop.html'));
  await openPanel(page);
  const before = unique('Before the outage');
  await send(page, before);
  await expect(lines(page, { side: 'agent', text: echoOf(before) })).toHaveCount(1);

  const text = unique('Written during the outage');
  try {
    await natter.stop('SIGKILL');
    await expect(status(page)).toHaveAttribute('data-state', /^(reconnecting|unavailable)$/);
    await send(page, text);
    await expect(lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'pending');
    // The picture for the README: the friendlier "unavailable" once attempts keep failing.
    await expect(status(page))
      .toHaveAttribute('data-state', 'unavailable', { timeout: 30_000 })
      .catch(() => {});
    await screenshot(page, 'widget-desktop-unavailable');
    await expect(lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'pending');
  } finally {
    await natter.start();
    await agent.ensureRunning();
  }

  // Delivered by itself, without a click on "retry now" (the backoff is capped at 30 s).
  await expect(lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'sent', {
    timeout: 60_000,
  });
  await expect(status(page)).toHaveAttribute('data-state', 'online');
  await expect(lines(page, { side: 'agent', text: echoOf(text) })).toHaveCount(1, { timeout: 30_000 });
  await expect(lines(page, { side: 'visitor', text })).toHaveCount(1);
  await expectStoredOnce(natter, text);
  await expect(lines(page, { side: 'agent', text: echoOf(text) })).toHaveCount(1);
});

test('a message written offline survives a reload and is delivered once back online', async ({ page, context, site, natter }) => {
  await cacheStaticFiles(context, { site, natter });
  await page.goto(site.url('/shop.html'));
  await openPanel(page);
  const before = unique('Before going offline');
  await send(page, before);
  await expect(lines(page, { side: 'agent', text: echoOf(before) })).toHaveCount(1);

  const text = unique('Written offline');
  await context.setOffline(true);
  try {
    await expect(status(page)).toHaveAttribute('data-state', 'offline');
    await send(page, text);
    await expect(lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'pending');

    await page.reload();
    await ensureOpen(page);
    // Restored from storage, still waiting.
    await expect(lines(page, { side: 'visitor', text })).toHaveCount(1);
    await expect(lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'pending');
    await expect(status(page)).toHaveAttribute('data-state', 'offline');
  } finally {
    await context.setOffline(false);
  }

  await expect(lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'sent', {
    timeout: 60_000,
  });
  await expect(lines(page, { side: 'agent', text: echoOf(text) })).toHaveCount(1, { timeout: 30_000 });
  await expect(lines(page, { side: 'visitor', text })).toHaveCount(1);
  await expectStoredOnce(natter, text);
});
