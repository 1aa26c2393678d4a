// The browser plumbing of the session driver (widget/src/session.rs): fetch, the WebSocket,
// localStorage, the window's events, the event listeners of the JavaScript API and its payload
// objects (and, for the interface in widget/src/ui/dom.rs, `visualViewport` and the adopted
// stylesheet), as a few plain functions that move values between the browser and Rust and
// decide nothing. Every function here catches what the browser may throw (an exception must
// never cross into wasm: it would leave the session's state borrowed).
//
// Why JavaScript: each web-sys binding is an import of its own (Request, RequestInit, Headers,
// fetch, three promise callbacks, the socket's four handlers, window → localStorage → getItem,
// ...), costing ~50–60 B gzip each in the wasm and its glue; these functions replace about 35
// of them (measured: first open −2.7 KB gzip with this file in the glue). The glue is bundled
// by widget/loader/build.mjs, so this file ships inside it; the npm package ships it as
// `pkg*/snippets/`.
//
// Callbacks (`on`, `done`) are one Rust closure type taking `(number, string | undefined)`.

/**
 * `fetch` of `apiBase + path`: calls `done(status, body text)` with the answer, or `done(0)`
 * once if the network (or reading the body) failed. `token` and `body` (JSON) may be undefined.
 */
export function request(method, apiBase, path, token, body, done) {
  const headers = {};
  if (body != null) headers['content-type'] = 'application/json';
  if (token != null) headers.authorization = 'Bearer ' + token;
  let status = 0;
  fetch(apiBase + path, { method, headers, body })
    .then((response) => ((status = response.status), response.text()))
    .then(
      (text) => done(status, text),
      () => done(0),
    );
}

/**
 * Opens a WebSocket to `${apiBase}/v1/ws`, with `https://` as `wss://` and `http://` as `ws://`
 * (`null` if the URL is refused). Its events call `on(0)` when it opens, `on(1, text)` for each
 * text message (others are skipped), `on(code, reason)` when it closes (close codes are at
 * least 1000).
 */
export function connect(apiBase, on) {
  try {
    const socket = new WebSocket(apiBase.replace(/^http(s?):\/\//, 'ws$1://') + '/v1/ws');
    socket.onopen = () => on(0);
    socket.onmessage = (event) => typeof event.data == 'string' && on(1, event.data);
    socket.onclose = (event) => on(event.code, event.reason);
    return socket;
  } catch {
    return null;
  }
}

/** Sends a text frame; dropped if the socket is not open. */
export function transmit(socket, text) {
  try {
    socket.send(text);
  } catch {}
}

/** Detaches `socket` from its callback and closes it (with `code` and `reason` if given). */
export function hangUp(socket, code, reason) {
  socket.onopen = socket.onmessage = socket.onclose = null;
  try {
    socket.close(code, reason);
  } catch {}
}

/**
 * `localStorage.getItem(prefix + name)`; nothing where storage is unavailable (it throws in
 * some privacy modes and sandboxed frames: the widget then works without memory).
 */
export function load(prefix, name) {
  try {
    return localStorage.getItem(prefix + name);
  } catch {}
}

/** Stores `value` under `prefix + name`, or removes that key when `value` is undefined. */
export function store(prefix, name, value) {
  try {
    value == null
      ? localStorage.removeItem(prefix + name)
      : localStorage.setItem(prefix + name, value);
  } catch {}
}

/**
 * Calls `on(1)` when the browser goes online, `on(2)` when it goes offline, `on(3)` when the
 * page's visibility changes; returns whether it is offline now.
 */
export function watch(on) {
  addEventListener('online', () => on(1));
  addEventListener('offline', () => on(2));
  document.addEventListener('visibilitychange', () => on(3));
  return !navigator.onLine;
}

/** Whether the page is hidden (another tab, minimized). */
export const hidden = () => document.hidden;

/**
 * The browser's preferred languages, best first: `navigator.languages`, then
 * `navigator.language`.
 */
export const languages = () => [...navigator.languages, navigator.language];

/** `visualViewport`, or `undefined` in a browser without it. */
export const viewport = () => globalThis.visualViewport;

/**
 * Appends a constructed stylesheet holding `css` to `root.adoptedStyleSheets` (as a new array:
 * older browsers expose a frozen one) and returns it; nothing where constructable stylesheets
 * are missing.
 */
export function adopt(root, css) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return sheet;
  } catch {}
}

/** The page's address (`location.href`). */
export const page = () => location.href;

/** A `ChatMessage` of the JavaScript API (npm/index.d.ts); absent values become `null`. */
export const chatMessage = (
  key,
  id,
  seq,
  conversationId,
  text,
  kind,
  name,
  createdAt,
  delivery,
) => ({
  key,
  id: id ?? null,
  seq: seq ?? null,
  conversationId: conversationId ?? null,
  text,
  author: { kind, name: name ?? null },
  createdAt,
  delivery,
});

/** A plain object: the comma-separated `keys`, in order, with the values that follow. */
export const record = (keys, ...values) =>
  Object.fromEntries(keys.split(',').map((key, i) => [key, values[i]]));

/** Registers `listener` for `event` in `listeners` (an array of `[event, listener]` pairs). */
export const listen = (listeners, event, listener) => listeners.push([event, listener]);

/** Removes every registration of `listener` for `event` from `listeners`. */
export const unlisten = (listeners, event, listener) =>
  listeners.splice(
    0,
    listeners.length,
    ...listeners.filter(([e, l]) => e !== event || l !== listener),
  );

/** Calls the listeners of `event` with `payload`, in order; what they throw is ignored. */
export function dispatch(listeners, event, payload) {
  for (const [e, listener] of listeners) {
    if (e === event) {
      try {
        listener(payload);
      } catch {}
    }
  }
}
