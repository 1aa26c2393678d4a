// How the tests drive the console and the widget: signing in, the conversation list, the
// conversation view, REST calls as the demo staff, and the widget's DOM on the test page.
//
// The console is found by role, label and text (its accessible names are its contract with
// this suite); the few CSS hooks used are data attributes the console renders on purpose:
// `.item[data-conversation][data-status]` in the list, `.line[data-state="pending"]` for a reply
// not yet on the server, `.line.lead .role-badge` for an owner's or admin's staff-room message.
// The widget's DOM contract is listed at the top of widget/e2e/support/widget.js.

import { expect } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './env.js';

export const OWNER = { email: 'owner@demo.natter.chat', password: 'demo-owner-pass', name: 'Olivia Owner' };
export const ADA = { email: 'ada@demo.natter.chat', password: 'demo-agent-pass', name: 'Ada' };
export const GRACE = { email: 'grace@demo.natter.chat', password: 'demo-agent-pass', name: 'Grace' };

/** A text no other test (or earlier run) wrote, so counts on the server are exact. */
export function unique(label) {
  return `${label} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Opens `/console` in a new page of `context` and signs in as `who`; resolves to the page. */
export async function signIn(context, natter, who) {
  const page = await context.newPage();
  await page.goto(`${natter.base}/console`);
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await expect(connectionBanner(page)).toHaveCount(0, { timeout: 30_000 });
  return page;
}

/** The reconnecting / offline banner (absent while connected). */
export function connectionBanner(page) {
  return page.locator('.banner');
}

/** A link of the main navigation ("Inbox", "Staff room", "Team", "Settings"). */
export function nav(page, name) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
}

/** Opens a tab of the conversation list: "Mine", "Queue", "All", "Closed". */
export async function openTab(page, name) {
  await page.getByRole('tablist', { name: 'Filter' }).getByRole('tab', { name: new RegExp(`^${name}`) }).click();
}

/** The list entry of the conversation with this id. */
export function listItem(page, conversationId) {
  return page.locator(`.item[data-conversation="${conversationId}"]`);
}

/** The messages log of the open conversation (or the staff room). */
export function messages(page) {
  return page.getByRole('log', { name: 'Messages' });
}

/** The reply box. */
export function composer(page) {
  return page.getByRole('textbox', { name: 'Reply' });
}

/** Types `text` in the reply box and sends it with Enter. */
export async function reply(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await expect(composer(page)).toHaveValue('');
}

/**
 * Saves a screenshot for the README: under `docs/screenshots/<name>.png` when
 * `NATTER_SCREENSHOTS=1`, otherwise under `test-results/screenshots/` so an ordinary run leaves
 * the working tree clean (as the widget suite does).
 */
export async function screenshot(page, name) {
  const dir =
    process.env.NATTER_SCREENSHOTS === '1'
      ? join(REPO, 'docs/screenshots')
      : join(REPO, 'console/e2e/test-results/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(dir, `${name}.png`), animations: 'disabled', scale: 'css' });
}

// ---- REST, as the demo staff ---------------------------------------------------------------

/** An access token for `who`. */
export function tokenOf(natter, who) {
  return natter.login(who);
}

/** The conversations of the tenant, as the owner sees them (newest activity first). */
export async function conversations(natter, query = 'limit=200') {
  const owner = await natter.login(OWNER);
  const { items } = await natter.api('GET', `/v1/conversations?${query}`, { token: owner });
  return items;
}

/** The conversation whose visitor is on `pageUrl`, found when the server has it. */
export async function conversationFrom(natter, pageUrl) {
  let found;
  await expect
    .poll(async () => {
      const items = await conversations(natter);
      found = items.find((c) => c.contact && c.contact.page_url === pageUrl && c.status !== 'closed');
      return !!found;
    }, { message: `a conversation from ${pageUrl}` })
    .toBe(true);
  return found;
}

/** Every message of the conversation `id`, oldest first, as the owner sees them. */
export async function messagesOf(natter, id) {
  const owner = await natter.login(OWNER);
  const page = await natter.api('GET', `/v1/conversations/${id}/messages?limit=200`, { token: owner });
  return page.items;
}

/** Sets the tenant's routing policy (`auto` or `manual`), keeping the rest. */
export async function setPolicy(natter, policy) {
  const owner = await natter.login(OWNER);
  const settings = await natter.api('GET', '/v1/routing/settings', { token: owner });
  await natter.api('PUT', '/v1/routing/settings', { token: owner, body: { ...settings, policy } });
}

/** Waits until exactly the staff named in `names` are online for routing. */
export async function expectOnline(natter, names) {
  const owner = await natter.login(OWNER);
  await expect
    .poll(async () => {
      const { items } = await natter.api('GET', '/v1/routing/agents', { token: owner });
      return items.filter((a) => a.presence === 'online').map((a) => a.name).sort();
    }, { message: `online agents ${names.join(', ')}`, timeout: 20_000 })
    .toEqual([...names].sort());
}

// ---- The widget on the test page ----------------------------------------------------------

const WIDGET = {
  launcher: 'natter-widget .natter-launcher',
  panel: 'natter-widget .natter-panel',
  composer: 'natter-widget .natter-panel textarea',
  sendButton: 'natter-widget .natter-panel .natter-send',
  line: 'natter-widget .natter-line',
  typing: 'natter-widget .natter-typing',
};

export const widget = {
  launcher: (page) => page.locator(WIDGET.launcher),
  composer: (page) => page.locator(WIDGET.composer),
  typing: (page) => page.locator(WIDGET.typing),
  /** Message lines, optionally of one side (`visitor`, `agent`, `system`) containing `text`. */
  lines(page, { side, text } = {}) {
    const selector = side ? `${WIDGET.line}[data-side="${side}"]` : WIDGET.line;
    return text === undefined ? page.locator(selector) : page.locator(selector, { hasText: text });
  },
  /** Opens the test page's widget panel. */
  async open(page) {
    await expect(page.locator(WIDGET.launcher)).toBeVisible();
    await page.locator(WIDGET.launcher).click();
    await expect(page.locator(WIDGET.panel)).toHaveAttribute('data-open');
    await expect(page.locator(WIDGET.composer)).toBeVisible();
  },
  /** Sends `text` from the widget (Enter). */
  async send(page, text) {
    await page.locator(WIDGET.composer).fill(text);
    await page.locator(WIDGET.composer).press('Enter');
    await expect(page.locator(WIDGET.composer)).toHaveValue('');
    await expect(widget.lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'sent');
  },
};

/**
 * A visitor in a fresh context on the test page (`/plain.html?<tag>`, so each visitor's page URL
 * is its own and the console's contact panel can be checked), with the widget open and `first`
 * sent. Resolves to `{ page, url }`.
 */
export async function visitorWrites(newContext, site, first, tag = unique('visit').replace(/\W/g, '')) {
  const context = await newContext();
  const page = await context.newPage();
  const url = site.url(`/plain.html?visit=${tag}`);
  await page.goto(url);
  await widget.open(page);
  await widget.send(page, first);
  return { page, url };
}
