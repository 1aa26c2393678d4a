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
// Callbacks (`on`) are the session's one Rust closure, taking `(number, string | undefined)`;
// the numbers it is called with are listed in session.rs (`CORE_TIMER` and what follows it).

/**
 * `fetch` of `apiBase + path`: a GET, or a POST of `body` as JSON unless `body` is undefined;
 * calls `on(tag + status, body text)` with the answer, or `on(tag)` once if the network (or
 * reading the body) failed. `token` may be undefined.
 */
export function request(apiBase, path, token, body, on, tag) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token != null) headers.authorization = 'Bearer ' + token;
  let status = 0;
  fetch(apiBase + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body && JSON.stringify(body),
  })
    .then((response) => ((status = response.status), response.text()))
    .then(
      (text) => on(tag + status, text),
      () => on(tag),
    );
}

/**
 * `request` of the text pack of `language` (`en`, ...), where `at` says: a URL per language, or
 * a prefix to which `<language>.txt` is added (see `mount`'s `texts` option).
 */
export const texts = (at, language, on, tag) =>
  request(typeof at == 'string' ? at + language + '.txt' : at[language], '', null, undefined, on, tag);

/**
 * Opens a WebSocket to `${apiBase}/v1/ws`, with `https://` as `wss://` and `http://` as `ws://`
 * (`null` if the URL is refused). Its events call `on(6)` when it opens, `on(7, text)` for each
 * text message (others are skipped), `on(code, reason)` when it closes (close codes are at
 * least 1000).
 */
export function connect(apiBase, on) {
  try {
    const socket = new WebSocket(apiBase.replace(/^http(s?):\/\//, 'ws$1://') + '/v1/ws');
    socket.onopen = () => on(6);
    socket.onmessage = (event) => typeof event.data == 'string' && on(7, event.data);
    socket.onclose = (event) => on(event.code, event.reason);
    return socket;
  } catch {
    return null;
  }
}

/**
 * Sends `frame` as a JSON text frame and answers true; false if the socket refused it (not open
 * yet). A closing or closed socket drops it silently.
 */
export function transmit(socket, frame) {
  try {
    socket.send(JSON.stringify(frame));
    return true;
  } catch {
    return false;
  }
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

/** Stores `value` as JSON text under `prefix + name`. */
export const keep = (prefix, name, value) => store(prefix, name, JSON.stringify(value));

/**
 * The JSON value stored under `prefix + name`: `null` or `undefined` when there is none or it
 * is not JSON.
 */
export function recall(prefix, name) {
  try {
    return JSON.parse(load(prefix, name));
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

/** Calls `on(what)` in a microtask. */
export const soon = (on, what) => queueMicrotask(() => on(what));

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

/**
 * Registers `listener` for `event` in `listeners` (an array of `[event, listener]` pairs), or
 * with `add` false removes every registration of `listener` for `event`.
 */
export const listen = (listeners, event, listener, add) =>
  add
    ? listeners.push([event, listener])
    : listeners.splice(
        0,
        listeners.length,
        ...listeners.filter(([e, l]) => e !== event || l !== listener),
      );

/** Queues `[event, payload]` in `events` for the next `dispatch`. */
export const queue = (events, event, payload) => events.push([event, payload]);

/**
 * Empties `events` and calls the listeners of each, in order, with its payload; what they
 * throw is ignored. The listeners called are those registered when it starts, whatever they
 * register or remove meanwhile; what they cause is queued and dispatched by another call.
 */
export function dispatch(listeners, events) {
  const registered = [...listeners];
  for (const [event, payload] of events.splice(0)) {
    for (const [e, listener] of registered) {
      if (e === event) {
        try {
          listener(payload);
        } catch {}
      }
    }
  }
}
