// Types of natter-widget, written and reviewed by hand (wasm-pack's generated declarations are
// not shipped: they cannot say which payload goes with which event). No `any`.

/** A language the widget speaks. Other BCP 47 tags fall back to English. */
export type Locale = 'en' | 'fr' | 'ru' | 'pt';

/**
 * The connection as a visitor should understand it.
 *
 * - `idle`: not started (nothing opened or written yet).
 * - `connecting`: opening the first connection.
 * - `online`: live.
 * - `reconnecting`: the connection dropped; the next attempt is scheduled.
 * - `unavailable`: the server could not be reached several times in a row; attempts continue.
 * - `offline`: the browser reports no network; attempts resume when it comes back.
 * - `refused`: the server refused this page or visitor for good (origin not allowed, unknown
 *   site key, identity required). Nothing more will be attempted.
 */
export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'online'
  | 'reconnecting'
  | 'unavailable'
  | 'offline'
  | 'refused';

/** Delivery of a message: `pending` until the server stored it, then `sent`; `failed` for good. */
export type Delivery = 'pending' | 'sent' | 'failed';

/** Who wrote a message. */
export interface Author {
  /** The visitor (this browser, another tab, another device of theirs), staff, or natter itself. */
  kind: 'visitor' | 'staff' | 'system';
  /** Display name, when known. */
  name: string | null;
}

/** One message of the visitor's conversation. */
export interface ChatMessage {
  /** Stable identity for rendering: the client id for messages written here, else the message id. */
  key: string;
  /** The server's id; `null` while pending. */
  id: string | null;
  /** Position in the conversation (gap-free, from 1); `null` while pending. */
  seq: number | null;
  /** `null` until the first message started a conversation. */
  conversationId: string | null;
  /** Plain text (render it as text, never as HTML). */
  text: string;
  author: Author;
  /** Epoch milliseconds: when written (pending) or stored. */
  createdAt: number;
  delivery: Delivery;
}

/** An agent handling the conversation. */
export interface AgentInfo {
  id: string;
  name: string;
  /** May point to another host than natter's (see the README about CSP `img-src`). */
  avatarUrl: string | null;
}

/** Where the conversation stands with routing. */
export type RoutingStatus =
  | { state: 'none' }
  | {
      state: 'queued';
      /** 1 = next in line. */
      position: number;
      /** Estimated wait, when the server has one. */
      estimatedWaitMs: number | null;
    }
  | {
      state: 'away';
      /** The site's away message: nobody is available, messages are kept for later. */
      message: string;
    }
  | { state: 'assigned'; agent: AgentInfo }
  | { state: 'closed' };

/** An error reported through the `error` event. */
export interface NatterError {
  /** The server's error code (`origin_not_allowed`, `rate_limited`, ...) or the widget's own. */
  code: string;
  /** A human-readable explanation, in English. */
  message: string;
}

/** Someone typing in the conversation. */
export interface TypingEvent {
  /** The agent's name, when known. */
  name: string | null;
  typing: boolean;
}

/**
 * A verified identity for a signed-in user of the host site. `userHash` is the hex
 * HMAC-SHA256 of `userId` with the site's identity secret, computed by the site's server (never
 * in the browser).
 */
export interface Identity {
  userId: string;
  userHash: string;
  name?: string;
  email?: string;
}

/** The widget's events and their payloads. */
export interface WidgetEventMap {
  /** The widget is mounted and has its settings. */
  ready: undefined;
  /** The panel opened. */
  open: undefined;
  /** The panel closed. */
  close: undefined;
  /**
   * A message was written here (`pending`) or stored in the conversation (from anyone, `sent`);
   * the same message may come twice, first pending then sent: match on `key`.
   */
  message: ChatMessage;
  /** Messages the visitor has not seen yet. */
  unread: number;
  status: ConnectionStatus;
  error: NatterError;
}

export type WidgetEvent = keyof WidgetEventMap;
export type WidgetListener<K extends WidgetEvent> = (payload: WidgetEventMap[K]) => void;

/**
 * The widget's JavaScript API: `window.Natter` for script-tag users, the module's exports (and
 * what `boot` resolves to) for npm users. Every method returns a Promise: calls made before the
 * widget is mounted wait for it and run in order.
 */
export interface NatterApi {
  open(): Promise<void>;
  close(): Promise<void>;
  toggle(): Promise<void>;
  /**
   * Links the conversation to a signed-in user of the site. Rejects without `userId` or
   * `userHash`.
   */
  identify(identity: Identity): Promise<void>;
  setLocale(locale: Locale | (string & {})): Promise<void>;
  /**
   * Sends a message as the visitor (it goes out when the connection allows, exactly once).
   * Resolves to the message's client id (its `key`); rejects on an empty or too long text.
   */
  sendMessage(text: string): Promise<string>;
  on<K extends WidgetEvent>(event: K, fn: WidgetListener<K>): Promise<void>;
  /** Removes a listener added with `on` (the same function). */
  off<K extends WidgetEvent>(event: K, fn: WidgetListener<K>): Promise<void>;
  /**
   * Forgets the visitor in this browser (token, unsent messages, conversation), e.g. when the
   * site's user logs out: the connection closes and the widget stays, closed and empty, for the
   * next visitor.
   */
  shutdown(): Promise<void>;
}

export interface BootOptions {
  /** The site key from natter's settings. */
  siteKey: string;
  /** The natter server, e.g. `https://chat.example.com` (no trailing slash needed). */
  apiBase: string;
  /** Interface language; default: the browser's, if supported, else English. */
  locale?: Locale | (string & {});
  /** Where to add the `<natter-widget>` element; default `document.body`. */
  container?: Element;
  /**
   * Where to fetch the wasm module; default `./pkg/natter_widget_bg.wasm` next to this module
   * (`new URL(..., import.meta.url)`, which Vite, webpack 5 and Rollup handle; with esbuild,
   * copy the file next to your bundle or pass its URL).
   */
  wasmUrl?: string | URL;
  /**
   * Where to fetch the interface's texts, one file per language; default `./texts/<language>.txt`
   * next to this module (found by bundlers like `wasmUrl`'s default). Only the language shown is
   * fetched; the panel opens once its texts have arrived.
   */
  texts?: Record<Locale, string>;
}

/**
 * Draws the launcher at once, loads the wasm module and mounts the widget. Resolves once it is
 * mounted; rejects (removing the launcher) if the module cannot be loaded. One widget per page:
 * a second `boot` rejects.
 */
export function boot(options: BootOptions): Promise<NatterApi>;

export const open: NatterApi['open'];
export const close: NatterApi['close'];
export const toggle: NatterApi['toggle'];
export const identify: NatterApi['identify'];
export const setLocale: NatterApi['setLocale'];
export const sendMessage: NatterApi['sendMessage'];
export const on: NatterApi['on'];
export const off: NatterApi['off'];
export const shutdown: NatterApi['shutdown'];

export interface ChatClientOptions {
  siteKey: string;
  apiBase: string;
  /**
   * Prefix of the keys the client keeps in `localStorage` (token, unsent messages, resume
   * cursor); give two clients of one page different keys to keep two visitors apart.
   */
  storageKey?: string;
}

/** The headless client's events and their payloads. */
export interface ChatClientEventMap {
  /** A message is new or changed (pending → sent, or failed). Match on `key`. */
  message: ChatMessage;
  status: ConnectionStatus;
  error: NatterError;
  /** An agent started or stopped typing. */
  typing: TypingEvent;
  routing: RoutingStatus;
  /** Messages from staff not seen yet. */
  unread: number;
}

export type ChatClientEvent = keyof ChatClientEventMap;
export type ChatClientListener<K extends ChatClientEvent> = (payload: ChatClientEventMap[K]) => void;

/**
 * A visitor's chat without any UI, with the widget's guarantees: messages written while
 * offline are kept in `localStorage` and sent exactly once when the connection returns, even
 * after a page reload; after a reconnect the conversation resumes from the last message seen.
 *
 * Create it with `createChatClient`, which loads the wasm module first (the constructor throws
 * if it is not loaded).
 */
export declare class ChatClient {
  constructor(options: ChatClientOptions);
  /** Opens a visitor session if there is none, then the live connection. */
  connect(): void;
  /** Links the conversation to a signed-in user of the site; throws without `userId`/`userHash`. */
  identify(identity: Identity): void;
  /**
   * Queues a message; it is `pending` until the server acknowledges it. Returns its client id
   * (the message's `key`). Throws on an empty or too long text.
   */
  sendMessage(text: string): string;
  /** Tells the agent whether the visitor is typing. */
  setTyping(typing: boolean): void;
  /** Skips the wait before the next reconnection attempt. */
  retryNow(): void;
  /** The conversation: stored messages in order, then pending ones. */
  messages(): ChatMessage[];
  status(): ConnectionStatus;
  /** Where the conversation stands with routing (also the `routing` event). */
  routing(): RoutingStatus;
  on<K extends ChatClientEvent>(event: K, fn: ChatClientListener<K>): void;
  off<K extends ChatClientEvent>(event: K, fn: ChatClientListener<K>): void;
  /** Forgets the visitor (token, unsent messages, conversation) and closes the connection. */
  shutdown(): void;
  /** Releases the client's wasm memory without forgetting the visitor; do not use it afterwards. */
  free(): void;
}

export interface CreateChatClientOptions extends ChatClientOptions {
  /**
   * Where to fetch the ChatClient's wasm module; default `./pkg-client/natter_chat_client_bg.wasm`
   * next to this module (a module of its own, smaller than the widget's; see
   * `BootOptions.wasmUrl` for bundlers).
   */
  wasmUrl?: string | URL;
}

/** Loads the ChatClient's wasm module (once per page) and creates a headless client. */
export function createChatClient(options: CreateChatClientOptions): Promise<ChatClient>;
