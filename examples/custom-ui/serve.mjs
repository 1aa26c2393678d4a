// Serves dist/ on http://127.0.0.1:5173 (an origin the demo tenant must allow: see README.md).

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const PORT = Number(process.env.PORT || 5173);
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

createServer(async (request, response) => {
  const path = new URL(request.url, 'http://x').pathname;
  const file = normalize(join('dist', path === '/' ? 'index.html' : path));
  if (!file.startsWith('dist')) return response.writeHead(403).end();
  try {
    const body = await readFile(file);
    response.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
    response.end(body);
  } catch {
    response.writeHead(404).end('not found');
  }
}).listen(PORT, '127.0.0.1', () => console.log(`custom UI on http://127.0.0.1:${PORT}/`));
