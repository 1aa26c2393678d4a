// The real natter server and the bot agent as child processes, and the few REST calls the tests
// make as the demo owner.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATTER_AGENT_BIN, NATTER_BIN } from './env.js';

export const SITE_KEY = 'demo-site-key';
export const OWNER = { email: 'owner@demo.natter.chat', password: 'demo-owner-pass' };
export const AGENT = { email: 'ada@demo.natter.chat', password: 'demo-agent-pass', name: 'Ada' };
/** What `auto_greeter` says to every conversation routed to it, and how it echoes. */
export const GREETING = "Hello! I'm a bot; a human will join shortly.";
export const echoOf = (text) => `You said: ${text}`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (the OS picks it; free at the time of asking). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once `child` exits (at once if it already has). */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

/**
 * `natter serve --demo` on a fixed port and data directory, so it can be killed and started
 * again as "the same server" (same port, same data). Its output goes to `logPath`.
 */
export class NatterServer {
  constructor({ port, logPath }) {
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.dataDir = mkdtempSync(join(tmpdir(), 'natter-e2e-'));
    this.log = createWriteStream(logPath, { flags: 'a' });
    this.child = null;
  }

  static async start(logPath) {
    const server = new NatterServer({ port: await freePort(), logPath });
    await server.start();
    return server;
  }

  /** Starts the process and waits until `GET /readyz` answers 200. */
  async start() {
    // Binding the port a killed instance just released can fail for a moment: retry a few times.
    for (let attempt = 1; ; attempt++) {
      this.log.write(`\n--- natter serve (attempt ${attempt}) ${new Date().toISOString()}\n`);
      const child = spawn(
        NATTER_BIN,
        ['serve', '--demo', '--bind', `127.0.0.1:${this.port}`, '--database-url', this.dataDir],
        {
          env: {
            ...process.env,
            NATTER_RATE_LIMITS: 'false',
            NATTER_PRESENCE_GRACE_SECS: '2',
            NATTER_LOG: 'warn',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout.pipe(this.log, { end: false });
      child.stderr.pipe(this.log, { end: false });
      this.child = child;
      try {
        await this.waitReady(child);
        return;
      } catch (e) {
        await this.stop('SIGKILL');
        if (attempt >= 5) throw e;
        await sleep(500);
      }
    }
  }

  async waitReady(child, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`natter exited with ${child.exitCode}`);
      try {
        const response = await fetch(`${this.base}/readyz`);
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    throw new Error(`natter was not ready on ${this.base} within ${timeoutMs} ms`);
  }

  /** Stops the process: `SIGKILL` (a crash, the default) or `SIGTERM` (a graceful shutdown). */
  async stop(signal = 'SIGKILL') {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited(child);
    clearTimeout(timer);
  }

  async restart(signal = 'SIGKILL') {
    await this.stop(signal);
    await this.start();
  }

  async dispose() {
    await this.stop('SIGKILL');
    this.log.end();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A REST call; returns the parsed JSON body, throwing on a non-2xx status. */
  async api(method, path, { token, body } = {}) {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async login({ email, password }) {
    const { access_token } = await this.api('POST', '/v1/auth/login', { body: { email, password } });
    return access_token;
  }

  /**
   * Prepares the demo tenant for the suite, as its owner: allows `origins` (keeping the demo's
   * own) and raises the bot's capacity so that every test's visitor is routed to it at once
   * (the demo default is 3 conversations per agent).
   */
  async prepareTenant(origins) {
    const owner = await this.login(OWNER);
    const tenant = await this.api('GET', '/v1/tenant', { token: owner });
    const allowed = [...new Set([...tenant.allowed_origins, ...origins])];
    await this.api('PATCH', '/v1/tenant', { token: owner, body: { allowed_origins: allowed } });
    const { items } = await this.api('GET', '/v1/routing/agents', { token: owner });
    const bot = items.find((agent) => agent.name === AGENT.name);
    if (!bot) throw new Error(`no agent named ${AGENT.name} in the demo tenant`);
    await this.api('PATCH', `/v1/routing/agents/${bot.id}`, { token: owner, body: { capacity: 100 } });
  }

  /** Every message of the tenant's recent conversations whose text is `text`, as the owner sees them. */
  async messagesWithText(text) {
    const owner = await this.login(OWNER);
    const found = [];
    const { items } = await this.api('GET', '/v1/conversations?limit=200', { token: owner });
    for (const conversation of items) {
      const page = await this.api(
        'GET',
        `/v1/conversations/${conversation.id}/messages?limit=200`,
        { token: owner },
      );
      found.push(...page.items.filter((m) => m.text === text));
    }
    return found;
  }
}

/**
 * `auto_greeter <base> <email> <password>`: signs in as Ada (which makes her an online agent),
 * greets every conversation routed to her and echoes each visitor message.
 */
export class Agent {
  constructor(server, logPath) {
    this.server = server;
    this.log = createWriteStream(logPath, { flags: 'a' });
    this.child = null;
  }

  static async start(server, logPath) {
    const agent = new Agent(server, logPath);
    await agent.start();
    return agent;
  }

  get running() {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the bot and waits for its "signed in as" line. */
  async start(timeoutMs = 30_000) {
    this.log.write(`\n--- auto_greeter ${new Date().toISOString()}\n`);
    const child = spawn(
      NATTER_AGENT_BIN,
      [this.server.base, AGENT.email, AGENT.password],
      { env: { ...process.env, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stderr.pipe(this.log, { end: false });
    await new Promise((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(
        () => reject(new Error(`auto_greeter did not sign in within ${timeoutMs} ms: ${seen}`)),
        timeoutMs,
      );
      child.stdout.on('data', (chunk) => {
        this.log.write(chunk);
        seen += chunk;
        if (seen.includes('signed in as')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`auto_greeter exited with ${code} before signing in: ${seen}`));
      });
    });
  }

  /** Starts the bot again if it exited (it may give up while the server is down). */
  async ensureRunning() {
    if (!this.running) await this.start();
  }

  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited(child);
    clearTimeout(timer);
    this.log.end();
  }
}
