// Where the binaries and the browser are, from the environment `cargo xtask test` sets (see
// README.md), with defaults for a run by hand from a built checkout.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The `natter` server binary, built with the widget's assets embedded. */
export const NATTER_BIN = process.env.NATTER_BIN || resolve(REPO, 'target/debug/natter');

/** The `auto_greeter` example of the Rust SDK: a bot agent that greets and echoes. */
export const NATTER_AGENT_BIN =
  process.env.NATTER_AGENT_BIN || resolve(REPO, 'target/debug/examples/auto_greeter');

/** Debian's Chromium: Playwright's own browser downloads are not used. */
export const CHROMIUM = process.env.NATTER_CHROMIUM || '/usr/bin/chromium';

/**
 * Chromium's flags. Without the background-networking ones Chromium's own connections (and then
 * the page's) get refused in sandboxes without outside network; `--no-sandbox` because CI runs
 * as root.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails early with a useful message when something the suite needs is missing. */
export function checkEnvironment() {
  const missing = [
    ['NATTER_BIN', NATTER_BIN],
    ['NATTER_AGENT_BIN', NATTER_AGENT_BIN],
    ['NATTER_CHROMIUM', CHROMIUM],
  ].filter(([, path]) => !existsSync(path));
  if (missing.length) {
    throw new Error(
      `widget e2e: missing ${missing.map(([name, path]) => `${name} (${path})`).join(', ')}; ` +
        'build them with `cargo xtask build-widget` and `cargo build -p natter-sdk --example auto_greeter`',
    );
  }
}
