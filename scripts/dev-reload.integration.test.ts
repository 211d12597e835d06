// `npm run dev` as a lesson author uses it: open a lesson in Chromium, type in its terminal, edit the
// lesson's .mdx and save. The new text appears without a page load, and the terminal still shows
// the same shell (same PID, earlier output) in the same sandbox. Runs on a copy of content/
// (NSLAB_CONTENT_DIR) so the repository is never edited, on ports of its own, and writes its build
// output to .next-dev, never over the production build in .next.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from '@playwright/test';

const root = path.resolve(import.meta.dirname, '..');
const port = Number(process.env.DEV_TEST_PORT ?? 3190);
const agentPort = Number(process.env.DEV_TEST_AGENT_PORT ?? 7190);

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, log: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${log.join('').slice(-3000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      log.push(chunk.toString('utf8'));
      if (pattern.test(log.join(''))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm run dev exited (${code}) before it was ready:\n${log.join('').slice(-3000)}`));
    });
  });
}

test('npm run dev: a lesson edit re-renders the text in place; the sandbox and its shells stay', { timeout: 240_000 }, async () => {
  const content = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-dev-content-'));
  fs.cpSync(path.join(root, 'content'), content, { recursive: true });
  const prodBuildId = fs.existsSync(path.join(root, '.next/BUILD_ID')) ? fs.readFileSync(path.join(root, '.next/BUILD_ID'), 'utf8') : null;
  const log: string[] = [];
  const server = spawn(process.execPath, [path.join(root, 'scripts/start.mjs'), '--dev'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      AGENT_PORT: String(agentPort),
      HOST: '127.0.0.1',
      NSLAB_CONTENT_DIR: content,
      AGENT_CGROUP_NAME: process.env.AGENT_CGROUP_NAME ?? 'nslab-devtest',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  let failed = true;
  try {
    await waitForLine(server, /nslab: ready on/, 60_000, log);
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/en/lessons/exercise-net-namespace`, { timeout: 120_000 });
    const term = page.locator('[data-terminal="1"]');
    const rows = () => term.locator('.xterm-rows').innerText();
    await page.waitForFunction(() => /# $/m.test(document.querySelector('[data-terminal="1"] .xterm-rows')?.textContent?.replace(/\u00a0/g, ' ').trimEnd() + ' '), null, { timeout: 90_000 });
    await term.locator('.xterm-screen').click();
    await page.keyboard.type('echo "shell=$$"');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /shell=\d+/.test(document.querySelector('[data-terminal="1"] .xterm-rows')?.textContent ?? ''), null, { timeout: 15_000 });
    const shellPid = /shell=(\d+)/.exec(await rows())?.[1];
    assert.ok(shellPid);
    // A page load would clear this; router.refresh() does not.
    await page.evaluate(() => ((window as unknown as { __devReloadMarker: number }).__devReloadMarker = 42));
    await page.waitForTimeout(1_000); // the content-events stream is open

    const marker = `Live reload check ${Date.now()}`;
    const file = path.join(content, 'exercise-net-namespace', 'en.mdx');
    fs.appendFileSync(file, `\n\n${marker}\n`);
    await page.getByText(marker).waitFor({ timeout: 60_000 });

    assert.equal(await page.evaluate(() => (window as unknown as { __devReloadMarker?: number }).__devReloadMarker), 42, 'the page was reloaded');
    await term.locator('.xterm-screen').click();
    await page.keyboard.type('echo "again=$$"');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /again=\d+/.test(document.querySelector('[data-terminal="1"] .xterm-rows')?.textContent ?? ''), null, { timeout: 15_000 });
    const text = await rows();
    assert.match(text, new RegExp(`shell=${shellPid}`), 'earlier output is still on screen');
    assert.equal(/again=(\d+)/.exec(text)?.[1], shellPid, 'the same shell answered');
    // The production build was not touched.
    const after = fs.existsSync(path.join(root, '.next/BUILD_ID')) ? fs.readFileSync(path.join(root, '.next/BUILD_ID'), 'utf8') : null;
    assert.equal(after, prodBuildId);
    failed = false;
  } finally {
    // A failure says what the dev server printed (compile times, errors), not just "timeout".
    if (failed) process.stderr.write(`--- npm run dev output (last 4000 chars) ---\n${log.join('').slice(-4000)}\n`);
    await browser.close();
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          server.kill('SIGKILL');
          resolve(null);
        }, 10_000);
        server.once('exit', () => {
          clearTimeout(timer);
          resolve(null);
        });
      });
    }
    fs.rmSync(content, { recursive: true, force: true });
  }
});
