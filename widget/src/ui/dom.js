// Property reads and writes and argument-less method calls for the interface
// (widget/src/ui/dom.rs), with the property named by its index in `NAMES`; and the interface's
// two date formats (`dateFormat`).
//
// Why: every imported function costs an entry in the wasm and a function in the JS glue, and a
// property read or write is an import of its own for each property (`scrollTop`, `firstChild`,
// an event's `key`, ...). Through these three functions the interface reads, writes and calls
// 22 properties and methods with 7 imports instead of 24 (one per Rust type of the value), and
// passes a small number rather than the name's text. They decide nothing.
//
// `NAMES` and the constants of `mod name` in dom.rs must stay in the same order (a browser test
// in dom.rs reads every one back).
const NAMES = [
  'ownerDocument',
  'firstChild',
  'nextSibling',
  'activeElement',
  'style',
  'target',
  'scrollTop',
  'scrollHeight',
  'clientHeight',
  'height',
  'offsetTop',
  'keyCode',
  'type',
  'key',
  'value',
  'textContent',
  'shiftKey',
  'isComposing',
  'focus',
  'remove',
  'preventDefault',
  'dataset',
];

/** Property `NAMES[name]` of `object`. */
export const get = (object, name) => object[NAMES[name]];

/** Sets property `NAMES[name]` of `object` to `value`. */
export const set = (object, name, value) => {
  object[NAMES[name]] = value;
};

/** Calls method `NAMES[name]` of `object` without arguments. */
export const call = (object, name) => object[NAMES[name]]();

/**
 * `Intl.DateTimeFormat` of `locale` for days (weekday, day and month) when `day`, else for
 * times (hours and minutes). The options are written here rather than parsed from JSON text
 * that the wasm holds (see `date_format` in dom.rs).
 */
export const dateFormat = (locale, day) =>
  new Intl.DateTimeFormat(
    locale,
    day ? { weekday: 'long', day: 'numeric', month: 'long' } : { timeStyle: 'short' },
  );
