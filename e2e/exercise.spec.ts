// The namespaces exercise, done as a learner does it: typing into the terminals, reading what they
// show (the rendered xterm rows), answering in the lesson. Every test gets a fresh browser context,
// hence a fresh learner cookie and a fresh sandbox.
import { expect, test, type Page } from '@playwright/test';
import { getLab } from '../labs';
import { openLesson, pane, rows, run, step, waitForPrompt } from './terminal';

const lab = getLab('exercise-net-namespace');
if (!lab) throw new Error('lab exercise-net-namespace is missing');
const steps = lab.steps;
const titleOf = (id: string, locale: 'en' | 'zh') => {
  const step = steps.find((s) => s.id === id);
  if (!step) throw new Error(`no step ${id}`);
  return step.title[locale];
};

/** Runs `pgrep -x sleep` in terminal 2 and reads the PID from the row after the command. */
async function findSleepPid(page: Page): Promise<string> {
  await run(page, 2, 'pgrep -x sleep');
  let pid = '';
  await expect
    .poll(
      async () => {
        const lines = await rows(page, 2);
        const at = lines.findLastIndex((row) => row.includes('pgrep -x sleep'));
        const found = at >= 0 ? lines.slice(at + 1).find((row) => /^\d+$/.test(row.trim())) : undefined;
        pid = found?.trim() ?? '';
        return pid;
      },
      { timeout: 10_000 },
    )
    .toMatch(/^\d+$/);
  return pid;
}

test('a learner does the whole exercise, reloads, and keeps output and progress', async ({ page }) => {
  await openLesson(page);
  const stepIds = await page.locator('[data-step-id]').evaluateAll((els) => els.map((el) => el.getAttribute('data-step-id')));
  expect(stepIds).toEqual(steps.map((s) => s.id));
  for (const id of stepIds) await expect(step(page, id ?? '')).toHaveAttribute('data-status', 'pending');

  // 1. A sleep in a new network namespace (terminal 1 then blocks for 60 s).
  await run(page, 1, 'unshare -n sleep 60');
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  await expect(page.locator('[data-live-region]')).toContainText(`Step ‘${titleOf('isolate-sleep', 'en')}’ passed`);

  // 2. Its PID, read from terminal 2 and typed into the lesson.
  const pid = await findSleepPid(page);
  const answer = page.locator('[data-answer="find-pid"]');
  await answer.getByRole('textbox').fill(pid);
  await answer.getByRole('button').click();
  await expect(step(page, 'find-pid')).toHaveAttribute('data-status', 'passed');
  await expect(step(page, 'find-pid').locator('[data-step-message]')).toContainText(pid);

  // 3. Its namespace links.
  await run(page, 2, `ls -la /proc/${pid}/ns/`);
  await expect.poll(async () => (await rows(page, 2)).some((row) => /net -> .?net:\[\d+\]/.test(row))).toBe(true);
  await expect(step(page, 'inspect-ns')).toHaveAttribute('data-status', 'passed');

  // 4. Inside its network namespace: only lo.
  await run(page, 2, `nsenter -t ${pid} -n ip a`);
  await expect.poll(async () => (await rows(page, 2)).some((row) => /^1: lo: /.test(row))).toBe(true);
  await expect(step(page, 'nsenter-ip')).toHaveAttribute('data-status', 'passed');

  for (const s of steps) await expect(step(page, s.id)).toHaveAttribute('data-status', 'passed');
  await expect(page.locator('[data-live-region]')).toContainText(`Step ‘${titleOf('nsenter-ip', 'en')}’ passed`);
  await expect(page.locator('[data-progress]')).toHaveAttribute('data-progress', `${steps.length}/${steps.length}`);

  // Reload: the same shells, their recent output replayed once, the progress kept.
  await page.reload();
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  await expect.poll(async () => (await rows(page, 2)).filter((row) => row.includes(`nsenter -t ${pid} -n ip a`)).length).toBe(1);
  await expect.poll(async () => (await rows(page, 1)).some((row) => row.includes('unshare -n sleep 60'))).toBe(true);
  for (const s of steps) await expect(step(page, s.id)).toHaveAttribute('data-status', 'passed');

  // The reattached shell still works.
  await waitForPrompt(page, 2);
  await run(page, 2, 'echo $((6*7))-after-reload');
  await expect.poll(async () => (await rows(page, 2)).some((row) => row.trim() === '42-after-reload')).toBe(true);
});

test('Ctrl-C interrupts a foreground sleep, and Esc then Tab leaves the terminal', async ({ page }) => {
  await openLesson(page);
  await run(page, 1, 'sleep 60');
  await page.waitForTimeout(500);
  const started = Date.now();
  await page.keyboard.press('Control+C');
  await page.keyboard.type('echo $((6*7))xyz');
  await page.keyboard.press('Enter');
  // Only a shell that got its prompt back runs the echo (the typed line itself shows "6*7").
  await expect.poll(async () => (await rows(page, 1)).some((row) => row.trim() === '42xyz'), { timeout: 5_000 }).toBe(true);
  expect(Date.now() - started).toBeLessThan(5_000);

  // Keyboard users can leave the terminal (Tab alone goes to the shell for completion).
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  const inTerminal1 = await page.evaluate(() => Boolean(document.activeElement?.closest('[data-terminal="1"]')));
  expect(inTerminal1).toBe(false);
});

test('a shell that exits offers a restart, and Enter starts a fresh one', async ({ page }) => {
  await openLesson(page);
  await run(page, 2, 'exit');
  await expect(pane(page, 2)).toHaveAttribute('data-phase', 'exited');
  await expect(pane(page, 2).locator('[data-overlay="exited"]')).toBeVisible();
  // Focus is still in terminal 2 (where `exit` was typed): Enter restarts.
  await page.keyboard.press('Enter');
  await waitForPrompt(page, 2);
  await run(page, 2, 'echo $((6*7))-restarted');
  await expect.poll(async () => (await rows(page, 2)).some((row) => row.trim() === '42-restarted')).toBe(true);
});

test('a wrong PID answer fails with a message', async ({ page }) => {
  await openLesson(page);
  await run(page, 1, 'unshare -n sleep 60');
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  const answer = page.locator('[data-answer="find-pid"]');
  await answer.getByRole('textbox').fill('999999');
  await answer.getByRole('button').click();
  await expect(step(page, 'find-pid')).toHaveAttribute('data-status', 'failed');
  await expect(step(page, 'find-pid').locator('[data-step-message]')).not.toBeEmpty();
  await expect(step(page, 'find-pid').locator('header [data-status-badge="failed"]')).toBeVisible();
  await expect(answer.locator('[data-answer-result]')).not.toBeEmpty();
  await expect(page.locator('[data-live-region]')).toContainText(titleOf('find-pid', 'en'));
  // A failure unlocks a hint at once (the check's own hint, or the step's first).
  await expect(step(page, 'find-pid').locator('[data-hint]').first()).toBeVisible();
});

test('the Chinese lesson shows Chinese step titles and works, and switching language keeps progress', async ({ page }) => {
  await openLesson(page, 'zh');
  await expect(page.locator('[lang="zh-Hans"]').first()).toBeAttached();
  for (const s of steps) {
    await expect(step(page, s.id).locator('[data-step-title]')).toHaveText(s.title.zh);
  }
  // The lesson's own button runs the command in terminal 1.
  await step(page, 'isolate-sleep').getByRole('button', { name: '在终端 1 中运行' }).click();
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  await expect(step(page, 'isolate-sleep').locator('[data-step-message]')).toContainText(/[\u4e00-\u9fff]/);
  await expect(page.locator('[data-live-region]')).toContainText(`步骤“${titleOf('isolate-sleep', 'zh')}”已通过`);

  await page.locator('[data-language-switch]').click();
  await expect(page).toHaveURL(/\/en\/lessons\/exercise-net-namespace$/);
  await expect(step(page, 'isolate-sleep').locator('[data-step-title]')).toHaveText(titleOf('isolate-sleep', 'en'));
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
});

test('unknown locales are 404 and / goes to the exercise', async ({ page }) => {
  const response = await page.goto('/fr');
  expect(response?.status()).toBe(404);
  await page.goto('/');
  await expect(page).toHaveURL(/\/en\/lessons\/exercise-net-namespace$/);
});
