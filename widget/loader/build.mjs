// Builds the widget's browser assets from wasm-pack's output.
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
//   natter-texts.<hash8>-<language>.txt
//                               the widget's texts in each language (one text per line), from
//                               `<npm>/texts/<language>.txt`, which xtask writes from the widget's
//                               catalogue (`widget/src/i18n/catalog.rs`); one hash, of all of them
//   widget.js                   `loader.js` + `launcher.js` as one minified classic script (IIFE)
//                               with the hashed names substituted (the texts' as the prefix
//                               `natter-texts.<hash8>-`, to which the widget adds `<language>.txt`)
//   manifest.json               { loader, glue, wasm, texts: { <language>: name } }
// `<hash8>` is the first 8 hex digits of the SHA-256 of the file's content.
//
// It also copies `launcher.js` to `<npm>/launcher.js`: `npm/index.js` imports `./launcher.js`,
// so the npm package draws exactly the launcher the script tag draws. `widget/loader/launcher.js`
// is the only source; the copy is generated (ignored by git, like `npm/pkg/`). It removes
// the `.gitignore` wasm-pack writes into `<pkg>` and `<npm>/pkg-client` (the headless
// ChatClient's build; its `*` would keep the files out of `npm pack`).
//
// The size budget is checked by `cargo xtask build-widget` right after this script, on the gzip
// copies the server will serve (zopfli, `backend/src/http/assets/rules.rs`), not here.

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

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

// The texts: one pack per language, of which the widget fetches the one it shows (a visitor
// reads one language; the four inside the wasm cost first open more than the largest pack
// does). Hashed like the rest, so they are cached for good too: one hash for all, so that the
// loader gives the widget one prefix rather than a name per language.
const textsDir = join(resolve(args.npm), 'texts');
const packs = [];
try {
  for (const file of readdirSync(textsDir).sort()) {
    packs.push([file.replace(/\.txt$/, ''), readFileSync(join(textsDir, file))]);
  }
} catch (e) {
  fail(`${e.message}\nthe text packs are written by \`cargo xtask build-widget\``);
}
if (packs.length === 0) fail(`no text packs in ${textsDir}`);
const textsHash = createHash('sha256');
for (const [language, bytes] of packs) textsHash.update(`${language}\n${bytes.length}\n`).update(bytes);
const textsPrefix = `natter-texts.${textsHash.digest('hex').slice(0, 8)}-`;
const texts = Object.fromEntries(packs.map(([language]) => [language, `${textsPrefix}${language}.txt`]));

// The glue: bundled so that snippet modules (`#[wasm_bindgen(module = ...)]`, `inline_js`)
// become part of the one file, and minified. It stays an ES module: the loader imports it. Its
// entry re-exports only what the loader uses (`initSync`, which instantiates a compiled module,
// and `mount`), so that the rest is left out: the default export's fetching and
// `instantiateStreaming` fallbacks, ~0.4 KB gzip. The loader compiles the module itself with
// `WebAssembly.compileStreaming` (the server sends it as `application/wasm`).
const glue = (
  await esbuild.build({
    stdin: {
      contents: "export { initSync, mount } from './natter_widget.js';",
      resolveDir: pkg,
      sourcefile: 'glue-entry.js',
    },
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
      __NATTER_TEXTS__: JSON.stringify(textsPrefix),
    },
  })
).outputFiles[0].contents;

mkdirSync(out, { recursive: true });
for (const old of readdirSync(out)) rmSync(join(out, old), { recursive: true, force: true });
writeFileSync(join(out, glueName), glue);
writeFileSync(join(out, wasmName), wasm);
writeFileSync(join(out, 'widget.js'), loader);
for (const [language, bytes] of packs) writeFileSync(join(out, texts[language]), bytes);

const manifest = { loader: 'widget.js', glue: glueName, wasm: wasmName, texts };
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

mkdirSync(resolve(args.npm), { recursive: true });
copyFileSync(join(here, 'launcher.js'), join(resolve(args.npm), 'launcher.js'));
rmSync(join(pkg, '.gitignore'), { force: true });
rmSync(join(resolve(args.npm), 'pkg-client', '.gitignore'), { force: true });

console.log(`widget assets written to ${out}`);
