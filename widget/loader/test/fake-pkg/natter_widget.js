// A stand-in for wasm-pack's output (`npm/pkg/natter_widget.js`), with the same exports and
// signatures as the real glue, for testing the loader and the build script without the Rust
// build: `node build.mjs --pkg test/fake-pkg --out <dir> --npm <dir>`. It instantiates the tiny
// module next to it (so CSP's 'wasm-unsafe-eval' is exercised), draws a bare panel, and records
// every call in `window.__natterFake` for the loader's tests.

let instance;

export default async function init(opts) {
  if (instance) return instance;
  const url = opts && opts.module_or_path;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fake glue: ${response.status} for ${url}`);
  ({ instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {}));
  log('init', String(url));
  return instance;
}

// What the script-tag loader calls, with the module it compiled from the served wasm.
export function initSync(opts) {
  if (instance) return instance;
  instance = new WebAssembly.Instance(opts.module, {});
  log('init');
  return instance;
}

function log(...entry) {
  (globalThis.__natterFake ||= []).push(entry);
}

class Widget {
  constructor(root, options) {
    this.root = root;
    this.handlers = new Map();
    this.panel = document.createElement('div');
    this.panel.className = 'natter-panel';
    this.panel.textContent = 'A fake chat panel';
    this.panel.hidden = true;
    this.launcher = root.querySelector('.natter-launcher');
    this.onClick = () => this.toggle();
    this.launcher.addEventListener('click', this.onClick);
    root.append(this.panel);
    log('mount', options);
    queueMicrotask(() => {
      this.emit('ready');
      if (options.open) this.open();
    });
  }
  emit(event, payload) {
    for (const fn of this.handlers.get(event) || []) fn(payload);
  }
  // Like the real widget: `data-open` present (and not `hidden`) while open.
  open() { log('open'); this.panel.hidden = false; this.panel.setAttribute('data-open', ''); this.emit('open'); }
  close() { log('close'); this.panel.hidden = true; this.panel.removeAttribute('data-open'); this.emit('close'); }
  toggle() { this.panel.hasAttribute('data-open') ? this.close() : this.open(); }
  async identify(identity) { log('identify', identity); }
  setLocale(locale) { log('setLocale', locale); }
  sendMessage(text) {
    if (!text.trim()) throw new Error('empty message');
    log('sendMessage', text);
    return 'client-' + text.length;
  }
  on(event, fn) { if (!this.handlers.has(event)) this.handlers.set(event, []); this.handlers.get(event).push(fn); }
  off(event, fn) { const list = this.handlers.get(event) || []; const i = list.indexOf(fn); if (i >= 0) list.splice(i, 1); }
  // Like the real widget: forgets the visitor, closes the panel and stays mounted.
  shutdown() {
    this.close();
    log('shutdown');
  }
}

// Like the real glue, `mount` returns the widget's API as one function: `(method, a, b)` with
// the method's number, in this order.
const METHODS = ['open', 'close', 'toggle', 'identify', 'setLocale', 'sendMessage', 'shutdown', 'on', 'off'];

export function mount(root, options) {
  if (!instance) throw new Error('fake glue: mount before init');
  const widget = new Widget(root, options);
  return (method, a, b) => widget[METHODS[method]](a, b);
}

export class ChatClient {
  constructor(options) {
    if (!instance) throw new Error('fake glue: ChatClient before init');
    this.options = options;
    log('ChatClient', options);
  }
  connect() {}
  async identify() {}
  sendMessage() { return 'client-1'; }
  setTyping() {}
  retryNow() {}
  messages() { return []; }
  status() { return 'idle'; }
  on() {}
  off() {}
  shutdown() {}
}
