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
 * `fetch` of `apiBase + path`, followed by `query` URI-encoded unless it is undefined: a GET, or
 * a POST of `body` as JSON unless `body` is undefined; calls `on(tag + status, body text)` with
 * the answer, or `on(tag)` once if the network (or reading the body) failed. `token` may be
 * undefined.
 */
export function request(apiBase, path, query, token, body, on, tag) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token != null) headers.authorization = 'Bearer ' + token;
  let status = 0;
  fetch(apiBase + path + (query == null ? '' : encodeURIComponent(query)), {
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
  request(
    typeof at == 'string' ? at + language + '.txt' : at[language],
    '',
    null,
    null,
    undefined,
    on,
    tag,
  );

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
 * `localStorage.getItem(prefix + name)`, parsed as JSON if `json` (`null` when there is none,
 * `undefined` when it is not JSON); `undefined` where storage is unavailable (it throws in some
 * privacy modes and sandboxed frames: the widget then works without memory).
 */
export function load(prefix, name, json) {
  try {
    const text = localStorage.getItem(prefix + name);
    return json ? JSON.parse(text) : text;
  } catch {}
}

/**
 * Stores `value` (as JSON text if `json`) under `prefix + name`, or removes that key when
 * `value` is null or undefined.
 */
export function store(prefix, name, value, json) {
  try {
    value == null
      ? localStorage.removeItem(prefix + name)
      : localStorage.setItem(prefix + name, json ? JSON.stringify(value) : value);
  } catch {}
}

/**
 * Calls `on(1)` when the browser goes online, `on(2)` when it goes offline, `on(3)` when the
 * page's visibility changes, and `on(5)` once in a microtask (once the running JavaScript is
 * done); returns whether it is offline now.
 */
export function watch(on) {
  addEventListener('online', () => on(1));
  addEventListener('offline', () => on(2));
  document.addEventListener('visibilitychange', () => on(3));
  queueMicrotask(() => on(5));
  return !navigator.onLine;
}

/**
 * What the page says, by number: whether it is hidden (another tab, minimized), its address
 * (`location.href`), the browser's preferred languages, best first (`navigator.languages`, then
 * `navigator.language`).
 */
export const read = (what) =>
  what
    ? what > 1
      ? [...navigator.languages, navigator.language]
      : location.href
    : document.hidden;

/**
 * `object[key]`; `undefined` where that throws (`object` null or undefined, or a getter that
 * throws).
 */
export function property(object, key) {
  try {
    return object[key];
  } catch {}
}

/** `JSON.parse(text)`; `undefined` where `text` is no JSON. */
export function parse(text) {
  try {
    return JSON.parse(text);
  } catch {}
}

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
 * Adds `[event, value]` to `list`: registers the listener `value` for `event` in `listeners`, or
 * queues the event with its payload `value` in `events` for the next `dispatch`. With `add`
 * false it removes every such pair from `list` (a listener for that event) instead.
 */
export const listen = (list, event, value, add) =>
  add
    ? list.push([event, value])
    : list.splice(0, list.length, ...list.filter(([e, v]) => e !== event || v !== value));

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
