// The "third-party websites" the widget is embedded in: a static server on another origin than
// natter's, with node's http module. `http://127.0.0.1:<port>` is the site the tenant allows;
// the same pages on `http://localhost:<other port>` are a site it does not.
//
// Pages come from `pages/*.html`, with `{{NATTER}}` replaced by the natter server's base URL
// and `{{SITE_KEY}}` by the demo site key; `/shop.html` is the shop example
// (`examples/shop/index.html`) with its `http://127.0.0.1:8080` replaced the same way.
// `mount(prefix, dir)` serves a directory (the custom-UI example's build).

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from './env.js';
import { SITE_KEY } from './natter.js';

const PAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../pages');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/** The strict policy of `/csp.html`: nothing inline, scripts and connections only to natter. */
export function strictCsp(natterBase) {
  const ws = natterBase.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    `script-src ${natterBase} 'wasm-unsafe-eval'`,
    `connect-src ${natterBase} ${ws}`,
    `img-src ${natterBase} data:`,
  ].join('; ');
}

export class Site {
  constructor(natterBase) {
    this.natterBase = natterBase;
    this.mounts = new Map();
    this.servers = [];
  }

  static async start(natterBase) {
    const site = new Site(natterBase);
    // Port 0: the OS assigns the port while binding. (Asking for a free port first and binding
    // it afterwards raced with other sockets on the machine: EADDRINUSE.)
    const allowedPort = await site.listen(0);
    const refusedPort = await site.listen(0);
    /** The allowed origin, e.g. `http://127.0.0.1:41234`. */
    site.origin = `http://127.0.0.1:${allowedPort}`;
    /** An origin the tenant does not allow (same pages). */
    site.refusedOrigin = `http://localhost:${refusedPort}`;
    return site;
  }

  url(path) {
    return this.origin + path;
  }

  /** Serves the files of `dir` under `prefix` (e.g. `/custom-ui/`). */
  mount(prefix, dir) {
    this.mounts.set(prefix, dir);
  }

  /** Serves on `port` (0: any free one); resolves to the port. */
  listen(port) {
    const server = createServer((request, response) => this.handle(request, response));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server.address().port));
    });
  }

  handle(request, response) {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    const send = (status, body, headers = {}) => {
      response.writeHead(status, { 'cache-control': 'no-store', ...headers });
      response.end(body);
    };
    if (path === '/favicon.ico') return send(204);
    for (const [prefix, dir] of this.mounts) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length) || 'index.html';
      const file = normalize(join(dir, rest));
      if (!file.startsWith(dir)) return send(403, 'forbidden');
      try {
        return send(200, readFileSync(file), {
          'content-type': TYPES[extname(file)] || 'application/octet-stream',
        });
      } catch {
        return send(404, 'not found');
      }
    }
    const name = path.replace(/^\//, '') || 'shop.html';
    if (!/^[a-z-]+\.html$/.test(name)) return send(404, 'not found');
    let html;
    try {
      html =
        name === 'shop.html'
          ? readFileSync(join(REPO, 'examples/shop/index.html'), 'utf8').replaceAll(
              'http://127.0.0.1:8080',
              this.natterBase,
            )
          : readFileSync(join(PAGES, name), 'utf8');
    } catch {
      return send(404, 'not found');
    }
    html = html.replaceAll('{{NATTER}}', this.natterBase).replaceAll('{{SITE_KEY}}', SITE_KEY);
    const headers = { 'content-type': TYPES['.html'] };
    if (name === 'csp.html') headers['content-security-policy'] = strictCsp(this.natterBase);
    send(200, html, headers);
  }

  async close() {
    await Promise.all(
      this.servers.map((server) => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      }),
    );
  }
}
