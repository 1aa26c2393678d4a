// A stand-in for natter's asset serving, for the loader's own tests: it builds the loader with
// `widget/loader/build.mjs` around the fake glue in `widget/loader/test/fake-pkg` (the same
// exports as wasm-pack's output, no Rust needed) and serves the result the way the real server
// does: `/widget.js` and `/widget/<hashed file>` with `Access-Control-Allow-Origin: *`. Tests can
// delay or fail the glue's requests to see the loader's waiting and retrying.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './env.js';

export class FakeNatter {
  static async start() {
    const fake = new FakeNatter();
    fake.tmp = mkdtempSync(join(tmpdir(), 'natter-loader-'));
    fake.dist = join(fake.tmp, 'dist');
    // A text pack for the build to name (the fake glue fetches none).
    mkdirSync(join(fake.tmp, 'npm/texts'), { recursive: true });
    writeFileSync(join(fake.tmp, 'npm/texts/en.txt'), 'Chat with us');
    execFileSync(
      process.execPath,
      [
        join(REPO, 'widget/loader/build.mjs'),
        '--pkg', join(REPO, 'widget/loader/test/fake-pkg'),
        '--out', fake.dist,
        '--npm', join(fake.tmp, 'npm'),
      ],
      { stdio: 'pipe' },
    );
    fake.manifest = JSON.parse(readFileSync(join(fake.dist, 'manifest.json'), 'utf8'));
    /** Requests seen, as paths with their query. */
    fake.requests = [];
    /** Answer the next N glue requests with 503. */
    fake.failGlue = 0;
    /** Hold each glue response this long (ms). */
    fake.glueDelay = 0;
    fake.server = createServer((request, response) => fake.handle(request, response));
    // Port 0: bound at once, no window for another socket to take it.
    await new Promise((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.base = `http://127.0.0.1:${fake.server.address().port}`;
    return fake;
  }

  reset() {
    this.requests.length = 0;
    this.failGlue = 0;
    this.glueDelay = 0;
  }

  /** How many times the glue was requested. */
  glueRequests() {
    return this.requests.filter((r) => r.startsWith(`/widget/${this.manifest.glue}`));
  }

  async handle(request, response) {
    const url = new URL(request.url, this.base);
    this.requests.push(url.pathname + url.search);
    const headers = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
    let file;
    if (url.pathname === '/widget.js') file = 'widget.js';
    else if (url.pathname.startsWith('/widget/')) file = url.pathname.slice('/widget/'.length);
    if (!file || ![this.manifest.loader, this.manifest.glue, this.manifest.wasm].includes(file)) {
      response.writeHead(404, headers);
      return response.end();
    }
    if (file === this.manifest.glue) {
      if (this.glueDelay) await new Promise((resolve) => setTimeout(resolve, this.glueDelay));
      if (this.failGlue > 0) {
        this.failGlue--;
        response.writeHead(503, headers);
        return response.end();
      }
    }
    const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8';
    response.writeHead(200, { ...headers, 'content-type': type });
    response.end(readFileSync(join(this.dist, file)));
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
