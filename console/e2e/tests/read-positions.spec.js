// Unread counts follow the agent, not the browser: what Ada reads on one device is read on her
// other one at once (the server keeps read positions and pushes them), and a fresh browser
// starts from the server's positions rather than from "everything unread".

import { test, expect } from '../support/fixtures.js';
import { ADA, conversations, listItem, openTab, signIn } from '../support/console.js';

test("what an agent reads on one device is read on her others, and in a new browser", async ({ natter, newContext }) => {
  const laptop = await signIn(await newContext(), natter, ADA);
  const phone = await signIn(await newContext(), natter, ADA);
  // The demo's open conversation from Léa Martin, assigned to Ada, never opened by anyone.
  const [lea] = await conversations(natter, `q=${encodeURIComponent('Léa')}&limit=10`);
  expect(lea, "the demo's conversation from Léa Martin").toBeTruthy();

  for (const page of [laptop, phone]) await openTab(page, 'All');
  const unreadBadge = (page) => listItem(page, lea.id).getByLabel(/unread/);
  // Never opened anywhere: unread on both devices.
  await expect(unreadBadge(laptop)).toBeVisible();
  await expect(unreadBadge(phone)).toBeVisible();

  // Read on the laptop: the phone's badge goes away without a reload.
  await listItem(laptop, lea.id).click();
  await expect(unreadBadge(laptop)).toHaveCount(0);
  await expect(unreadBadge(phone)).toHaveCount(0);

  // A browser that never saw the conversation starts from the server's position.
  const fresh = await signIn(await newContext(), natter, ADA);
  await openTab(fresh, 'All');
  await expect(listItem(fresh, lea.id)).toBeVisible();
  await expect(unreadBadge(fresh)).toHaveCount(0);
});
