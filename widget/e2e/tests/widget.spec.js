// The widget against the real server, embedded with its script tag in pages of another origin,
// with the auto_greeter bot as the agent.

import { devices } from '@playwright/test';
import { test, expect } from '../support/fixtures.js';
import { createHmac } from 'node:crypto';
import { GREETING, OWNER, echoOf } from '../support/natter.js';
import {
  composer,
  ensureOpen,
  expectClosed,
  expectOpen,
  launcher,
  lines,
  openPanel,
  panel,
  restingBox,
  screenshot,
  send,
  status,
  unique,
  widgetReady,
} from '../support/widget.js';

test('a visitor on a third-party page writes, and the agent answers', async ({ page, site }) => {
  await page.goto(site.url('/shop.html'));
  await widgetReady(page);
  await expectClosed(page);
  await screenshot(page, 'widget-launcher');

  await openPanel(page);
  await send(page, 'Hello from the shop');
  await expect(lines(page, { side: 'visitor', text: 'Hello from the shop' })).toHaveAttribute(
    'data-delivery',
    'sent',
  );
  await expect(lines(page, { side: 'agent', text: GREETING })).toHaveCount(1);
  await expect(lines(page, { side: 'agent', text: echoOf('Hello from the shop') })).toHaveCount(1);
  await expect(lines(page, { side: 'visitor', text: 'Hello from the shop' })).toHaveCount(1);
  await screenshot(page, 'widget-desktop-open');
});

test('the session request names the page, and the composer sends typing previews', async ({ page, site }) => {
  const sessionRequest = page.waitForRequest(
    (r) => r.method() === 'POST' && r.url().endsWith('/v1/visitor/session'),
  );
  const typing = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      const frame = JSON.parse(String(payload));
      if (frame.type === 'typing') typing.push(frame);
    }),
  );
  await page.goto(site.url('/shop.html?item=42'));
  await openPanel(page);
  const first = unique('Before the preview');
  await send(page, first);
  expect((await sessionRequest).postDataJSON().page_url).toBe(page.url());
  await expect(lines(page, { side: 'agent', text: echoOf(first) })).toHaveCount(1);

  // Key by key: the first preview goes out at once, later ones are coalesced, and the latest
  // text follows when the interval ends (on the core's timer), without another keystroke.
  typing.length = 0;
  await composer(page).pressSequentially('Where is my order');
  await expect
    .poll(() => typing.at(-1))
    .toMatchObject({ typing: true, preview: 'Where is my order' });
  expect(typing[0]).toMatchObject({ typing: true, preview: 'W' });

  await composer(page).fill('');
  await expect.poll(() => typing.at(-1)).toMatchObject({ typing: false });
  expect(typing.at(-1).preview).toBeUndefined();
});

test('a reload keeps the conversation, and a second tab follows it live', async ({ page, context, site }) => {
  const first = unique('Before the reload');
  await page.goto(site.url('/shop.html'));
  await openPanel(page);
  await send(page, first);
  await expect(lines(page, { side: 'agent', text: echoOf(first) })).toHaveCount(1);

  await page.reload();
  await ensureOpen(page);
  await expect(lines(page, { side: 'visitor', text: first })).toHaveCount(1);
  await expect(lines(page, { side: 'visitor', text: first })).toHaveAttribute('data-delivery', 'sent');
  await expect(lines(page, { side: 'agent', text: echoOf(first) })).toHaveCount(1);

  const tab = await context.newPage();
  await tab.goto(site.url('/shop.html'));
  await ensureOpen(tab);
  await expect(lines(tab, { side: 'visitor', text: first })).toHaveCount(1);

  const second = unique('Written in the first tab');
  await send(page, second);
  await expect(lines(tab, { side: 'visitor', text: second })).toHaveCount(1);
  await expect(lines(tab, { side: 'agent', text: echoOf(second) })).toHaveCount(1);
  await expect(lines(page, { side: 'visitor', text: second })).toHaveCount(1);
});

test('hostile page CSS does not change the launcher or the panel', async ({ page, site }) => {
  // The same widget on a plain page, for reference.
  await page.goto(site.url('/plain.html'));
  await widgetReady(page);
  // The launcher's text comes with the site's settings, a request after `ready`: measure once
  // it is there, on both pages.
  await expect(launcher(page).locator('.natter-launcher-text')).toHaveText('Chat with us');
  const plainLauncher = await restingBox(launcher(page));
  await openPanel(page);
  const plainPanel = await restingBox(panel(page));
  const plainComposer = await restingBox(composer(page));

  await page.goto(site.url('/hostile.html'));
  await widgetReady(page);
  await expect(launcher(page)).toBeVisible();
  await expect(launcher(page).locator('.natter-launcher-text')).toHaveText('Chat with us');
  expect(await restingBox(launcher(page))).toEqual(plainLauncher);
  // The widget remembers that the panel was open on the other page.
  await ensureOpen(page);
  expect(await restingBox(panel(page))).toEqual(plainPanel);
  expect(await restingBox(composer(page))).toEqual(plainComposer);
  const font = await composer(page).evaluate((el) => getComputedStyle(el).fontSize);
  expect(font).not.toBe('40px');

  const text = unique('Hostile but working');
  await send(page, text);
  await expect(lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'sent');
  await expect(lines(page, { side: 'agent', text: echoOf(text) })).toHaveCount(1);
});

test('works under a strict Content-Security-Policy', async ({ page, site }) => {
  // Violations are reported as console errors too; this makes them explicit.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const response = await page.goto(site.url('/csp.html'));
  expect(response.headers()['content-security-policy']).toContain("default-src 'none'");
  await openPanel(page);
  const text = unique('Under a strict CSP');
  await send(page, text);
  await expect(lines(page, { side: 'visitor', text })).toHaveAttribute('data-delivery', 'sent');
  await expect(lines(page, { side: 'agent', text: echoOf(text) })).toHaveCount(1);
  expect(await page.evaluate(() => window.__cspViolations)).toEqual([]);
});

test.describe('on a page of an origin the site does not allow', () => {
  // The browser logs the server's 403 answers as errors; the test checks they are the only ones.
  test.use({ allowConsoleErrors: true });

  test('the widget refuses to start and no visitor session is opened', async ({ page, site, natter, consoleErrors }) => {
    const sessions = [];
    page.on('response', (response) => {
      if (response.url().includes('/v1/visitor/session') && response.ok()) sessions.push(response.url());
    });
    await page.goto(`${site.refusedOrigin}/plain.html`);
    await page.waitForFunction(() => !!window.Natter?.open);
    // Ask for the chat: a click if the launcher is still there, and a message through the API.
    await launcher(page).click({ timeout: 5_000 }).catch(() => {});
    const text = unique('From a refused origin');
    // Not awaited: a widget that never mounts never answers.
    await page.evaluate((t) => {
      window.Natter.sendMessage(t).catch(() => {});
    }, text);

    await expect(async () => {
      const removed = (await launcher(page).count()) === 0;
      const refused = (await status(page).getAttribute('data-state', { timeout: 500 }).catch(() => null)) === 'refused';
      expect(removed || refused, 'the launcher is gone or the status says refused').toBe(true);
    }).toPass({ timeout: 20_000 });
    await page.waitForTimeout(1_000);

    expect(sessions).toEqual([]);
    expect(await natter.messagesWithText(text)).toEqual([]);
    for (const error of consoleErrors) expect(error).toMatch(/status of 403/);
  });
});

test('the JS API: events, open and close, shutdown', async ({ page, site }) => {
  await page.goto(site.url('/shop.html'));
  await page.waitForFunction(() => !!window.Natter?.open);
  await page.evaluate(() => {
    window.received = [];
    window.panelEvents = [];
    window.Natter.on('message', (message) => window.received.push(message));
    window.Natter.on('open', () => window.panelEvents.push('open'));
    window.Natter.on('close', () => window.panelEvents.push('close'));
  });

  const text = unique('Sent through Natter.sendMessage');
  const key = await page.evaluate((t) => window.Natter.sendMessage(t), text);
  expect(typeof key).toBe('string');
  const findReply = (t) => window.received.find((m) => m.text === t) ?? null;
  await expect.poll(() => page.evaluate(findReply, echoOf(text))).not.toBeNull();
  const reply = await page.evaluate(findReply, echoOf(text));
  expect(reply).toMatchObject({
    text: echoOf(text),
    author: { kind: 'staff', name: 'Ada' },
    delivery: 'sent',
  });
  expect(typeof reply.key).toBe('string');
  expect(typeof reply.id).toBe('string');
  expect(typeof reply.seq).toBe('number');
  expect(typeof reply.conversationId).toBe('string');
  expect(typeof reply.createdAt).toBe('number');

  await page.evaluate(() => window.Natter.open());
  await expectOpen(page);
  await expect(lines(page, { side: 'visitor', text })).toHaveCount(1);
  await page.evaluate(() => window.Natter.close());
  await expectClosed(page);
  await page.evaluate(() => window.Natter.toggle());
  await expectOpen(page);
  expect(await page.evaluate(() => window.panelEvents)).toEqual(['open', 'close', 'open']);

  await page.evaluate(() => window.Natter.shutdown());
  await page.reload();
  await ensureOpen(page);
  await expect(lines(page, { side: 'visitor' })).toHaveCount(0);
  await expect(lines(page, { side: 'agent' })).toHaveCount(0);
});

test.describe('a visitor whose browser prefers Russian', () => {
  test.use({ locale: 'ru-RU' });

  test('reads the widget in Russian, then in French after setLocale, fetching only those texts', async ({ page, site }) => {
    const packs = [];
    page.on('response', (response) => {
      const pack = /\/widget\/natter-texts\.[0-9a-f]{8}-(\w+)\.txt$/.exec(response.url());
      if (pack) packs.push([pack[1], response.status(), response.headers()['cache-control']]);
    });
    await page.goto(site.url('/plain.html'));
    await ensureOpen(page);
    await expect(launcher(page)).toHaveAttribute('aria-label', 'Написать нам');
    await expect(panel(page)).toHaveAttribute('lang', 'ru');
    await expect(composer(page)).toHaveAttribute('placeholder', 'Напишите сообщение…');
    await expect(panel(page).locator('.natter-send')).toHaveAttribute('aria-label', 'Отправить');

    await page.evaluate(() => window.Natter.setLocale('fr'));
    await expect(panel(page)).toHaveAttribute('lang', 'fr');
    await expect(composer(page)).toHaveAttribute('placeholder', 'Écrivez un message…');
    await expect(launcher(page)).toHaveAttribute('aria-label', 'Discuter avec nous');
    // Only the two languages shown were fetched, each once, and may be cached for good.
    expect(packs.map(([language, code]) => [language, code])).toEqual([
      ['ru', 200],
      ['fr', 200],
    ]);
    for (const [, , cacheControl] of packs) expect(cacheControl).toContain('immutable');
  });
});

/** A site user's `identify()` fields: a fresh id and the hash the site's server would compute
 * with the identity secret (the demo's is public). */
const siteUser = (prefix) => {
  const userId = unique(prefix).replace(/\s/g, '-');
  const userHash = createHmac('sha256', 'demo-identity-secret').update(userId).digest('hex');
  return { userId, userHash };
};

/** Sends `text` through the JS API, waits for the greeter's echo, and returns the contact of
 * the conversation it went to, as the owner sees it. */
async function contactWhoSent(page, natter, text) {
  await page.evaluate((t) => window.Natter.sendMessage(t), text);
  await ensureOpen(page);
  await expect(lines(page, { side: 'agent', text: echoOf(text) })).toHaveCount(1);
  const [message] = await natter.messagesWithText(text);
  const owner = await natter.login(OWNER);
  const conversation = await natter.api('GET', `/v1/conversations/${message.conversation_id}`, {
    token: owner,
  });
  return conversation.contact;
}

test('identify() right after load signs the visitor in as the site\'s user', async ({ page, site, natter }) => {
  const { userId, userHash } = siteUser('user');
  await page.goto(site.url('/shop.html'));
  await page.waitForFunction(() => !!window.Natter?.open);
  // Called at once, while the widget may still be opening its anonymous session.
  await page.evaluate(
    ([id, hash]) => window.Natter.identify({ userId: id, userHash: hash, name: 'Ana Identified' }),
    [userId, userHash],
  );
  const contact = await contactWhoSent(page, natter, unique('Written by an identified user'));
  expect(contact).toMatchObject({ external_id: userId, name: 'Ana Identified' });
});

test('shutdown() right after identify() forgets that user, even while signing them in', async ({ page, site, natter }) => {
  // A shared computer: the site signs a user in and, before the widget's sign-in has been
  // answered, out again. The next person must not get that user's conversation.
  const { userId, userHash } = siteUser('leaving');
  await page.goto(site.url('/shop.html'));
  await widgetReady(page);
  // Both in one turn of the page: `shutdown` runs while `identify`'s request is on its way.
  await page.evaluate(([id, hash]) => {
    window.Natter.identify({ userId: id, userHash: hash, name: 'Leaving User' });
    return window.Natter.shutdown();
  }, [userId, userHash]);

  const contact = await contactWhoSent(page, natter, unique('Written by the next person'));
  expect(contact.external_id ?? null).toBeNull();
  expect(contact.name ?? null).not.toBe('Leaving User');
});

test.describe('on a phone', () => {
  // Pixel 7's viewport, touch and user agent; not its `defaultBrowserType`, which would force
  // a new worker (and a second server).
  // eslint-disable-next-line no-unused-vars
  const { defaultBrowserType, ...pixel7 } = devices['Pixel 7'];
  test.use(pixel7);

  test('the panel fills the screen and the composer stays visible', async ({ page, site }) => {
    await page.goto(site.url('/shop.html'));
    await widgetReady(page);
    await launcher(page).tap();
    await expectOpen(page);
    await expect(composer(page)).toBeVisible();
    const viewport = page.viewportSize();
    // Measured at rest: the panel slides in for 0.2 s.
    const box = await restingBox(panel(page));
    expect(box.x).toBeCloseTo(0, 0);
    expect(box.y).toBeCloseTo(0, 0);
    expect(box.width).toBeCloseTo(viewport.width, 0);
    expect(box.height).toBeCloseTo(viewport.height, 0);
    const input = await composer(page).boundingBox();
    expect(input.y + input.height).toBeLessThanOrEqual(viewport.height);
    expect(input.x).toBeGreaterThanOrEqual(0);

    const text = unique('From a phone');
    await send(page, text);
    await expect(lines(page, { side: 'agent', text: echoOf(text) })).toHaveCount(1);
    await screenshot(page, 'widget-phone');
  });
});
