// The launcher: natter's host element, its shadow root and the chat button, drawn before the
// wasm widget exists.
//
// Shared by the script-tag loader (`loader.js`, bundled into `widget.js`) and the npm package
// (`npm/index.js`; `build.mjs` copies this file to `npm/launcher.js`), so both draw the same
// button and the wasm widget finds the same DOM however it was started.
//
// What it adds to the page, and nothing more: one `<natter-widget>` element with an open shadow
// root. Inside: one `button.natter-launcher` (an icon and an optional `.natter-launcher-text`),
// styled by one constructed stylesheet adopted by the shadow root. The unread badge is not drawn
// here: it stays hidden until the widget, which adds any launcher part it does not find, mounts
// and counts a message (loader −13 B gzip). No
// `<style>` element, no style attribute and no `innerHTML`, so the launcher works under a strict
// Content-Security-Policy (no `'unsafe-inline'` in `style-src`) and under Trusted Types.
//
// Size matters: this file is most of the loader's 2 KB gzip budget.

// `:host{all:initial!important}`: the host element lives in the page, so page rules such as
// `* { all: unset !important; font-size: 40px !important; transform: ... }` reach it. Inside a
// shadow tree an important `:host` declaration beats the page's important ones, and
// `all:initial` cuts every inherited property (and any transform or filter that would trap our
// fixed elements) off at the host. Custom properties survive `all`, so a page may still set
// `--natter-accent` on `natter-widget`.
const CSS =
  ':host{all:initial!important}' +
  '.natter-launcher{all:initial;position:fixed;bottom:calc(20px + env(safe-area-inset-bottom));' +
  'inset-inline-end:20px;z-index:2147483000;display:flex;align-items:center;justify-content:center;gap:8px;' +
  'min-width:56px;height:56px;padding:0 16px;box-sizing:border-box;border-radius:28px;' +
  'background:var(--natter-accent,#4f46e5);color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;' +
  'box-shadow:0 4px 16px #0003}' +
  '.natter-launcher:focus-visible{outline:2px solid var(--natter-accent,#4f46e5);outline-offset:2px}' +
  '.natter-launcher[data-left]{inset-inline-end:auto;left:20px}' +
  '.natter-launcher svg{width:28px;height:28px;fill:currentColor}' +
  // Busy (loading after a click): dimmed, and pulsing unless the visitor asked for less motion.
  '.natter-launcher[aria-busy=true] svg{opacity:.4}' +
  '@media (prefers-reduced-motion:no-preference){.natter-launcher[aria-busy=true] svg{animation:natter-busy .6s infinite alternate}}' +
  '@keyframes natter-busy{from{opacity:1}}' +
  '[hidden]{display:none!important}';

/**
 * Creates the host element at the end of `container` (default `document.body`), its open shadow
 * root and the launcher button, in the look the widget cached for this site on an earlier visit
 * (`localStorage["natter:<site>:appearance"]` = `{color, left, launcher_text}`), so a returning
 * visitor sees the right colour and side at once. Returns `{ host, root, button }`.
 */
export const drawLauncher = (siteKey, container) => {
  const doc = document;
  const make = (tag, className) => Object.assign(doc.createElement(tag), { className });
  let look;
  try {
    look = JSON.parse(localStorage.getItem('natter:' + siteKey + ':appearance'));
  } catch {
    // No storage (some privacy modes throw) or nothing valid in it: the default look.
  }
  look ||= {};
  const host = make('natter-widget');
  const root = host.attachShadow({ mode: 'open' });
  const sheet = new CSSStyleSheet();
  // The cached colour is checked before it becomes CSS: any script of the page may write to
  // storage, and a stray `}` must not inject rules.
  sheet.replaceSync(
    CSS + (/^#[\da-f]{6}$/i.test(look.color) ? ':host{--natter-accent:' + look.color + '}' : ''),
  );
  root.adoptedStyleSheets = [sheet];

  const button = make('button', 'natter-launcher');
  button.type = 'button';
  // The widget's own flag, which it updates once mounted. (Not `data-text` as well, which the
  // widget sets when there is a launcher text: no stylesheet reads it, loader −6 B gzip.)
  if (look.left === true) button.setAttribute('data-left', '');
  // English until the widget mounts and labels everything in the visitor's language.
  button.setAttribute('aria-label', 'Open chat');
  button.setAttribute('aria-expanded', false);

  const svg = doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', true);
  // A speech bubble.
  const path = doc.createElementNS(svg.namespaceURI, 'path');
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z');
  svg.append(path);
  button.append(svg);

  if (look.launcher_text)
    button.append(Object.assign(make('span', 'natter-launcher-text'), { textContent: look.launcher_text }));
  root.append(button);
  (container || doc.body).append(host);
  return { host, root, button };
};
