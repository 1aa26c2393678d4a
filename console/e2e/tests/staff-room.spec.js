// The staff room (seed 002): an agent and the owner write; both see both messages live, and the
// owner's stands out (a role badge on a "lead" line).

import { test, expect } from '../support/fixtures.js';
import { ADA, OWNER, messages, nav, reply, screenshot, signIn, unique } from '../support/console.js';

test('an agent and the owner talk in the staff room, and the owner stands out', async ({ natter, newContext }) => {
  const ada = await signIn(await newContext(), natter, ADA);
  const owner = await signIn(await newContext(), natter, OWNER);
  for (const page of [ada, owner]) {
    await nav(page, 'Staff room').click();
    await expect(page.getByRole('heading', { name: 'Staff room' })).toBeVisible();
  }

  const fromAda = unique('Busy morning, three waiting');
  await reply(ada, fromAda);
  await expect(messages(owner).getByText(fromAda)).toBeVisible();

  const fromOwner = unique('Thanks team, I will join the queue');
  await reply(owner, fromOwner);
  const ownerLine = messages(ada).locator('.line', { hasText: fromOwner });
  await expect(ownerLine).toBeVisible();
  await expect(ownerLine).toHaveClass(/\blead\b/);
  await expect(ownerLine.locator('.role-badge')).toHaveText('Owner');
  await expect(ownerLine).toContainText(OWNER.name);

  // Ada's own message is not set apart as a director's.
  const adaLine = messages(owner).locator('.line', { hasText: fromAda });
  await expect(adaLine).not.toHaveClass(/\blead\b/);
  await expect(adaLine.locator('.role-badge')).toHaveCount(0);
  await screenshot(ada, 'console-staff-room');
});
