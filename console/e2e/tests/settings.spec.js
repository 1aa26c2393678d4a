// Settings are for owners and admins: an agent has no way in (no navigation entry, and the
// route shows the refusal). The owner changes the widget's colour and the widget on the
// third-party page picks it up; the forms check what is typed and put the message next to the
// field; accounts are created and deactivated.

import { test, expect } from '../support/fixtures.js';
import { ADA, OWNER, nav, screenshot, signIn, unique, widget } from '../support/console.js';

test('an agent cannot open settings', async ({ natter, newContext }) => {
  const ada = await signIn(await newContext(), natter, ADA);
  await expect(nav(ada, 'Inbox')).toBeVisible();
  await expect(nav(ada, 'Settings')).toHaveCount(0);
  await ada.goto(`${natter.base}/console#/settings/widget`);
  await expect(ada.getByText('Only owners and admins can change settings.')).toBeVisible();
  await expect(ada.getByLabel('Accent colour')).toHaveCount(0);
});

test('the owner changes the widget colour and the widget on the site picks it up', async ({ natter, site, newContext }) => {
  const owner = await signIn(await newContext(), natter, OWNER);
  await nav(owner, 'Settings').click();
  await owner.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: /Widget/ }).click();
  const colour = owner.getByLabel('Accent colour', { exact: true });
  await expect(colour).toHaveValue(/^#[0-9a-f]{6}$/);

  // A bad colour is refused before sending, next to the field.
  await colour.fill('teal');
  await owner.getByRole('button', { name: 'Save widget' }).click();
  await expect(colour).toHaveAttribute('aria-invalid', 'true');
  const describedBy = await colour.getAttribute('aria-describedby');
  await expect(owner.locator(`#${describedBy}`)).toContainText('six hex digits');

  // A good one is saved; the preview follows as it is typed.
  await colour.fill('#0F766E');
  await expect(owner.locator('.widget-preview-launcher')).toHaveCSS('background-color', 'rgb(15, 118, 110)');
  await owner.getByLabel('Launcher text').fill('Talk to us');
  await owner.getByRole('button', { name: 'Save widget' }).click();
  await expect(owner.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  await expect(colour).toHaveValue('#0f766e');
  await expect(colour).not.toHaveAttribute('aria-invalid', 'true');
  await owner.locator('.settings').evaluate((el) => el.scrollTo(0, 0));
  await screenshot(owner, 'console-settings');

  // The widget on the third-party page shows it.
  const visitor = await (await newContext()).newPage();
  await visitor.goto(site.url('/plain.html'));
  await expect(widget.launcher(visitor)).toBeVisible();
  await expect
    .poll(() => widget.launcher(visitor).evaluate((el) => el.style.getPropertyValue('--natter-accent')))
    .toBe('#0f766e');
  await expect(widget.launcher(visitor)).toContainText('Talk to us');

  // A too-long launcher text is refused next to its field.
  await owner.getByLabel('Launcher text').fill('x'.repeat(41));
  await owner.getByRole('button', { name: 'Save widget' }).click();
  await expect(owner.getByLabel('Launcher text')).toHaveAttribute('aria-invalid', 'true');
  await expect(owner.getByRole('alert').filter({ hasText: 'correct the marked' })).toBeVisible();
});

test('the owner edits the website, sees the embed snippet, rotates the identity secret and manages accounts', async ({ natter, site, newContext }) => {
  const owner = await signIn(await newContext(), natter, OWNER);
  const sections = owner.getByRole('navigation', { name: 'Settings sections' });
  await nav(owner, 'Settings').click();

  // Website: an origin added and removed, a bad one refused by the field.
  await sections.getByRole('link', { name: /Website/ }).click();
  await expect(owner.getByLabel('Website name')).toHaveValue(/.+/);
  const origins = owner.getByRole('list', { name: 'Allowed origins' });
  await expect(origins).toContainText(site.origin);
  await owner.getByLabel('Origin to allow').fill('shop.example');
  await owner.getByRole('button', { name: 'Add origin' }).click();
  await expect(owner.getByLabel('Origin to allow')).toHaveAttribute('aria-invalid', 'true');
  await owner.getByLabel('Origin to allow').fill('https://Shop.Example/');
  await owner.getByRole('button', { name: 'Add origin' }).click();
  await expect(origins).toContainText('https://shop.example');
  await owner.getByRole('button', { name: 'Save website' }).click();
  await expect(owner.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  const ownerToken = await natter.login(OWNER);
  let tenant = await natter.api('GET', '/v1/tenant', { token: ownerToken });
  expect(tenant.allowed_origins).toContain('https://shop.example');
  expect(tenant.allowed_origins).toContain(site.origin);
  await owner.getByRole('button', { name: 'Remove https://shop.example' }).click();
  await owner.getByRole('button', { name: 'Save website' }).click();
  await expect(owner.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  await expect.poll(async () => (await natter.api('GET', '/v1/tenant', { token: ownerToken })).allowed_origins)
    .not.toContain('https://shop.example');

  // Install: the snippet names this server and the site key.
  await sections.getByRole('link', { name: /Install/ }).click();
  tenant = await natter.api('GET', '/v1/tenant', { token: ownerToken });
  await expect(owner.getByLabel('Embed snippet')).toHaveValue(
    `<script src="${natter.base}/widget.js" data-site="${tenant.site_key}" async></script>`,
  );
  await owner.getByRole('button', { name: 'Copy snippet' }).click();
  await expect(owner.getByRole('status').filter({ hasText: /Copied|selected/ })).toBeVisible();

  // Identity: revealed, then rotated behind a confirmation.
  await sections.getByRole('link', { name: /Identity verification/ }).click();
  await owner.getByRole('button', { name: 'Reveal secret' }).click();
  const before = await owner.getByLabel('Identity secret').inputValue();
  expect(before).toBe((await natter.api('GET', '/v1/tenant/identity-secret', { token: ownerToken })).identity_secret);
  await owner.getByRole('button', { name: 'Rotate secret…' }).click();
  await owner.getByRole('alertdialog', { name: 'Rotate the identity secret?' }).getByRole('button', { name: 'Rotate now' }).click();
  await expect(owner.getByRole('status').filter({ hasText: 'rotated' })).toBeVisible();
  const after = await owner.getByLabel('Identity secret').inputValue();
  expect(after).toMatch(/^[0-9a-f]{64}$/);
  expect(after).not.toBe(before);
  const served = await natter.api('GET', '/v1/tenant/identity-secret', { token: ownerToken });
  expect(served.identity_secret).toBe(after);

  // Routing: a team added, saved on the server.
  await sections.getByRole('link', { name: /Routing/ }).click();
  const team = unique('Returns').replace(/[^A-Za-z ]/g, '');
  await owner.getByLabel('New team name').fill(team);
  await owner.getByRole('button', { name: 'Add team' }).click();
  await owner.getByRole('button', { name: 'Save routing' }).click();
  await expect(owner.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  const routing = await natter.api('GET', '/v1/routing/settings', { token: ownerToken });
  expect(routing.teams.map((t) => t.name)).toContain(team.trim());

  // Agents: an account created, then deactivated; it can no longer sign in.
  await sections.getByRole('link', { name: /Agents/ }).click();
  const email = `${unique('linus').replace(/\W/g, '')}@demo.natter.chat`;
  await owner.getByLabel('Name', { exact: true }).fill('Linus');
  await owner.getByLabel('E-mail').fill(email);
  await owner.getByLabel('Initial password').fill('short');
  await owner.getByRole('button', { name: 'Create account' }).click();
  await expect(owner.getByLabel('Initial password')).toHaveAttribute('aria-invalid', 'true');
  await owner.getByLabel('Initial password').fill('linus-pass-123');
  await owner.getByLabel('Role', { exact: true }).first().selectOption('agent');
  await owner.getByRole('button', { name: 'Create account' }).click();
  await expect(owner.getByRole('status').filter({ hasText: `as ${email}` })).toBeVisible();
  const row = owner.getByRole('listitem').filter({ hasText: email });
  await expect(row).toContainText('Active');
  expect(await natter.login({ email, password: 'linus-pass-123' })).toBeTruthy();
  await row.getByRole('button', { name: 'Deactivate Linus' }).click();
  await expect(row).toContainText('Deactivated');
  await expect(natter.login({ email, password: 'linus-pass-123' })).rejects.toThrow(/40[13]/);
});
