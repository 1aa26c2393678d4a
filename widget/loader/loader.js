// The script-tag loader, served as `https://<natter-host>/widget.js`:
//
//   <script src="https://<natter-host>/widget.js" data-site="<site key>" async></script>
//
// It draws the launcher at once (`launcher.js`), defines `window.Natter`, and fetches the wasm
// widget only when the visitor shows interest in the launcher (pointer over it, touch, focus,
// click) or when the browser is idle, whichever comes first, so it never competes with the host
// page for the network or the main thread. `build.mjs` bundles it as a classic script (IIFE),
// minifies it and replaces `__NATTER_GLUE__` / `__NATTER_WASM__` with the content-hashed file
// names of the wasm-bindgen glue and the wasm module, and `__NATTER_TEXTS__` with the prefix of
// the text packs' (the widget adds `<language>.txt`); budget: 2 KB gzip.
//
// It touches nothing in the host page but one `<natter-widget>` element and one global,
// `window.Natter`, and talks to nobody but the natter host it was loaded from.

import { drawLauncher } from './launcher.js';

/* global __NATTER_GLUE__, __NATTER_WASM__, __NATTER_TEXTS__ */

((win, doc) => {
  const script =
    doc.currentScript || doc.querySelector('script[data-site][src*="widget.js"]');
  const stub = win.Natter;
  // Bail out when there is nothing to do or nothing we can do well: no site key, the loader
  // included twice (or another script owns `Natter`), or a browser without constructable
  // stylesheets (which the widget needs to be styled without inline styles).
  if (!script || !script.dataset.site || (stub && !stub.q) || !doc.adoptedStyleSheets) return;

  const siteKey = script.dataset.site;
  const locale = script.dataset.locale;
  // `https://host/` (or `https://host/prefix/` behind a reverse proxy): the API is there, the
  // hashed assets under `widget/`.
  const base = new URL('.', script.src).href;
  const asset = base + 'widget/';

  // `ui`: the launcher (`{ host, root, button }`), `stop` its listeners; `widget`: the wasm
  // widget's API, one function taking a method's number and its arguments (see below);
  // `mod`: the imported glue; `loading`: the load in progress, kept once it succeeded; `tries`:
  // load attempts so far; `queue`: API calls waiting for the widget; `handlers`: listeners
  // given before the mount.
  let ui, widget, mod, loading, clicked, warned, stop;
  let tries = 0;
  const queue = [];
  let handlers = [];
  const busy = (on) => ui.button.setAttribute('aria-busy', on);

  const bodyReady = new Promise((resolve) =>
    doc.body ? resolve() : doc.addEventListener('DOMContentLoaded', resolve, { once: true }),
  );

  const load = () =>
    (loading ||= (async () => {
      try {
        // A failed module fetch may be remembered by the browser's module map, so a retry asks
        // for a distinct URL.
        mod ||= await import(asset + __NATTER_GLUE__ + (tries++ ? '?retry=' + tries : ''));
        mod.initSync({
          module: await WebAssembly.compileStreaming(fetch(asset + __NATTER_WASM__)),
        });
        await bodyReady;
        // From now on the widget owns the button.
        stop();
        widget = mod.mount(ui.root, {
          siteKey,
          apiBase: base.slice(0, -1),
          texts: asset + __NATTER_TEXTS__,
          locale,
          open: !!clicked,
        });
        busy(false);
        for (const [event, fn] of handlers) widget(7, event, fn);
        for (const resume of queue.splice(0)) resume();
      } catch (e) {
        // Keep the launcher; the next click tries again. A missing chat is not the page's
        // error, so this is a warning, and only one.
        loading = 0;
        if (ui) busy(false);
        if (!warned) console.warn('natter: chat unavailable, retrying on click', e);
        warned = 1;
      }
    })());

  // The forwarding API: every method returns a Promise of the widget's answer (a rejection if
  // it throws). Calls that need the widget now load it at once; the others wait for the natural
  // trigger. Waiting calls run in order, right after the mount.
  // The methods are numbered in this order, as `mount` (widget/src/exports/bubble.rs) numbers
  // them; `on` and `off` are 7 and 8.
  const api = {};
  ['open', 'close', 'toggle', 'identify', 'setLocale', 'sendMessage', 'shutdown'].forEach(
    (name, method) =>
      (api[name] = async (...args) => {
        if (!widget) {
          // open, toggle, sendMessage and shutdown (bits 0, 2, 5 and 6 of 101).
          if ((101 >> method) & 1) load();
          await new Promise((resolve) => queue.push(resolve));
        }
        return widget(method, ...args);
      }),
  );
  // Listeners given before the mount are registered synchronously right after it, so that
  // none misses an event the widget emits at once (`ready`).
  api.on = async (event, fn) => {
    if (widget) widget(7, event, fn);
    else handlers.push([event, fn]);
  };
  api.off = async (event, fn) => {
    if (widget) widget(8, event, fn);
    else handlers = handlers.filter((h) => h[0] != event || h[1] != fn);
  };

  win.Natter = api;
  // A stub defined before the script loaded (`window.Natter = { q: [] }` with `[method, ...args]`
  // entries, or `arguments` objects) is replayed in order.
  // Nobody awaits these calls, so their failures are only reported.
  if (stub)
    for (const call of stub.q)
      api[call[0]]?.(...[].slice.call(call, 1)).catch((e) => console.warn('natter:', e));

  bodyReady.then(() => {
    ui = drawLauncher(siteKey);
    const ac = new AbortController();
    stop = () => ac.abort();
    const want = (e) => {
      if (e.type == 'click') {
        clicked = 1;
        busy(true);
        load();
      } else if (!tries) load(); // after a failed load, only a click retries
    };
    for (const type of ['pointerenter', 'touchstart', 'focus', 'click'])
      ui.button.addEventListener(type, want, { signal: ac.signal });

    const idle = () =>
      win.requestIdleCallback
        ? requestIdleCallback(() => tries || load(), { timeout: 4000 })
        : setTimeout(() => tries || load(), 2500);
    doc.readyState == 'complete' ? idle() : win.addEventListener('load', idle, { once: true });
  });
})(window, document);
