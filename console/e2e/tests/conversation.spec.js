// Two agents (Ada, Grace: separate browser contexts) and a visitor (the real widget on a
// third-party page) work one conversation through its life: routed to Ada (auto policy),
// answered, typing both ways with the visitor's live preview, the contact panel, transferred to
// Grace with a note, closed and reopened. Then the manual policy: a request Ada accepts, and one
// Grace claims from the queue.

import { test, expect } from '../support/fixtures.js';
import {
  ADA,
  GRACE,
  composer,
  conversationFrom,
  expectOnline,
  listItem,
  messages,
  messagesOf,
  openTab,
  reply,
  screenshot,
  setPolicy,
  signIn,
  unique,
  visitorWrites,
  widget,
} from '../support/console.js';

test('a conversation is routed, answered, transferred with a note, closed and reopened', async ({ natter, site, newContext }) => {
  await setPolicy(natter, 'auto');
  const ada = await signIn(await newContext(), natter, ADA);
  // Only Ada may be online, so routing picks her (earlier tests' staff drop off after the grace).
  await expectOnline(natter, [ADA.name]);

  const first = unique('Hello, is my order on its way?');
  const visitor = await visitorWrites(newContext, site, first);
  const conversation = await conversationFrom(natter, visitor.url);
  expect(conversation.assignee?.name).toBe(ADA.name);

  // Routed to Ada: in her "Mine" tab, live.
  await openTab(ada, 'Mine');
  await expect(listItem(ada, conversation.id)).toBeVisible();
  await expect(listItem(ada, conversation.id)).toContainText(first);
  await listItem(ada, conversation.id).click();
  await expect(messages(ada).getByText(first)).toBeVisible();

  // The contact panel: the page the visitor is on and their browser.
  const contact = ada.getByRole('complementary', { name: 'Contact' });
  await expect(contact).toContainText(visitor.url);
  await expect(contact).toContainText(/Chrom(e|ium) \d+/);

  // The visitor types: Ada sees it, with the live preview (the demo tenant shares drafts).
  const draft = unique('I ordered the blue');
  await widget.composer(visitor.page).pressSequentially(draft, { delay: 20 });
  await expect(ada.getByText(/is typing/)).toBeVisible();
  await expect(ada.locator('q.preview')).toHaveText(draft);
  await widget.composer(visitor.page).fill('');

  // Ada types: the visitor sees her typing; then her reply arrives.
  await composer(ada).pressSequentially('Let me', { delay: 20 });
  await expect(widget.typing(visitor.page)).toBeVisible();
  await expect(widget.typing(visitor.page)).toContainText(ADA.name);
  const answer = unique('It left the warehouse this morning');
  await reply(ada, answer);
  await expect(widget.lines(visitor.page, { side: 'agent', text: answer })).toHaveCount(1);
  await expect(messages(ada).getByText(answer)).toBeVisible();
  await screenshot(ada, 'console-conversation');
  await openTab(ada, 'Mine');
  await screenshot(ada, 'console-inbox');
  await listItem(ada, conversation.id).click();

  // Transfer to Grace with a note: she gets it, with the note.
  const grace = await signIn(await newContext(), natter, GRACE);
  await expectOnline(natter, [ADA.name, GRACE.name]);
  const note = unique('VIP customer, wants express delivery');
  await ada.getByRole('button', { name: 'Transfer' }).click();
  const dialog = ada.getByRole('dialog', { name: 'Transfer conversation' });
  const graceId = (await natter.api('GET', '/v1/staff', { token: await natter.login(GRACE) }))
    .find((member) => member.email === GRACE.email).id;
  await dialog.getByLabel('To', { exact: true }).selectOption(`agent:${graceId}`);
  await dialog.getByLabel(/Note for them/).fill(note);
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  await expect(grace.getByText(`A conversation was transferred to you: “${note}”`)).toBeVisible();
  await openTab(grace, 'Mine');
  await expect(listItem(grace, conversation.id)).toBeVisible();
  await expect(ada.getByText(`Assigned to ${GRACE.name}`)).toBeVisible();

  // Grace answers, closes; the conversation is in "Closed"; she reopens it.
  await listItem(grace, conversation.id).click();
  await expect(messages(grace).getByText(answer)).toBeVisible();
  const fromGrace = unique('Grace here, I will take it from now');
  await reply(grace, fromGrace);
  await expect(widget.lines(visitor.page, { side: 'agent', text: fromGrace })).toHaveCount(1);
  await grace.getByRole('button', { name: 'Close' }).click();
  await expect(grace.getByRole('button', { name: 'Reopen' })).toBeVisible();
  await expect(composer(grace)).toBeDisabled();
  await openTab(grace, 'Closed');
  await expect(listItem(grace, conversation.id)).toHaveAttribute('data-status', 'closed');
  await listItem(grace, conversation.id).click();
  await grace.getByRole('button', { name: 'Reopen' }).click();
  await expect(grace.getByText(`Assigned to ${GRACE.name}`)).toBeVisible();
  await expect(composer(grace)).toBeEnabled();
  const after = unique('Reopened: one more thing');
  await reply(grace, after);
  await expect(widget.lines(visitor.page, { side: 'agent', text: after })).toHaveCount(1);

  // On the server: every reply once.
  const stored = await messagesOf(natter, conversation.id);
  for (const text of [first, answer, fromGrace, after]) {
    expect(stored.filter((m) => m.text === text), text).toHaveLength(1);
  }
});

test('under the manual policy an agent accepts a request, and another claims one from the queue', async ({ natter, site, newContext }) => {
  await setPolicy(natter, 'manual');
  try {
    const ada = await signIn(await newContext(), natter, ADA);
    const grace = await signIn(await newContext(), natter, GRACE);
    await expectOnline(natter, [ADA.name, GRACE.name]);

    // A request: offered to the agents; Ada accepts it.
    const first = unique('Do you ship to Norway?');
    const visitor = await visitorWrites(newContext, site, first);
    const conversation = await conversationFrom(natter, visitor.url);
    const offer = ada
      .getByRole('region', { name: 'Pending requests' })
      .locator(`[data-offer="${conversation.id}"]`);
    await expect(offer).toBeVisible();
    await offer.getByRole('button', { name: 'Accept' }).click();
    await expect(messages(ada).getByText(first)).toBeVisible();
    await expect(ada.getByText(`Assigned to ${ADA.name}`)).toBeVisible();
    const answer = unique('Yes, in 3 to 5 days');
    await reply(ada, answer);
    await expect(widget.lines(visitor.page, { side: 'agent', text: answer })).toHaveCount(1);

    // Another request: Grace claims it from the queue.
    const second = unique('And to Iceland?');
    const other = await visitorWrites(newContext, site, second);
    const waiting = await conversationFrom(natter, other.url);
    await openTab(grace, 'Queue');
    await expect(listItem(grace, waiting.id)).toHaveAttribute('data-status', 'waiting');
    await listItem(grace, waiting.id).click();
    await grace.getByRole('button', { name: 'Claim' }).click();
    await expect(grace.getByText(`Assigned to ${GRACE.name}`)).toBeVisible();
    const claimed = unique('Grace here: Iceland too');
    await reply(grace, claimed);
    await expect(widget.lines(other.page, { side: 'agent', text: claimed })).toHaveCount(1);
  } finally {
    await setPolicy(natter, 'auto');
  }
});
