// Where the server binary and the browser are, from the environment (see README.md), with
// defaults for a run by hand from a built checkout. Chromium's flags are the widget suite's.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export { CHROMIUM_ARGS } from '../../../widget/e2e/support/env.js';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The `natter` server binary, built after the console and the widget (it embeds both). */
export const NATTER_BIN = process.env.NATTER_BIN || resolve(REPO, 'target/debug/natter');

/** Debian's Chromium: Playwright's own browser downloads are not used. */
export const CHROMIUM = process.env.NATTER_CHROMIUM || '/usr/bin/chromium';

/** Fails early with a useful message when something the suite needs is missing. */
export function checkEnvironment() {
  const missing = [
    ['NATTER_BIN', NATTER_BIN],
    ['NATTER_CHROMIUM', CHROMIUM],
  ].filter(([, path]) => !existsSync(path));
  if (missing.length) {
    throw new Error(
      `console e2e: missing ${missing.map(([name, path]) => `${name} (${path})`).join(', ')}; ` +
        'build with `cargo xtask build-widget`, `cargo xtask build-console` and ' +
        '`cargo build -p natter-server --bin natter`',
    );
  }
}
