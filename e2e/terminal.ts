// How the e2e specs drive the lesson page as a learner does: the terminals' rendered rows, typing,
// step status. Shared by e2e/ (the product started by scripts/start.mjs) and e2e-image/ (the
// container image).
import { expect, type Page } from '@playwright/test';

export const lessonPath = (locale: 'en' | 'zh') => `/${locale}/lessons/exercise-net-namespace`;
export const pane = (page: Page, n: number) => page.locator(`[data-terminal="${n}"]`);
export const step = (page: Page, id: string) => page.locator(`[data-step-id="${id}"]`);

/** The terminal's visible text, row by row, as rendered (nbsp folded to spaces, right-trimmed). */
export async function rows(page: Page, n: number): Promise<string[]> {
  const text = await pane(page, n).locator('.xterm-rows').innerText();
  return text
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((row) => row.trimEnd());
}

const promptPattern = /@[\w.-]+:[^\n]*[#$]$/;

/** Waits until the terminal shows a shell prompt on its last non-empty row. */
export async function waitForPrompt(page: Page, n: number, timeoutMs = 20_000): Promise<void> {
  await expect(pane(page, n)).toHaveAttribute('data-phase', 'running', { timeout: timeoutMs });
  await expect
    .poll(async () => (await rows(page, n)).filter((row) => row.trim() !== '').at(-1) ?? '', { timeout: timeoutMs })
    .toMatch(promptPattern);
}

/** Clicks into a terminal and types a command line, as a learner would. */
export async function run(page: Page, n: number, command: string): Promise<void> {
  await pane(page, n).locator('.xterm-screen').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

export async function openLesson(page: Page, locale: 'en' | 'zh' = 'en'): Promise<void> {
  await page.goto(lessonPath(locale));
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  await waitForPrompt(page, 1);
  await waitForPrompt(page, 2);
}
