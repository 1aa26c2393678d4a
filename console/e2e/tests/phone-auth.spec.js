// A phone viewport: the list and the conversation are separate screens. Signing out, staying
// signed in across a reload, and a visitor's token never opening the console.

import { devices } from '@playwright/test';
import { test, expect } from '../support/fixtures.js';
import { ADA, OWNER, messages, nav, openTab, screenshot, signIn } from '../support/console.js';

test('on a phone the list and the conversation are separate screens', async ({ natter, newContext }) => {
  const phone = devices['Pixel 7'];
  const context = await newContext({
    viewport: phone.viewport,
    userAgent: phone.userAgent,
    deviceScaleFactor: phone.deviceScaleFactor,
    isMobile: true,
    hasTouch: true,
  });
  const page = await signIn(context, natter, OWNER);
  await openTab(page, 'All');
  const list = page.getByRole('region', { name: 'Conversations' });
  await expect(list).toBeVisible();
  const first = page.locator('.item').first();
  await expect(first).toBeVisible();
  await screenshot(page, 'console-phone');

  await first.click();
  await expect(messages(page)).toBeVisible();
  await expect(list).toBeHidden();
  const back = page.getByRole('button', { name: 'Back to the list' }).first();
  await expect(back).toBeVisible();
  await back.click();
  await expect(list).toBeVisible();
  await expect(messages(page)).toHaveCount(0);
});

test('a reload stays signed in, and signing out forgets the session', async ({ natter, newContext }) => {
  const context = await newContext();
  const page = await signIn(context, natter, ADA);
  await page.reload();
  await expect(nav(page, 'Inbox')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('natter-console:')));
  expect(stored).toEqual([]);
});

test.describe(() => {
  // The console's calls with the visitor's token are refused (401/403): Chromium logs them.
  test.use({ expectRefusals: true });

test("a visitor's token does not open the console", async ({ natter, site, newContext }) => {
  // A real visitor session, opened from the allowed site like the widget does.
  const response = await fetch(`${natter.base}/v1/visitor/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: site.origin },
    body: JSON.stringify({ site_key: 'demo-site-key' }),
  });
  expect(response.status).toBe(200);
  const { visitor_token } = await response.json();
  expect(visitor_token).toBeTruthy();

  // Planted where the console keeps a staff member's tokens, then the console is loaded again.
  const page = await (await newContext()).newPage();
  await page.goto(`${natter.base}/console`);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await page.evaluate((token) => {
    localStorage.setItem('natter-console:tokens', JSON.stringify({ access: token, refresh: token }));
  }, visitor_token);
  await page.reload();
  await expect(page.getByText('This console is for staff accounts')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  expect(await page.evaluate(() => localStorage.getItem('natter-console:tokens'))).toBeNull();
});
});
