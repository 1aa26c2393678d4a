// The npm package as a developer gets it: `examples/custom-ui` is installed from the packed
// tarball (`npm/natter-widget-0.1.0.tgz`, which `cargo xtask` packs before this suite), built
// with esbuild, served from the third-party site, and used to chat.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '../support/fixtures.js';
import { REPO } from '../support/env.js';
import { echoOf } from '../support/natter.js';
import { expectOpen, launcher, lines, unique } from '../support/widget.js';

// `NATTER_NPM_TARBALL` overrides it (a package packed elsewhere).
const TARBALL = process.env.NATTER_NPM_TARBALL || join(REPO, 'npm/natter-widget-0.1.0.tgz');
const EXAMPLE = join(REPO, 'examples/custom-ui');

let work;

test.beforeAll(() => {
  test.setTimeout(240_000);
  if (!existsSync(TARBALL)) {
    throw new Error(`${TARBALL} is missing: run \`npm pack\` in npm/ after the widget build`);
  }
  // A copy of the example, so the checkout stays clean, depending on the tarball by its
  // absolute path.
  work = mkdtempSync(join(tmpdir(), 'natter-custom-ui-'));
  cpSync(EXAMPLE, work, {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|dist)([\\/]|$)/.test(src.slice(EXAMPLE.length)),
  });
  const manifest = JSON.parse(readFileSync(join(work, 'package.json'), 'utf8'));
  manifest.dependencies['natter-widget'] = `file:${TARBALL}`;
  writeFileSync(join(work, 'package.json'), JSON.stringify(manifest, null, 2));
  const npm = (...args) =>
    execFileSync('npm', args, { cwd: work, stdio: 'pipe', timeout: 180_000, encoding: 'utf8' });
  npm('install', '--no-audit', '--no-fund');
  npm('run', 'build');

  // A second, tiny app: the widget itself through the package's `boot`.
  writeFileSync(
    join(work, 'boot-app.js'),
    [
      "import { boot, on, open, sendMessage } from 'natter-widget';",
      "const apiBase = new URLSearchParams(location.search).get('api');",
      'window.received = [];',
      "on('message', (message) => window.received.push(message.text));",
      "window.booted = boot({ siteKey: 'demo-site-key', apiBase }).then(() => true);",
      'window.api = { open, sendMessage };',
    ].join('\n'),
  );
  execFileSync(
    join(work, 'node_modules/.bin/esbuild'),
    [
      'boot-app.js',
      '--bundle',
      '--format=esm',
      '--outfile=dist/boot/app.js',
    ],
    { cwd: work, stdio: 'pipe' },
  );
  // The widget's wasm module and text packs, where the bundle's `new URL('./pkg/…',
  // import.meta.url)` and `new URL('./texts/…', import.meta.url)` point (esbuild leaves those
  // URLs alone).
  for (const dir of ['pkg', 'texts']) {
    cpSync(join(work, 'node_modules/natter-widget', dir), join(work, 'dist/boot', dir), {
      recursive: true,
    });
  }
  writeFileSync(
    join(work, 'dist/boot/index.html'),
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>boot</title>' +
      '<h1>npm boot</h1><script type="module" src="app.js"></script>',
  );
});

test.afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the package installed from its tarball has what it promises', () => {
  const installed = join(work, 'node_modules/natter-widget');
  for (const file of [
    'index.js',
    'index.d.ts',
    'launcher.js',
    'README.md',
    'pkg/natter_widget.js',
    'pkg/natter_widget_bg.wasm',
    'pkg-client/natter_chat_client.js',
    'pkg-client/natter_chat_client_bg.wasm',
    'texts/en.txt',
    'texts/fr.txt',
    'texts/ru.txt',
    'texts/pt.txt',
  ]) {
    expect(existsSync(join(installed, file)), file).toBe(true);
  }
  // The tarball is this checkout's package, not a stale copy from npm's cache.
  expect(readFileSync(join(installed, 'index.js'), 'utf8')).toBe(
    readFileSync(join(REPO, 'npm/index.js'), 'utf8'),
  );
  expect(existsSync(join(work, 'dist/main.js'))).toBe(true);
  expect(existsSync(join(work, 'dist/pkg-client/natter_chat_client_bg.wasm'))).toBe(true);
});

test('a custom UI built on ChatClient sends a message and shows the answer', async ({ page, site, natter }) => {
  site.mount('/custom-ui/', join(work, 'dist'));
  await page.goto(site.url(`/custom-ui/?api=${encodeURIComponent(natter.base)}`));
  await expect(page.locator('#status')).toHaveAttribute('data-state', /^(idle|connecting|online)$/);

  const text = unique('Hello from a custom UI');
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
  const mine = page.locator('#messages li[data-author="visitor"]', { hasText: text });
  await expect(mine).toHaveAttribute('data-delivery', 'sent');
  await expect(page.locator('#messages li[data-author="staff"]', { hasText: echoOf(text) })).toHaveCount(1);
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'online');
  await expect(mine).toHaveCount(1);

  // The client's state survives a reload (stored conversation and resume).
  await page.reload();
  await expect(page.locator('#messages li[data-author="visitor"]', { hasText: text })).toHaveCount(1);
  await expect(page.locator('#messages li[data-author="staff"]', { hasText: echoOf(text) })).toHaveCount(1);
});

test('boot() from the package mounts the widget, and its exports drive it', async ({ page, site, natter }) => {
  site.mount('/boot-app/', join(work, 'dist/boot'));
  await page.goto(site.url(`/boot-app/?api=${encodeURIComponent(natter.base)}`));
  expect(await page.evaluate(() => window.booted)).toBe(true);
  await expect(launcher(page)).toBeVisible();
  await page.evaluate(() => window.api.open());
  await expectOpen(page);

  const text = unique('Through the npm exports');
  await page.evaluate((t) => window.api.sendMessage(t), text);
  await expect(lines(page, { side: 'agent', text: echoOf(text) })).toHaveCount(1);
  await expect.poll(() => page.evaluate(() => window.received)).toContain(echoOf(text));
});
