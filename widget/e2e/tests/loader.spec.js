// The script-tag loader (`widget/loader/`) on its own, around a fake wasm glue with the real
// glue's exports: when it fetches the widget, how it queues and forwards the JS API, how it
// recovers from a failed load, and what it leaves in the host page. No natter server needed.

import { guarded as test, expect } from '../support/fixtures.js';
import { FakeNatter } from '../support/fake-natter.js';
import { Site } from '../support/site.js';
import { SEL, expectClosed, expectOpen, launcher, panel } from '../support/widget.js';

let fake;
let site;

test.beforeAll(async () => {
  fake = await FakeNatter.start();
  site = await Site.start(fake.base);
});

test.afterAll(async () => {
  await site?.close();
  await fake?.close();
});

test.beforeEach(() => fake.reset());

/** What the fake glue recorded (`[call, ...args]` entries). */
const fakeLog = (page) => page.evaluate(() => window.__natterFake || []);

test('draws the launcher at once and opens the panel on a click made while the widget loads', async ({ page }) => {
  fake.glueDelay = 1500;
  await page.goto(site.url('/plain.html'));
  await expect(launcher(page)).toBeVisible();
  await expect(launcher(page)).toHaveAttribute('aria-label', 'Open chat');
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');
  await launcher(page).click();
  await expect(launcher(page)).toHaveAttribute('aria-busy', 'true');
  await expectOpen(page);
  await expect(launcher(page)).toHaveAttribute('aria-busy', 'false');

  const mounts = (await fakeLog(page)).filter(([call]) => call === 'mount');
  expect(mounts).toEqual([
    [
      'mount',
      {
        siteKey: 'demo-site-key',
        apiBase: fake.base,
        // Where the text packs are: the prefix the widget adds `<language>.txt` to.
        texts: `${fake.base}/widget/${fake.manifest.texts.en.slice(0, -'en.txt'.length)}`,
        locale: undefined,
        open: true,
      },
    ],
  ]);
  // The glue and the wasm come from natter's host, once.
  expect(fake.glueRequests()).toHaveLength(1);
  expect(fake.requests).toContain(`/widget/${fake.manifest.wasm}`);
});

test('loads the widget when the browser is idle, without any interaction', async ({ page }) => {
  await page.goto(site.url('/plain.html'));
  await expect.poll(() => fakeLog(page).then((log) => log.map(([call]) => call))).toEqual(['init', 'mount']);
  await expectClosed(page);
});

test('replays a stub queue in order and forwards the API, with Promises of the results', async ({ page }) => {
  const warnings = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.goto(site.url('/stub.html'));
  // `open` in the stub loads the widget at once and opens it; `on('ready')` was registered.
  await expectOpen(page);
  await expect.poll(() => page.evaluate(() => window.readyEvents)).toBe(1);
  const calls = (await fakeLog(page)).map(([call]) => call);
  expect(calls).toEqual(['init', 'mount', 'setLocale', 'open']);
  // The unknown method in the stub is skipped, not fatal.
  expect(warnings).toEqual([]);

  const api = await page.evaluate(async () => {
    const keys = Object.keys(window.Natter).sort();
    const id = await window.Natter.sendMessage('hello');
    const refused = await window.Natter.sendMessage('  ').then(
      () => 'resolved',
      (e) => `rejected: ${e.message}`,
    );
    await window.Natter.close();
    return { keys, id, refused };
  });
  expect(api).toEqual({
    keys: ['close', 'identify', 'off', 'on', 'open', 'sendMessage', 'setLocale', 'shutdown', 'toggle'],
    id: 'client-5',
    refused: 'rejected: empty message',
  });
  await expectClosed(page);
});

test.describe('when the widget cannot be fetched', () => {
  // Chromium logs the 503 itself; the test checks that it is the only error.
  test.use({ allowConsoleErrors: true });

  test('keeps the launcher, warns once and retries on the next click', async ({ page, consoleErrors }) => {
    const warnings = [];
    page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
    fake.failGlue = 1;
    await page.goto(site.url('/plain.html'));
    await expect.poll(() => warnings.length).toBe(1);
    expect(warnings[0]).toContain('natter: chat unavailable');
    await expect(launcher(page)).toBeVisible();
    await expect(launcher(page)).not.toHaveAttribute('aria-busy', 'true');
    // Hovering again does not hammer the server; a click retries.
    await launcher(page).hover();
    await page.waitForTimeout(300);
    expect(fake.glueRequests()).toHaveLength(1);
    await launcher(page).click();
    await expectOpen(page);
    expect(fake.glueRequests()).toEqual([
      `/widget/${fake.manifest.glue}`,
      `/widget/${fake.manifest.glue}?retry=2`,
    ]);
    expect(warnings).toHaveLength(1);
    expect(consoleErrors).toHaveLength(1);
    expect(consoleErrors[0]).toMatch(/status of 503/);
  });
});

test('works under a strict Content-Security-Policy', async ({ page }) => {
  await page.goto(site.url('/csp.html'));
  // Styled (constructable stylesheets need no style-src), and the fake wasm compiles.
  expect((await launcher(page).boundingBox()).height).toBe(56);
  await launcher(page).click();
  await expectOpen(page);
});

test('keeps its size and place under hostile page CSS', async ({ page }) => {
  fake.glueDelay = 60_000; // the launcher alone, as the loader draws it
  await page.goto(site.url('/plain.html'));
  const plain = await launcher(page).boundingBox();
  const viewport = page.viewportSize();
  expect(plain.height).toBe(56);
  expect(plain.width).toBeGreaterThanOrEqual(56);
  expect(plain.x + plain.width).toBe(viewport.width - 20);
  expect(plain.y + plain.height).toBe(viewport.height - 20);

  await page.goto(site.url('/hostile.html'));
  await expect(launcher(page)).toBeVisible();
  expect(await launcher(page).boundingBox()).toEqual(plain);
});

test('uses the appearance cached by the widget, and ignores a malformed one', async ({ page }) => {
  await page.addInitScript(() => {
    // Once per tab: the reload below must see what the test writes in between.
    if (sessionStorage.getItem('seeded')) return;
    sessionStorage.setItem('seeded', '1');
    localStorage.setItem(
      'natter:demo-site-key:appearance',
      JSON.stringify({ color: '#0f766e', left: true, launcher_text: 'Chat with us' }),
    );
  });
  await page.goto(site.url('/plain.html'));
  const look = await launcher(page).evaluate((b) => {
    const s = getComputedStyle(b);
    return { left: b.getBoundingClientRect().left, background: s.backgroundColor, text: b.textContent };
  });
  expect(look).toEqual({ left: 20, background: 'rgb(15, 118, 110)', text: 'Chat with us' });

  await page.evaluate(() =>
    localStorage.setItem('natter:demo-site-key:appearance', '{"color":"red}:host{display:none"}'),
  );
  await page.reload();
  await expect(launcher(page)).toBeVisible();
  expect(await launcher(page).evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(79, 70, 229)');
});

test('adds one element and one global to the page, and nothing else', async ({ page }) => {
  await page.addInitScript(() => {
    window.__globalsBefore = Object.getOwnPropertyNames(window);
  });
  await page.goto(site.url('/twice.html'));
  await launcher(page).click();
  await expectOpen(page);
  const added = await page.evaluate(() => ({
    globals: Object.getOwnPropertyNames(window).filter(
      (name) => !window.__globalsBefore.includes(name) && name !== '__globalsBefore' && name !== '__natterFake',
    ),
    hosts: document.querySelectorAll('natter-widget').length,
    bodyTags: [...document.body.children].map((e) => e.localName),
    head: [...document.head.children].map((e) => e.localName),
    styled: document.querySelectorAll('[style]').length,
  }));
  expect(added).toEqual({
    globals: ['Natter'],
    hosts: 1,
    bodyTags: ['h1', 'script', 'natter-widget'],
    head: ['meta', 'title', 'link', 'script'],
    styled: 0,
  });
  expect((await fakeLog(page)).filter(([call]) => call === 'mount')).toHaveLength(1);
});

test('shutdown is forwarded to the widget, which stays mounted for a new visitor', async ({ page }) => {
  await page.goto(site.url('/plain.html'));
  await page.evaluate(async () => {
    window.opened = 0;
    await window.Natter.on('open', () => window.opened++);
    await window.Natter.open();
    await window.Natter.shutdown();
  });
  await expect(page.locator(SEL.host)).toHaveCount(1);
  await expectClosed(page);
  await launcher(page).click();
  await expectOpen(page);
  expect(await page.evaluate(() => window.opened)).toBe(2);
  const calls = (await fakeLog(page)).map(([call]) => call);
  expect(calls).toEqual(['init', 'mount', 'open', 'close', 'shutdown', 'open']);
});

test('the shop example: "Talk to us" opens the chat, even before widget.js has loaded', async ({ page }) => {
  fake.glueDelay = 1000;
  await page.goto(site.url('/shop.html'));
  await page.locator('#talk').click();
  await expectOpen(page);
  await expect(launcher(page)).toBeVisible();
});
