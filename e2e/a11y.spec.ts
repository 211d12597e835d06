// Accessibility (issue 13), measured with axe-core 4.x in Chromium against the whole product: every
// page in English and Chinese has no violation of the WCAG 2.0/2.1 A and AA and WCAG 2.2 AA rules
// (each violation is printed with its id, impact, target selectors and help URL); the lesson's skip
// link is the first Tab stop and lands in terminal 1; the terminals' screen-reader mode is a button
// per pane, kept across reloads; a passed step is announced in the live region; the instructor's
// read-only terminal view closes with Escape from anywhere in it, terminals included.
//
// Runs on the config's server (scripts/start.mjs); alone: `npm run test:a11y` (ports 3890/7890).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { getLab } from '../labs';
import { pane, step, waitForPrompt } from './terminal';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const locales = ['en', 'zh'] as const;
const slugs = readdirSync(path.join(root, 'content'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(root, 'content', d.name, 'en.mdx')))
  .map((d) => d.name)
  .sort();

/** Runs axe on the page as it is now; returns one printable line per violation (empty: none). */
async function audit(page: Page, name: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(tags).analyze();
  return results.violations.map((v) => {
    const targets = v.nodes.map((n) => n.target.map(String).join(' ')).join(' | ');
    return `[${name}] ${v.id} (${v.impact ?? 'unknown'}): ${v.help}\n    targets: ${targets}\n    help: ${v.helpUrl}`;
  });
}

function expectNone(found: string[]): void {
  if (found.length > 0) console.log(`axe violations (${found.length}):\n${found.join('\n')}`);
  expect(found, `axe violations:\n${found.join('\n')}`).toEqual([]);
}

/** Opens a lesson and waits until its terminals show a prompt (a reading lesson: the text). */
async function openLesson(page: Page, locale: string, slug: string): Promise<void> {
  await page.goto(`/${locale}/lessons/${slug}`);
  await page.waitForLoadState('load');
  if ((await page.locator('[data-connection]').count()) === 0) return; // a reading lesson
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  for (let n = 1; n <= (await page.locator('[data-terminal]').count()); n++) await waitForPrompt(page, n, 30_000);
}

const blurAll = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
const inTerminalInput = (page: Page, n: number) =>
  page.evaluate((n) => {
    const el = document.activeElement;
    return Boolean(el?.classList.contains('xterm-helper-textarea') && el.closest(`[data-terminal="${n}"]`));
  }, n);

test.describe.configure({ mode: 'serial' });

test('no axe violations on the home page and every lesson, in English and Chinese', async ({ page }) => {
  test.setTimeout(60_000 + slugs.length * 2 * 20_000);
  expect(slugs.length).toBeGreaterThan(5);
  const found: string[] = [];
  for (const locale of locales) {
    await page.goto(`/${locale}`);
    await expect(page.locator('[data-lesson]').first()).toBeVisible();
    found.push(...(await audit(page, `/${locale}`)));
    for (const slug of slugs) {
      await openLesson(page, locale, slug);
      found.push(...(await audit(page, `/${locale}/lessons/${slug}`)));
    }
  }
  // Not-found pages too.
  await page.goto('/en/lessons/no-such-lesson');
  found.push(...(await audit(page, '/en/lessons/no-such-lesson (404)')));
  expectNone(found);
});

test('keyboard: the skip link is the first Tab stop and lands in terminal 1', async ({ page }) => {
  await openLesson(page, 'en', 'exercise-net-namespace');
  // Without the skip link: Tab from the top until the focus is in terminal 1's input.
  await blurAll(page);
  let presses = 0;
  for (presses = 1; presses <= 200; presses++) {
    await page.keyboard.press('Tab');
    if (await inTerminalInput(page, 1)) break;
  }
  test.info().annotations.push({ type: 'tab-presses-to-terminal-1-without-skip-link', description: String(presses) });
  console.log(`Tab presses from the top to terminal 1 without the skip link: ${presses}`);

  // With it: one Tab, then Enter.
  await openLesson(page, 'en', 'exercise-net-namespace');
  await blurAll(page);
  await page.keyboard.press('Tab');
  const skip = page.locator('[data-skip-link]');
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await expect(skip).toHaveText('Skip to the terminals');
  await page.screenshot({ path: test.info().outputPath('skip-link-focused.png') });
  await page.keyboard.press('Enter');
  expect(await inTerminalInput(page, 1)).toBe(true);
  test.info().annotations.push({ type: 'keys-to-terminal-1-with-skip-link', description: 'Tab, Enter' });
  // It works: typing goes to the shell.
  await page.keyboard.type('echo $((6*7))-skipped');
  await page.keyboard.press('Enter');
  await expect(pane(page, 1).locator('.xterm-rows')).toContainText('42-skipped');

  // In Chinese too.
  await page.goto('/zh/lessons/exercise-net-namespace');
  await blurAll(page);
  await page.keyboard.press('Tab');
  await expect(page.locator('[data-skip-link]')).toBeFocused();
  await expect(page.locator('[data-skip-link]')).toHaveText('跳到终端');
});

test('keyboard: the screen-reader mode toggle, per pane, kept across reloads, in en and zh', async ({ page }) => {
  await openLesson(page, 'en', 'exercise-net-namespace');
  const toggle1 = page.locator('[data-screen-reader-toggle="1"]');
  const toggle2 = page.locator('[data-screen-reader-toggle="2"]');
  await expect(page.getByRole('button', { name: 'Screen reader mode for terminal 1' })).toBeVisible();
  await expect(toggle1).toHaveAttribute('aria-pressed', 'false');
  await expect(pane(page, 1).locator('.xterm-accessibility-tree')).toHaveCount(0);
  // By keyboard: focus it and press Space.
  await toggle1.focus();
  await page.keyboard.press('Space');
  await expect(toggle1).toHaveAttribute('aria-pressed', 'true');
  await expect(toggle2).toHaveAttribute('aria-pressed', 'true'); // one setting for every terminal
  await expect(pane(page, 1).locator('.xterm-accessibility-tree')).toBeAttached();
  await page.screenshot({ path: test.info().outputPath('screen-reader-toggle.png'), clip: (await pane(page, 1).boundingBox()) ?? undefined });
  // The rows are readable by assistive technology while it is on.
  await pane(page, 1).locator('.xterm-screen').click();
  await page.keyboard.type('echo sr-$((6*7))');
  await page.keyboard.press('Enter');
  await expect(pane(page, 1).locator('.xterm-accessibility-tree')).toContainText('sr-42');
  expectNone(await audit(page, '/en/lessons/exercise-net-namespace (screen-reader mode on)'));

  // Kept for this learner across a reload and in the other language.
  expect(await page.evaluate(() => window.localStorage.getItem('nslab:terminal-screen-reader'))).toBe('on');
  await page.goto('/zh/lessons/exercise-net-namespace');
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  const zhToggle = page.getByRole('button', { name: '终端 1 的屏幕阅读器模式' });
  await expect(zhToggle).toHaveAttribute('aria-pressed', 'true');
  await expect(zhToggle).toHaveText('屏幕阅读器模式');
  await zhToggle.click();
  await expect(zhToggle).toHaveAttribute('aria-pressed', 'false');
  await page.reload();
  await expect(page.locator('[data-screen-reader-toggle="1"]')).toHaveAttribute('aria-pressed', 'false');
});

test('a passed step is announced in the live region', async ({ page }) => {
  await openLesson(page, 'en', 'exercise-net-namespace');
  const live = page.locator('[data-live-region]');
  await expect(live).toHaveAttribute('aria-live', 'polite');
  await expect(live).toHaveAttribute('role', 'status');
  const before = await live.innerText();
  await step(page, 'isolate-sleep').getByRole('button', { name: 'Run in terminal 1' }).click();
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  const title = getLab('exercise-net-namespace')!.steps.find((s) => s.id === 'isolate-sleep')!.title.en;
  await expect(live).toContainText(`Step ‘${title}’ passed`);
  expect(await live.innerText()).not.toBe(before);
});

test('workshop pages, join, me, resume and completion: no violations; the terminal view closes with Escape from inside a terminal', async ({ browser, baseURL }) => {
  test.setTimeout(240_000);
  const found: string[] = [];
  const email = `a11y-${randomBytes(4).toString('hex')}@example.org`;
  const password = 'a long accessibility password';
  execFileSync(process.execPath, ['--import', 'tsx', 'app/_lib/db/cli.ts', 'create-instructor', '--email', email], {
    cwd: root,
    env: { ...process.env, NSLAB_INSTRUCTOR_PASSWORD: password },
    stdio: 'pipe',
  });

  // The instructor: sign-in page (with an error shown), the workshops list, a new workshop.
  const instructor = await browser.newContext({ baseURL });
  const dash = await instructor.newPage();
  for (const locale of locales) {
    await dash.goto(`/${locale}/instructor`);
    found.push(...(await audit(dash, `/${locale}/instructor`)));
  }
  await dash.goto('/en/instructor');
  await dash.getByLabel('Email').fill(email);
  await dash.getByLabel('Password').fill('wrong password!!');
  await dash.getByRole('button', { name: 'Sign in' }).click();
  await expect(dash.locator('#sign-in-error')).toBeVisible();
  found.push(...(await audit(dash, '/en/instructor (wrong password)')));
  await dash.getByLabel('Password').fill(password);
  await dash.getByRole('button', { name: 'Sign in' }).click();
  await expect(dash).toHaveURL(/\/en\/workshops$/);
  found.push(...(await audit(dash, '/en/workshops')));
  await dash.getByLabel('Title').fill('Accessibility check');
  await dash.locator('[data-lesson-option]').evaluateAll((boxes) => boxes.forEach((b) => ((b as HTMLInputElement).checked = false)));
  await dash.locator('[data-lesson-option="exercise-net-namespace"]').check();
  await dash.getByLabel('Capacity (learners)').fill('3');
  await dash.getByRole('button', { name: 'Create workshop' }).click();
  await expect(dash).toHaveURL(/\/en\/workshops\/[A-Za-z0-9_-]+$/);
  const workshopId = dash.url().split('/').at(-1)!;
  const code = (await dash.locator('[data-join-code]').innerText()).trim();
  await expect(dash.locator('[data-live]')).toHaveAttribute('data-live', 'live');
  found.push(...(await audit(dash, `/en/workshops/${workshopId} (empty)`)));
  await dash.goto('/zh/workshops');
  found.push(...(await audit(dash, '/zh/workshops')));

  // A learner: the join pages, then the lesson; passes step 1.
  const learner = await browser.newContext({ baseURL });
  const me = await learner.newPage();
  for (const locale of locales) {
    await me.goto(`/${locale}/join`);
    found.push(...(await audit(me, `/${locale}/join`)));
    await me.goto(`/${locale}/join/${code}`);
    found.push(...(await audit(me, `/${locale}/join/<code>`)));
  }
  await me.goto(`/en/join/${code}`);
  await me.getByLabel('Your name').fill('Ada');
  await me.getByRole('button', { name: 'Join' }).click();
  await expect(me).toHaveURL(/\/en\/lessons\/exercise-net-namespace$/);
  await expect(me.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  await waitForPrompt(me, 1, 30_000);
  await waitForPrompt(me, 2, 30_000);
  await step(me, 'isolate-sleep').getByRole('button', { name: 'Run in terminal 1' }).click();
  await expect(step(me, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  found.push(...(await audit(me, '/en/lessons/exercise-net-namespace (workshop member, step passed)')));

  // The dashboard with a learner, in both languages; then the read-only terminal view.
  for (const locale of locales) {
    await dash.goto(`/${locale}/workshops/${workshopId}`);
    await expect(dash.locator('[data-learner="Ada"] [data-cell="exercise-net-namespace/isolate-sleep"]')).toHaveAttribute('data-status', 'passed', { timeout: 10_000 });
    found.push(...(await audit(dash, `/${locale}/workshops/${workshopId} (one learner)`)));
  }
  await dash.goto(`/en/workshops/${workshopId}`);
  const opener = dash.locator('[data-view-terminal="Ada"]');
  const viewer = dash.locator('[data-viewer]');
  await opener.click();
  await expect(viewer).toHaveAttribute('data-viewer-phase', 'live');
  await expect(viewer.locator('[data-viewer-terminal="0"] .xterm-rows')).toContainText('unshare -n sleep');
  found.push(...(await audit(dash, `/en/workshops/${workshopId} (read-only terminal view open)`)));
  // Focus inside a terminal (by clicking it, as an instructor would), then Escape.
  await viewer.locator('[data-viewer-terminal="0"] .xterm-screen').click();
  await expect.poll(() => dash.evaluate(() => Boolean(document.activeElement?.closest('[data-viewer-terminal="0"]')))).toBe(true);
  await dash.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);
  await expect(opener).toBeFocused(); // focus back on what opened it
  // By keyboard only: Enter opens, Tab walks into the terminals and stays in the dialog, Escape closes.
  await dash.keyboard.press('Enter');
  await expect(viewer).toHaveAttribute('data-viewer-phase', 'live');
  await expect(viewer.getByRole('button', { name: 'Close' })).toBeFocused();
  const stops: string[] = [];
  for (let i = 0; i < 4; i++) {
    await dash.keyboard.press('Tab');
    stops.push(await dash.evaluate(() => document.activeElement?.closest('[data-viewer-terminal]')?.getAttribute('data-viewer-terminal') ?? document.activeElement?.textContent ?? ''));
  }
  expect(stops).toEqual(['0', '1', 'Close', '0']); // through both terminals, then round inside the dialog
  await dash.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);
  // In Chinese, the close button and Escape both work.
  await dash.goto(`/zh/workshops/${workshopId}`);
  await dash.locator('[data-view-terminal="Ada"]').click();
  await expect(viewer).toHaveAttribute('data-viewer-phase', 'live');
  found.push(...(await audit(dash, `/zh/workshops/${workshopId} (read-only terminal view open)`)));
  await viewer.locator('[data-viewer-terminal="1"] .xterm-screen').click();
  await dash.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);

  // The completion page (valid and altered), for anyone.
  const exported = (await (await dash.request.get(`/api/workshops/${workshopId}/export?format=json`)).json()) as {
    records: Array<{ displayName: string; verifyPath: string }>;
  };
  const verifyPath = exported.records.find((r) => r.displayName === 'Ada')!.verifyPath;
  const anyone = await browser.newContext({ baseURL });
  const anyonePage = await anyone.newPage();
  for (const locale of locales) {
    const localized = verifyPath.replace(/^\/(en|zh)\//, `/${locale}/`);
    await anyonePage.goto(localized);
    await expect(anyonePage.locator('[data-completion-valid]')).toHaveAttribute('data-completion-valid', 'true');
    found.push(...(await audit(anyonePage, `/${locale}/completion/<valid>`)));
    await anyonePage.goto(localized.replace(/\.[^.]+$/, '.AAAA'));
    await expect(anyonePage.locator('[data-completion-valid]')).toHaveAttribute('data-completion-valid', 'false');
    found.push(...(await audit(anyonePage, `/${locale}/completion/<altered>`)));
  }

  // The learner's own pages: progress ("me") and the resume link, then the resume page.
  for (const locale of locales) {
    await me.goto(`/${locale}/me`);
    found.push(...(await audit(me, `/${locale}/me`)));
  }
  await me.goto('/en/me');
  await me.locator('[data-make-resume-link]').click();
  const resumeLink = await me.locator('[data-resume-link]').inputValue();
  found.push(...(await audit(me, '/en/me (resume link made)')));
  for (const locale of locales) {
    await anyonePage.goto(resumeLink.replace(/\/(en|zh)\/me\/resume/, `/${locale}/me/resume`));
    found.push(...(await audit(anyonePage, `/${locale}/me/resume`)));
  }
  await anyonePage.locator('[data-resume]').click();
  await expect(anyonePage.locator('[data-resumed]')).toBeVisible();
  found.push(...(await audit(anyonePage, '/zh/me/resume (resumed)')));

  // Ending the workshop: the member's lesson page is closed (a page of its own).
  dash.once('dialog', (dialog) => void dialog.accept());
  await dash.goto(`/en/workshops/${workshopId}`);
  await dash.locator('[data-end-workshop]').click();
  await expect(dash.locator('[data-ends-at]')).toHaveAttribute('data-ended', 'true');
  found.push(...(await audit(dash, `/en/workshops/${workshopId} (ended)`)));
  for (const locale of locales) {
    await me.goto(`/${locale}/lessons/exercise-net-namespace`);
    found.push(...(await audit(me, `/${locale}/lessons/exercise-net-namespace (workshop ended)`)));
  }

  for (const context of [instructor, learner, anyone]) await context.close();
  expectNone(found);
});
