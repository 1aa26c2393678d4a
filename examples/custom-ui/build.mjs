// Bundles the app into dist/: main.js (with natter-widget inside), index.html, style.css, and
// the wasm module of natter-widget's ChatClient.
//
// natter-widget finds that wasm with
// `new URL('./pkg-client/natter_chat_client_bg.wasm', import.meta.url)`. Vite, webpack 5 and
// Rollup follow that pattern by themselves; esbuild leaves it as it is, so this script puts the
// file where the URL points from the bundle: dist/pkg-client/. (The widget's own module, in
// pkg/, is not needed: this app does not call `boot`.)

import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';

const dist = 'dist';
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'pkg-client'), { recursive: true });

await esbuild.build({
  entryPoints: ['main.js'],
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: true,
  target: ['chrome91', 'firefox101', 'safari16.4'],
  outfile: join(dist, 'main.js'),
  logLevel: 'info',
});

const widget = dirname(createRequire(import.meta.url).resolve('natter-widget/package.json'));
copyFileSync(
  join(widget, 'pkg-client/natter_chat_client_bg.wasm'),
  join(dist, 'pkg-client/natter_chat_client_bg.wasm'),
);
copyFileSync('index.html', join(dist, 'index.html'));
copyFileSync('style.css', join(dist, 'style.css'));
console.log(`built ${dist}/`);
