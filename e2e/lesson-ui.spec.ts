// The lesson UI as a learner uses it: the build-a-bridge lab typed into the browser with the live
// namespace map following along, a whole lab in Chinese, keyboard-only navigation of a lesson,
// resetting the sandbox (progress kept), and the course page's progress.
import { expect, test, type Page } from '@playwright/test';
import { getLab } from '../labs';

const pane = (page: Page, n: number) => page.locator(`[data-terminal="${n}"]`);
const step = (page: Page, id: string) => page.locator(`[data-step-id="${id}"]`);
const map = (page: Page) => page.locator('[data-namespace-map]');

async function rows(page: Page, n: number): Promise<string[]> {
  const text = await pane(page, n).locator('.xterm-rows').innerText();
  return text.replace(/\u00a0/g, ' ').split('\n').map((row) => row.trimEnd());
}

const promptPattern = /@[\w.-]+:[^\n]*[#$]$/;

async function waitForPrompt(page: Page, n: number, timeoutMs = 20_000): Promise<void> {
  await expect(pane(page, n)).toHaveAttribute('data-phase', 'running', { timeout: timeoutMs });
  await expect
    .poll(async () => (await rows(page, n)).filter((row) => row.trim() !== '').at(-1) ?? '', { timeout: timeoutMs })
    .toMatch(promptPattern);
}

/** Types a command line into a terminal and waits for the prompt to come back. */
async function run(page: Page, n: number, command: string, waitPrompt = true): Promise<void> {
  await pane(page, n).locator('.xterm-screen').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
  if (waitPrompt) await waitForPrompt(page, n);
}

async function open(page: Page, path: string, terminals: number): Promise<void> {
  await page.goto(path);
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  for (let n = 1; n <= terminals; n++) await waitForPrompt(page, n);
}

/** The first number printed on a row after the last row containing `command`. */
async function numberAfter(page: Page, n: number, command: string): Promise<string> {
  let value = '';
  await expect
    .poll(async () => {
      const lines = await rows(page, n);
      const at = lines.findLastIndex((row) => row.includes(command));
      value = (at >= 0 ? lines.slice(at + 1).find((row) => /^\d+$/.test(row.trim())) : undefined)?.trim() ?? '';
      return value;
    })
    .toMatch(/^\d+$/);
  return value;
}

test('build-a-bridge typed in the browser: the map draws the bridge and the veth pair, the grader pings across', async ({ page }) => {
  const lab = getLab('build-a-bridge')!;
  await open(page, '/en/lessons/build-a-bridge', lab.terminals);
  await expect(map(page)).toHaveAttribute('data-map-ready', 'true');
  // Before: only the shell's own namespace, no bridge.
  await expect(map(page).locator('[data-netns-base="true"]')).toHaveCount(1);
  await expect(map(page).locator('[data-iface="br0"]')).toHaveCount(0);

  await run(page, 1, 'ip netns add ns1');
  await expect(step(page, 'create-netns')).toHaveAttribute('data-status', 'passed');
  await expect(map(page).locator('[data-netns-name="ns1"]')).toBeVisible();

  // The map follows each command within about a second.
  const before = Date.now();
  await run(page, 1, 'ip link add veth0 type veth peer name veth1');
  await expect(map(page).locator('[data-veth-link="veth0~veth1"]')).toBeAttached({ timeout: 3_000 });
  const mapLagMs = Date.now() - before;
  test.info().annotations.push({ type: 'map-lag-ms', description: String(mapLagMs) });
  await expect(step(page, 'veth-pair')).toHaveAttribute('data-status', 'passed');

  for (const command of ['ip link add br0 type bridge', 'ip addr add 172.17.0.1/16 dev br0', 'ip link set veth0 master br0', 'ip link set br0 up', 'ip link set veth0 up']) {
    await run(page, 1, command);
  }
  await expect(step(page, 'bridge-br0')).toHaveAttribute('data-status', 'passed');
  const br0 = map(page).locator('[data-netns-base="true"] [data-iface="br0"]');
  await expect(br0).toHaveAttribute('data-iface-kind', 'bridge');
  await expect(br0).toContainText('172.17.0.1/16');
  await expect(map(page).locator('[data-netns-base="true"] [data-iface="veth0"]')).toHaveAttribute('data-iface-master', 'br0');

  for (const command of ['ip link set veth1 netns ns1', 'ip netns exec ns1 ip link set veth1 name eth0', 'ip netns exec ns1 ip addr add 172.17.0.2/16 dev eth0']) {
    await run(page, 1, command);
  }
  await expect(step(page, 'move-eth0')).toHaveAttribute('data-status', 'passed');
  const eth0 = map(page).locator('[data-netns-name="ns1"] [data-iface="eth0"]');
  await expect(eth0).toContainText('172.17.0.2/16');
  await expect(map(page).locator('[data-veth-link="eth0~veth0"]')).toHaveAttribute('data-live', 'false');

  await run(page, 1, 'ip netns exec ns1 ip link set lo up');
  await run(page, 1, 'ip netns exec ns1 ip link set eth0 up');
  await run(page, 1, 'ping -c 2 172.17.0.2');
  await expect.poll(async () => (await rows(page, 1)).some((row) => /2 received/.test(row))).toBe(true);
  // The grader's own ping, from each side, is what passes the last step.
  await expect(step(page, 'ping-across')).toHaveAttribute('data-status', 'passed', { timeout: 20_000 });
  await expect(step(page, 'ping-across').locator('[data-step-message]')).toContainText(/ping|172\.17\.0\.2/i);
  await expect(map(page).locator('[data-veth-link="eth0~veth0"]')).toHaveAttribute('data-live', 'true');
  await expect(eth0).toHaveAttribute('data-iface-state', 'up');

  // The table alternative says the same in words.
  await map(page).getByRole('tab', { name: 'Table' }).click();
  await expect(map(page).locator('[data-table-iface="br0"]')).toContainText('172.17.0.1/16');
  await expect(map(page).locator('[data-table-iface="eth0"]')).toContainText('veth pair with veth0');

  // The course page shows the lab done (once the progress database has the results).
  await expect
    .poll(
      async () => {
        await page.goto('/en');
        return page.locator('[data-lesson="build-a-bridge"]').getAttribute('data-lesson-progress');
      },
      { timeout: 20_000 },
    )
    .toBe(`${lab.steps.length}/${lab.steps.length}`);
  await expect(page.locator('[data-lesson="build-a-bridge"]')).toHaveAttribute('data-lesson-state', 'done');
});

test('the UTS lab end to end in Chinese', async ({ page }) => {
  const lab = getLab('uts-namespace')!;
  await open(page, '/zh/lessons/uts-namespace', lab.terminals);
  for (const s of lab.steps) await expect(step(page, s.id).locator('[data-step-title]')).toHaveText(s.title.zh);
  await expect(page.locator('[data-check-button]')).toHaveText(/检查我的操作/);

  // The deliberate failure first: a fresh user namespace may not rename the UTS namespace it does not own.
  await run(page, 1, 'unshare -Ur hostname container2');
  await expect(step(page, lab.steps[0]!.id)).toHaveAttribute('data-status', 'passed');
  await expect(step(page, lab.steps[0]!.id).locator('[data-step-message]')).toContainText(/[\u4e00-\u9fff]/);

  await run(page, 1, 'unshare -Uur bash');
  await run(page, 1, 'hostname container1');
  await expect(step(page, lab.steps[1]!.id)).toHaveAttribute('data-status', 'passed');

  await run(page, 2, 'hostname');
  await expect(step(page, lab.steps[2]!.id)).toHaveAttribute('data-status', 'passed');

  await run(page, 1, 'echo $$');
  const pid = await numberAfter(page, 1, 'echo $$');
  await run(page, 2, `nsenter -t ${pid} -u hostname`);
  await expect.poll(async () => (await rows(page, 2)).some((row) => row.trim() === 'container1')).toBe(true);
  await expect(step(page, lab.steps[3]!.id)).toHaveAttribute('data-status', 'passed');
  await expect(page.locator('[data-progress]')).toHaveAttribute('data-progress', `${lab.steps.length}/${lab.steps.length}`);
  await expect(page.locator('[data-live-region]')).toContainText('已通过');
});

/** Presses Tab until the focused element matches, at most `max` times; returns how many presses. */
async function tabTo(page: Page, matches: (el: Element) => boolean, max = 40): Promise<number> {
  const fn = matches.toString();
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate((source) => {
      const el = document.activeElement;
      return el ? (new Function(`return (${source})`)() as (e: Element) => boolean)(el) : false;
    }, fn);
    if (hit) return i;
  }
  throw new Error('focus never reached the element');
}

test('keyboard only: skip link, run a command, switch map views, answer, quiz', async ({ page }) => {
  await open(page, '/en/lessons/exercise-net-namespace', 2);
  // Start from the top of the page, as after a fresh load with nothing focused.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Tab');
  await expect(page.locator('.skip-link')).toBeFocused();
  await expect(page.locator('.skip-link')).toBeInViewport();

  // The lesson's own button runs the command in terminal 1.
  await tabTo(page, (el) => el.tagName === 'BUTTON' && Boolean(el.closest('[data-step-id="isolate-sleep"]')) && /Run in terminal 1/.test(el.textContent ?? ''));
  await page.keyboard.press('Enter');
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');

  // The map's views are tabs: arrows move between them.
  await tabTo(page, (el) => el.getAttribute('role') === 'tab' && el.getAttribute('aria-selected') === 'true');
  await page.keyboard.press('ArrowRight');
  await expect(map(page).getByRole('tab', { name: 'Namespaces' })).toBeFocused();
  await expect(map(page).getByRole('tab', { name: 'Namespaces' })).toHaveAttribute('aria-selected', 'true');
  await expect(map(page).locator('[data-ns-type="net"] [data-ns-base="false"] [data-highlight="true"]')).toContainText('sleep');

  // Run pgrep from the lesson, then type the PID into the answer field and submit with Enter.
  await tabTo(page, (el) => el.tagName === 'BUTTON' && Boolean(el.closest('[data-step-id="find-pid"]')) && /Run in terminal 2/.test(el.textContent ?? ''));
  await page.keyboard.press('Enter');
  const pid = await numberAfter(page, 2, 'pgrep -x sleep');
  await tabTo(page, (el) => el.tagName === 'INPUT' && Boolean(el.closest('[data-answer="find-pid"]')));
  await page.keyboard.type(pid);
  await page.keyboard.press('Enter');
  await expect(step(page, 'find-pid')).toHaveAttribute('data-status', 'passed');

  // The check button and the language switch are reachable too.
  await tabTo(page, (el) => el.hasAttribute('data-check-button'), 80);
  await page.keyboard.press('Enter');

  // A quiz, by keyboard: arrows pick a choice, Enter checks.
  await page.goto('/en/lessons/namespace-types');
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabTo(page, (el) => el.tagName === 'INPUT' && (el as HTMLInputElement).type === 'radio', 60);
  await page.keyboard.press('Space'); // first choice: wrong
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-quiz]')).toHaveAttribute('data-quiz-verdict', 'wrong');
  await page.keyboard.press('ArrowDown'); // second choice: right
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-quiz]')).toHaveAttribute('data-quiz-verdict', 'right');
  await expect(page.locator('[data-quiz-result]')).toContainText('Right');
});

test('reset gives a fresh sandbox and keeps the progress; the language switch keeps both', async ({ page }) => {
  await open(page, '/en/lessons/exercise-net-namespace', 2);
  await run(page, 1, 'unshare -n sleep 60', false);
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  await expect(map(page).locator('[data-map-process="sleep"]').first()).toBeAttached();
  const baseBefore = await map(page).locator('[data-netns-base="true"]').getAttribute('data-netns-inode');

  page.once('dialog', (dialog) => void dialog.accept());
  await page.locator('[data-reset-button]').click();
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  await waitForPrompt(page, 1);
  await waitForPrompt(page, 2);
  // A fresh sandbox: another base namespace, no sleep, clean screens; the step stays passed.
  await expect.poll(async () => map(page).locator('[data-netns-base="true"]').getAttribute('data-netns-inode')).not.toBe(baseBefore);
  await expect(map(page).locator('[data-map-process="sleep"]')).toHaveCount(0);
  expect((await rows(page, 1)).some((row) => row.includes('unshare -n sleep 60'))).toBe(false);
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');

  await page.locator('[data-language-switch]').click();
  await expect(page).toHaveURL(/\/zh\/lessons\/exercise-net-namespace$/);
  await expect(step(page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  await expect(map(page)).toHaveAttribute('data-map-ready', 'true');
  await expect(map(page).getByRole('tab', { name: '网络' })).toBeVisible();
});
