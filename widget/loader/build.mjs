// Builds the widget's browser assets from wasm-pack's output and checks the size budget.
//
//   node widget/loader/build.mjs [--pkg DIR] [--out DIR] [--npm DIR]
//
// Run after `wasm-pack build widget --target web --out-dir ../npm/pkg --out-name natter_widget`
// (and wasm-opt), with this directory's dependencies installed (`npm ci` in `widget/loader/`).
// Defaults: `--pkg npm/pkg`, `--out widget/dist`, `--npm npm` (paths from the repository root).
//
// Writes to the output directory (emptied first):
//   natter-widget.<hash8>.js    the wasm-bindgen glue, bundled (inlining any snippets) and
//                               minified, still an ES module
//   natter-widget.<hash8>.wasm  the wasm module, as wasm-pack and wasm-opt left it
//   widget.js                   `loader.js` + `launcher.js` as one minified classic script (IIFE)
//                               with the two hashed names substituted
//   manifest.json               { loader, glue, wasm, sizes: { <file>: { raw, gzip } } }
// `<hash8>` is the first 8 hex digits of the SHA-256 of the file's content.
//
// It also copies `launcher.js` to `<npm>/launcher.js`: `npm/index.js` imports `./launcher.js`,
// so the npm package draws exactly the launcher the script tag draws. `widget/loader/launcher.js`
// is the only source; the copy is generated (ignored by git, like `npm/pkg/`). It removes
// the `.gitignore` wasm-pack writes into `<pkg>` and `<npm>/pkg-client` (the headless
// ChatClient's build; its `*` would keep the files out of `npm pack`).
//
// Budgets (gzip, zlib level 9; everything fetched at first open is loader + glue + wasm, the
// widget has no separate CSS):
// - the loader: at most 2,048 bytes, enforced (exit status 1);
// - first open: the target is 40,960 bytes (issue 4). It is NOT met yet: the widget is about
//   67 KB. Until it is, the build prints a warning when over the target and enforces an
//   interim ceiling of about 1 KB above the last measured size, so that the widget cannot quietly
//   grow further while it is being slimmed down. Lower FIRST_OPEN_CEILING as it shrinks; remove
//   it (and fail on FIRST_OPEN_BUDGET instead) once the target holds.
// The files are written either way, to be looked at.

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const LOADER_BUDGET = 2048;
const FIRST_OPEN_BUDGET = 40960;
const FIRST_OPEN_CEILING = 63800;
// Browsers with constructable stylesheets and `adoptedStyleSheets` (which the widget needs).
const TARGET = ['chrome91', 'edge91', 'firefox101', 'safari16.4'];

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const { values: args } = parseArgs({
  options: {
    pkg: { type: 'string', default: join(repo, 'npm/pkg') },
    out: { type: 'string', default: join(repo, 'widget/dist') },
    npm: { type: 'string', default: join(repo, 'npm') },
  },
});
const pkg = resolve(args.pkg);
const out = resolve(args.out);

const fail = (message) => {
  console.error(`widget build: ${message}`);
  process.exit(1);
};
const hash8 = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 8);

const gluePath = join(pkg, 'natter_widget.js');
const wasmPath = join(pkg, 'natter_widget_bg.wasm');
let wasm;
try {
  wasm = readFileSync(wasmPath);
  readFileSync(gluePath);
} catch (e) {
  fail(`${e.message}\nrun wasm-pack first (see the top of ${fileURLToPath(import.meta.url)})`);
}

// The glue: bundled so that snippet modules (`#[wasm_bindgen(module = ...)]`, `inline_js`)
// become part of the one file, and minified. It stays an ES module: the loader imports it.
const glue = (
  await esbuild.build({
    entryPoints: [gluePath],
    bundle: true,
    format: 'esm',
    minify: true,
    target: TARGET,
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  })
).outputFiles[0].contents;
const glueName = `natter-widget.${hash8(glue)}.js`;
const wasmName = `natter-widget.${hash8(wasm)}.wasm`;

const loader = (
  await esbuild.build({
    entryPoints: [join(here, 'loader.js')],
    bundle: true,
    format: 'iife',
    minify: true,
    target: TARGET,
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
    define: {
      __NATTER_GLUE__: JSON.stringify(glueName),
      __NATTER_WASM__: JSON.stringify(wasmName),
    },
  })
).outputFiles[0].contents;

mkdirSync(out, { recursive: true });
for (const old of readdirSync(out)) rmSync(join(out, old), { recursive: true, force: true });
writeFileSync(join(out, glueName), glue);
writeFileSync(join(out, wasmName), wasm);
writeFileSync(join(out, 'widget.js'), loader);

const size = (bytes) => ({ raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
const sizes = {
  'widget.js': size(loader),
  [glueName]: size(glue),
  [wasmName]: size(wasm),
};
const manifest = { loader: 'widget.js', glue: glueName, wasm: wasmName, sizes };
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

mkdirSync(resolve(args.npm), { recursive: true });
copyFileSync(join(here, 'launcher.js'), join(resolve(args.npm), 'launcher.js'));
rmSync(join(pkg, '.gitignore'), { force: true });
rmSync(join(resolve(args.npm), 'pkg-client', '.gitignore'), { force: true });

const total = Object.values(sizes).reduce((sum, s) => sum + s.gzip, 0);
const rows = [...Object.entries(sizes), ['total at first open', { raw: NaN, gzip: total }]];
console.log(`widget assets in ${out}:`);
for (const [name, s] of rows) {
  const raw = Number.isNaN(s.raw) ? '' : `${s.raw} B`;
  console.log(`  ${name.padEnd(32)} ${raw.padStart(10)} ${`${s.gzip} B gzip`.padStart(14)}`);
}
console.log(
  `  budget: loader ${sizes['widget.js'].gzip}/${LOADER_BUDGET} B gzip, first open ${total}/${FIRST_OPEN_BUDGET} B gzip`,
);

const over = [];
if (sizes['widget.js'].gzip > LOADER_BUDGET)
  over.push(`the loader (widget.js) is ${sizes['widget.js'].gzip} B gzip, over its ${LOADER_BUDGET} B budget`);
if (total > FIRST_OPEN_BUDGET)
  console.warn(
    `WARNING: first open is ${total} B gzip, over the ${FIRST_OPEN_BUDGET} B target (not met yet; ` +
      `the interim ceiling is ${FIRST_OPEN_CEILING} B)`,
  );
if (total > FIRST_OPEN_CEILING)
  over.push(`loader + glue + wasm are ${total} B gzip, over the interim ${FIRST_OPEN_CEILING} B ceiling`);
if (over.length) fail(`size budget exceeded:\n  ${over.join('\n  ')}`);
