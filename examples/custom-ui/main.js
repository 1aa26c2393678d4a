// A chat UI of our own on natter-widget's headless ChatClient: the client keeps the
// conversation, the outbox and the connection (with the widget's guarantees: a message written
// offline is kept, even across a reload, and sent exactly once); this file only draws.
//
// It talks to http://127.0.0.1:8080 with the demo site key unless the page's query says
// otherwise (`?api=http://127.0.0.1:9000&site=other-key`).

import { createChatClient } from 'natter-widget';

const params = new URLSearchParams(location.search);
const apiBase = params.get('api') || 'http://127.0.0.1:8080';
const siteKey = params.get('site') || 'demo-site-key';

const $ = (selector) => document.querySelector(selector);
const list = $('#messages');
const statusLine = $('#status');
const routingLine = $('#routing');
const typingLine = $('#typing');
const errorLine = $('#error');
const retry = $('#retry');
const form = $('#composer');
const input = $('#text');

const STATUS_TEXT = {
  idle: 'Not connected yet',
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Connection lost, reconnecting…',
  unavailable: 'The chat server is unavailable; your messages will be sent when it is back',
  offline: 'You are offline; your messages will be sent when you are back online',
  refused: 'The chat is not available on this page',
};

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

const client = await createChatClient({ apiBase, siteKey, storageKey: 'natter-custom-ui' });

/** Draws the whole conversation, reusing the line of each message (keyed by `message.key`). */
function render() {
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const existing = new Map([...list.children].map((li) => [li.dataset.key, li]));
  for (const message of client.messages()) {
    let li = existing.get(message.key);
    if (!li) {
      li = document.createElement('li');
      li.dataset.key = message.key;
      li.append(document.createElement('span'), document.createTextNode(''));
      li.firstChild.className = 'meta';
    }
    existing.delete(message.key);
    li.dataset.author = message.author.kind;
    li.dataset.delivery = message.delivery;
    const who = message.author.kind === 'visitor' ? 'You' : (message.author.name ?? 'Support');
    const when = message.delivery === 'pending' ? 'sending…' : time.format(message.createdAt);
    li.firstChild.textContent = `${who} · ${when}${message.delivery === 'failed' ? ' · not sent' : ''}`;
    li.lastChild.textContent = message.text;
    list.append(li); // appending an existing line moves it into order
  }
  for (const stale of existing.values()) stale.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function showStatus(status) {
  statusLine.dataset.state = status;
  statusLine.textContent = STATUS_TEXT[status] ?? status;
  retry.hidden = status !== 'reconnecting' && status !== 'unavailable';
  input.disabled = status === 'refused';
}

function showRouting(routing) {
  const text = {
    queued: () =>
      `You are number ${routing.position} in line` +
      (routing.estimatedWaitMs ? ` (about ${Math.ceil(routing.estimatedWaitMs / 60000)} min)` : ''),
    away: () => routing.message,
    assigned: () => `${routing.agent.name} is here to help`,
    closed: () => 'This conversation is closed; write to start a new one',
  }[routing.state];
  routingLine.hidden = !text;
  routingLine.textContent = text ? text() : '';
}

client.on('message', render);
client.on('status', showStatus);
client.on('routing', showRouting);
client.on('typing', ({ name, typing }) => {
  typingLine.textContent = typing ? `${name ?? 'Support'} is typing…` : '';
});
client.on('error', ({ message }) => {
  errorLine.hidden = false;
  errorLine.textContent = message;
});

// "Typing" while the visitor types: repeated every 3 s as the protocol asks, and cleared 3 s
// after the last keystroke or when the message goes.
let typingTimer;
let typingSentAt = 0;
function stopTyping() {
  clearTimeout(typingTimer);
  typingTimer = undefined;
  if (typingSentAt) client.setTyping(false);
  typingSentAt = 0;
}
input.addEventListener('input', () => {
  if (Date.now() - typingSentAt > 3000) {
    client.setTyping(true);
    typingSentAt = Date.now();
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 3000);
});
input.addEventListener('blur', stopTyping);

form.addEventListener('submit', (event) => {
  event.preventDefault();
  errorLine.hidden = true;
  try {
    client.sendMessage(input.value);
    input.value = '';
    stopTyping();
  } catch (e) {
    errorLine.hidden = false;
    errorLine.textContent = e.message;
  }
  render();
});

retry.addEventListener('click', () => client.retryNow());

$('#forget').addEventListener('click', () => {
  client.shutdown();
  location.reload();
});

showStatus(client.status());
render();
client.connect();
