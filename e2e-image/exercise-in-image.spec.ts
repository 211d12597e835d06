// The seed exercise against the nslab container image, as a learner does it in Chromium, and proof
// that the sandbox inside the container is really isolated (its root is an unprivileged host uid
// range; its network namespace holds only lo). Run by `npm run test:image`.
import { expect, test, type Page } from '@playwright/test';
import { openLesson, rows, run, step } from '../e2e/terminal';

/** Runs a command in a terminal and returns the rows it printed (up to an end marker it echoes). */
async function output(page: Page, n: number, command: string): Promise<string[]> {
  const marker = `END-${Date.now().toString(36)}`;
  await run(page, n, `${command}; echo ${marker}`);
  let printed: string[] = [];
  await expect
    .poll(async () => {
      const lines = await rows(page, n);
      const at = lines.findLastIndex((row) => row.includes(`${command}; echo ${marker}`));
      const end = lines.findLastIndex((row) => row.trim() === marker);
      printed = at >= 0 && end > at ? lines.slice(at + 1, end) : [];
      return end > at && at >= 0;
    })
    .toBe(true);
  return printed;
}

test('the seed exercise step passes in the container', async ({ page }) => {
  await openLesson(page);
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'pending');
  await run(page, 1, 'unshare -n sleep 60 &');
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
});

test('the sandbox in the container is isolated: uid_map is not identity, only lo', async ({ page }) => {
  await openLesson(page);
  const uidMap = (await output(page, 1, 'cat /proc/self/uid_map')).map((row) => row.trim().split(/\s+/));
  expect(uidMap).toHaveLength(1);
  const [inside, outside, count] = uidMap[0] ?? [];
  expect(inside).toBe('0');
  expect(Number(outside)).toBeGreaterThanOrEqual(100_000); // an unprivileged host range, not 0
  expect(count).toBe('65536');

  const links = (await output(page, 1, 'ip -o link')).filter((row) => /^\d+: /.test(row));
  expect(links.map((row) => row.split(':')[1]?.trim())).toEqual(['lo']);
});
