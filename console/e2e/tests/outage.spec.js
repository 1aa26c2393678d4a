// A reply typed while the server is down shows as pending and goes out by itself, exactly
// once, when the server is back: checked on the server (REST) and in the visitor's widget.

import { test, expect } from '../support/fixtures.js';
import {
  ADA,
  connectionBanner,
  conversationFrom,
  expectOnline,
  listItem,
  messages,
  messagesOf,
  openTab,
  reply,
  setPolicy,
  signIn,
  unique,
  visitorWrites,
  widget,
} from '../support/console.js';

// Chromium logs the refused connections itself while the server is down.
test.use({ expectNetworkErrors: true });

test('a reply written while the server is down is delivered once after it restarts', async ({ natter, site, newContext }) => {
  await setPolicy(natter, 'auto');
  const ada = await signIn(await newContext(), natter, ADA);
  await expectOnline(natter, [ADA.name]);
  const first = unique('Is anyone there?');
  const visitor = await visitorWrites(newContext, site, first);
  const conversation = await conversationFrom(natter, visitor.url);
  await openTab(ada, 'Mine');
  await listItem(ada, conversation.id).click();
  await expect(messages(ada).getByText(first)).toBeVisible();

  const text = unique('Written during the outage');
  try {
    await natter.stop('SIGKILL');
    await expect(connectionBanner(ada)).toBeVisible();
    await reply(ada, text);
    const pending = messages(ada).locator('.line[data-state="pending"]', { hasText: text });
    await expect(pending).toBeVisible();
    await expect(pending).toContainText('Sending…');
  } finally {
    await natter.start();
  }

  // Out by itself (the backoff is capped at 30 s), without "Retry now".
  await expect(messages(ada).locator('.line[data-state="pending"]')).toHaveCount(0, { timeout: 60_000 });
  await expect(connectionBanner(ada)).toHaveCount(0, { timeout: 30_000 });
  await expect(messages(ada).getByText(text)).toHaveCount(1);
  await expect(widget.lines(visitor.page, { side: 'agent', text })).toHaveCount(1, { timeout: 60_000 });

  // Exactly once on the server, and still once a moment later.
  await expect.poll(async () => (await messagesOf(natter, conversation.id)).filter((m) => m.text === text).length).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect((await messagesOf(natter, conversation.id)).filter((m) => m.text === text)).toHaveLength(1);
  await expect(widget.lines(visitor.page, { side: 'agent', text })).toHaveCount(1);
  await expect(messages(ada).getByText(text)).toHaveCount(1);
});
