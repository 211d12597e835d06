// The second edition's labs as a learner types them in Chromium: namespace-lifetime (a bind mount,
// a process and an fd keep a network namespace; the owner typed as an answer), ipc-cgroup-time in
// Chinese, and the two deliberate failures (ENOMEM of `unshare -p bash`, EPERM of hostname in a
// fresh user namespace) passing from the state the grader reads.
import { expect, test, type Page } from '@playwright/test';
import { getLab } from '../labs';
import { pane, rows, run as type, step, waitForPrompt } from './terminal';

/** Types a command line and waits for the prompt to come back. */
async function run(page: Page, n: number, command: string): Promise<void> {
  await type(page, n, command);
  await waitForPrompt(page, n);
}

async function open(page: Page, path: string, terminals: number): Promise<void> {
  await page.goto(path);
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  for (let n = 1; n <= terminals; n++) await waitForPrompt(page, n);
}

const passed = (page: Page, id: string) => expect(step(page, id)).toHaveAttribute('data-status', 'passed', { timeout: 20_000 });

test('namespace-lifetime typed in the browser: mount, process, fd, owner', async ({ page }) => {
  await open(page, '/en/lessons/namespace-lifetime', getLab('namespace-lifetime')!.terminals);
  await run(page, 1, 'ip netns add lab');
  await passed(page, 'netns-add');
  await run(page, 1, 'nsenter --net=/run/netns/lab sleep 1000 &');
  await passed(page, 'enter-named');
  await run(page, 1, 'ip netns delete lab');
  await passed(page, 'delete-survives');
  await run(page, 2, 'P=$(pgrep -xn sleep); exec 3</proc/$P/ns/net; kill $P');
  await run(page, 2, 'nsenter --net=/proc/self/fd/3 sleep 1000 &');
  await passed(page, 'fd-keeps');
  await run(page, 1, 'unshare -U -r -n sleep 1000 &');
  await run(page, 1, 'stat -L -c %i /proc/$!/ns/user');
  let inode = '';
  await expect
    .poll(async () => {
      const lines = await rows(page, 1);
      const at = lines.findLastIndex((row) => row.includes('stat -L -c %i'));
      inode = lines.slice(at + 1).find((row) => /^\d+$/.test(row.trim()))?.trim() ?? '';
      return inode;
    })
    .toMatch(/^\d+$/);
  const answer = page.locator('[data-answer="owner"]');
  await answer.getByRole('textbox').fill(inode);
  await answer.getByRole('button').click();
  await passed(page, 'owner');
  await expect(step(page, 'owner')).toContainText(`user:[${inode}] owns`);
});

test('ipc-cgroup-time in Chinese: queue, invisible outside, cgroup root, a day of uptime', async ({ page }) => {
  await open(page, '/zh/lessons/ipc-cgroup-time', getLab('ipc-cgroup-time')!.terminals);
  await run(page, 1, 'unshare -i bash');
  await run(page, 1, 'ipcmk -Q');
  await passed(page, 'ipc-queue');
  await run(page, 2, 'ipcs -q');
  await passed(page, 'ipc-invisible');
  await run(page, 1, 'exit');
  await run(page, 1, 'unshare -C bash');
  await run(page, 1, 'cat /proc/self/cgroup');
  await passed(page, 'cgroup-root');
  await run(page, 1, 'exit');
  await run(page, 1, 'unshare -T --boottime 86400 bash');
  await passed(page, 'time-offset');
  await expect(step(page, 'time-offset')).toContainText('86400 秒（1 天）');
});

test('deliberate failures pass from state: EPERM of hostname, ENOMEM of unshare -p bash', async ({ page }) => {
  await open(page, '/en/lessons/uts-namespace', getLab('uts-namespace')!.terminals);
  await run(page, 1, 'unshare -Ur hostname container2');
  await passed(page, 'userns-eperm');
  await expect(step(page, 'userns-eperm')).toContainText('is still "nslab"');

  await open(page, '/en/lessons/pid-namespace', getLab('pid-namespace')!.terminals);
  await run(page, 1, 'unshare -p bash');
  await run(page, 1, 'ls');
  await passed(page, 'no-fork');
  await expect(step(page, 'no-fork')).toContainText('takes no new process (ENOMEM)');
  await pane(page, 1).locator('.xterm-screen').click();
  await page.keyboard.press('Control+D');
  await waitForPrompt(page, 1);
  await run(page, 1, 'unshare -pf --mount-proc bash');
  await passed(page, 'become-pid1');
});
