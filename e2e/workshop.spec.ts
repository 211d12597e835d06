// A workshop end to end, with one browser context per person: an instructor signs in and creates a
// workshop, three learners join with the code and work on the exercise, the dashboard shows every
// change live (measured) and the failure reasons grouped across the class; messages, the read-only
// terminal view, exports, signed completion links, authorization (403), a resume link, an app
// restart in the middle (nothing lost) and ending the workshop (sandboxes torn down).
//
// This spec runs its own server (scripts/start.mjs on E2E_WORKSHOP_PORT, default 3600; agent on
// E2E_WORKSHOP_AGENT_PORT, default 7600; agent cgroup E2E_WORKSHOP_CGROUP_NAME, default nslabwse2e)
// because it restarts it. It shares var/ (database, secrets)
// with the default e2e server; run with workers=1 (the config does).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { getLab } from '../labs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.E2E_WORKSHOP_PORT ?? 3600);
const agentPort = Number(process.env.E2E_WORKSHOP_AGENT_PORT ?? 7600);
const baseURL = `http://127.0.0.1:${port}`;
const labId = 'exercise-net-namespace';
const lab = getLab(labId);
if (!lab) throw new Error(`lab ${labId} is missing`);

test.describe.configure({ mode: 'serial' });
test.use({ baseURL });

// ---------- the server this spec owns ----------

let server: ChildProcess | null = null;

async function startServer(): Promise<void> {
  server = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    // Its own cgroup name: its agent reaps only its own leftovers, never another e2e server's sandboxes.
    env: { ...process.env, PORT: String(port), AGENT_PORT: String(agentPort), HOST: '127.0.0.1', AGENT_CGROUP_NAME: process.env.E2E_WORKSHOP_CGROUP_NAME ?? 'nslabwse2e', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  server.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`server exited (${server.exitCode}):\n${log}`);
    const ok = await fetch(`${baseURL}/en`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not answer in time:\n${log}`);
}

async function stopServer(): Promise<void> {
  const child = server;
  server = null;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
}

// ---------- helpers a user would recognise ----------

const pane = (page: Page, n: number) => page.locator(`[data-terminal="${n}"]`);
const stepOf = (page: Page, id: string) => page.locator(`[data-step-id="${id}"]`);

async function rows(page: Page, n: number): Promise<string[]> {
  const text = await pane(page, n).locator('.xterm-rows').innerText();
  return text.replace(/\u00a0/g, ' ').split('\n').map((row) => row.trimEnd());
}

async function waitForPrompt(page: Page, n: number): Promise<void> {
  await expect(pane(page, n)).toHaveAttribute('data-phase', 'running', { timeout: 30_000 });
  await expect.poll(async () => (await rows(page, n)).filter((r) => r.trim() !== '').at(-1) ?? '', { timeout: 20_000 }).toMatch(/[#$]$/);
}

async function run(page: Page, n: number, command: string): Promise<void> {
  await pane(page, n).locator('.xterm-screen').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

async function findSleepPid(page: Page): Promise<string> {
  await run(page, 2, 'pgrep -f "sleep 600"');
  let pid = '';
  await expect
    .poll(async () => {
      const lines = await rows(page, 2);
      const at = lines.findLastIndex((row) => row.includes('pgrep -f'));
      pid = (at >= 0 ? lines.slice(at + 1).find((row) => /^\d+$/.test(row.trim())) : undefined)?.trim() ?? '';
      return pid;
    })
    .toMatch(/^\d+$/);
  return pid;
}

const cell = (dash: Page, name: string, stepId: string) => dash.locator(`[data-learner="${name}"] [data-cell="${labId}/${stepId}"]`);

interface Learner {
  name: string;
  context: BrowserContext;
  page: Page;
}

async function join(browser: Browser, code: string, name: string): Promise<Learner> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.goto(`/en/join/${code}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page).toHaveURL(new RegExp(`/en/lessons/${labId}$`));
  await expect(page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });
  await waitForPrompt(page, 1);
  await waitForPrompt(page, 2);
  return { name, context, page };
}

// ---------- the workshop ----------

const email = `teacher-${randomBytes(4).toString('hex')}@example.org`;
const password = 'a long workshop password';

test.beforeAll(async () => {
  test.setTimeout(300_000);
  execFileSync(process.execPath, ['--import', 'tsx', 'app/_lib/db/cli.ts', 'create-instructor', '--email', email], {
    cwd: root,
    env: { ...process.env, NSLAB_INSTRUCTOR_PASSWORD: password },
    stdio: 'pipe',
  });
  await startServer();
});

test.afterAll(async () => {
  await stopServer();
});

test('a live workshop: create, join, watch, message, view, export, restart, end', async ({ browser }) => {
  test.setTimeout(180_000);
  const timings: Record<string, number> = {};

  // The instructor signs in and creates a workshop with room for three.
  const instructorContext = await browser.newContext({ baseURL });
  const dash = await instructorContext.newPage();
  await dash.goto('/en/workshops');
  await expect(dash).toHaveURL(/\/en\/instructor$/);
  await dash.getByLabel('Email').fill(email);
  await dash.getByLabel('Password').fill('wrong password!!');
  await dash.getByRole('button', { name: 'Sign in' }).click();
  await expect(dash.locator('#sign-in-error')).toHaveText('Wrong email or password');
  await dash.getByLabel('Password').fill(password);
  await dash.getByRole('button', { name: 'Sign in' }).click();
  await expect(dash).toHaveURL(/\/en\/workshops$/);
  const instructorCookie = (await instructorContext.cookies()).find((c) => c.name === 'nslab_instructor');
  expect(instructorCookie?.httpOnly).toBe(true);
  expect(instructorCookie?.sameSite).toBe('Lax');
  expect((instructorCookie?.expires ?? 0) * 1000 - Date.now()).toBeLessThanOrEqual(12 * 3600_000 + 5_000);

  await dash.getByLabel('Title').fill('Namespaces, Tuesday class');
  await dash.locator('[data-lesson-option]').evaluateAll((boxes) => boxes.forEach((b) => ((b as HTMLInputElement).checked = false)));
  await dash.locator(`[data-lesson-option="${labId}"]`).check();
  await dash.getByLabel('Capacity (learners)').fill('3');
  await dash.getByRole('button', { name: 'Create workshop' }).click();
  await expect(dash).toHaveURL(/\/en\/workshops\/[A-Za-z0-9_-]+$/);
  const workshopId = dash.url().split('/').at(-1)!;
  // A short "looks stuck" threshold for the test (the page's select offers 30 s to 10 min).
  await dash.goto(`/en/workshops/${workshopId}?stuckAfterS=10`);
  const code = (await dash.locator('[data-join-code]').innerText()).trim();
  expect(code).toMatch(/^[346789ACDEFGHJKMNPQRTWXY]{3}-[346789ACDEFGHJKMNPQRTWXY]{3}$/);
  await expect(dash.locator('[data-join-link]')).toHaveText(`${baseURL}/en/join/${code}`);
  await expect(dash.locator('[data-qr] svg')).toBeVisible();
  await expect(dash.locator('[data-live]')).toHaveAttribute('data-live', 'live');
  await expect(dash.locator('[data-empty-grid]')).toBeVisible();

  // Three learners join (each in their own browser) and land in the lesson with their own sandbox.
  const t0 = Date.now();
  const [ada, bo, cy] = await Promise.all([join(browser, code, 'Ada'), join(browser, code, 'Bo'), join(browser, code, 'Cy')]);
  timings.threeLearnersJoinedToPromptMs = Date.now() - t0;
  for (const name of ['Ada', 'Bo', 'Cy']) await expect(dash.locator(`[data-learner="${name}"]`)).toBeVisible();
  await expect(dash.locator('[data-seats]')).toHaveText('3 of 3 seats taken');
  const learnerCookie = (await ada.context.cookies()).find((c) => c.name === 'nslab_learner');
  expect(learnerCookie?.httpOnly).toBe(true);

  // A fourth gets a clear message, not a broken terminal.
  const late = await browser.newContext({ baseURL });
  const latePage = await late.newPage();
  await latePage.goto(`/en/join/${code}`);
  await latePage.getByLabel('Your name').fill('Dee');
  await latePage.getByRole('button', { name: 'Join' }).click();
  await expect(latePage.locator('[data-join-error]')).toHaveText(/This workshop is full: all 3 seats are taken/);
  await expect(latePage).toHaveURL(new RegExp(`/en/join/${code}$`));
  await expect(latePage.locator('[data-terminal]')).toHaveCount(0);

  // Ada passes step 1: the dashboard shows it within a second of her page.
  await run(ada.page, 1, 'unshare -n sleep 600');
  await expect(stepOf(ada.page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  const adaPassedAt = Date.now();
  await expect(cell(dash, 'Ada', 'isolate-sleep')).toHaveAttribute('data-status', 'passed', { timeout: 5_000 });
  timings.stepToDashboardMs = Date.now() - adaPassedAt;

  // Bo and Cy start a sleep in the sandbox's own network namespace: their pages still say pending,
  // the dashboard shows them failing and groups the reason across the class.
  await run(bo.page, 1, 'sleep 600 &');
  await run(cy.page, 1, 'sleep 600 &');
  const failingAt = Date.now();
  await expect(cell(dash, 'Bo', 'isolate-sleep')).toHaveAttribute('data-status', 'failing', { timeout: 5_000 });
  await expect(cell(dash, 'Cy', 'isolate-sleep')).toHaveAttribute('data-status', 'failing', { timeout: 5_000 });
  timings.failureToDashboardMs = Date.now() - failingAt;
  await expect(stepOf(bo.page, 'isolate-sleep')).toHaveAttribute('data-status', 'pending');
  // (While a sleep is still starting, a learner may briefly be in a 'no sleep at all' group.)
  const reason = dash.locator(`[data-reason="${labId}/isolate-sleep"]`).filter({ hasText: 'the same network namespace as your shell' });
  await expect(reason).toHaveAttribute('data-count', '2');
  await expect(reason.locator('[data-reason-count]')).toHaveText('2 of 3');
  await expect(reason.locator('[data-reason-message]')).toContainText('the same network namespace as your shell');
  await expect(reason).toContainText(/Bo, Cy|Cy, Bo/);
  // Time on the current step ticks, and the stuck threshold marks them.
  await expect(dash.locator('[data-learner="Bo"] [data-time-on-step]')).toHaveText(/\d+ s|min/);
  await expect(dash.locator('[data-stuck-after]')).toHaveValue('10000');
  await expect(dash.locator('[data-learner="Bo"]')).toHaveAttribute('data-stuck', 'true', { timeout: 20_000 });
  await expect(dash.locator('[data-learner="Bo"] [data-stuck-badge]')).toBeVisible();

  // Ada finds the PID (step 2); Bo fixes his (step 1); Cy stays stuck. Each change shows live.
  const pid = await findSleepPid(ada.page);
  const answer = ada.page.locator('[data-answer="find-pid"]');
  await answer.getByRole('textbox').fill(pid);
  await answer.getByRole('button').click();
  await expect(stepOf(ada.page, 'find-pid')).toHaveAttribute('data-status', 'passed');
  let changedAt = Date.now();
  await expect(cell(dash, 'Ada', 'find-pid')).toHaveAttribute('data-status', 'passed', { timeout: 5_000 });
  timings.secondStepToDashboardMs = Date.now() - changedAt;
  await run(bo.page, 1, 'unshare -n sleep 600');
  await expect(stepOf(bo.page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  changedAt = Date.now();
  await expect(cell(dash, 'Bo', 'isolate-sleep')).toHaveAttribute('data-status', 'passed', { timeout: 5_000 });
  timings.thirdChangeToDashboardMs = Date.now() - changedAt;
  await expect(reason).toHaveAttribute('data-count', '1');
  await expect(reason.locator('[data-reason-count]')).toHaveText('1 of 3');
  await expect(cell(dash, 'Ada', 'isolate-sleep')).toHaveAttribute('data-saved', 'true');

  // A message to everyone reaches the learners' lesson pages at once.
  await dash.getByRole('textbox', { name: 'Message to everyone' }).fill('Break at 15:00, back at 15:10');
  await dash.getByRole('button', { name: 'Send' }).click();
  await expect(cy.page.locator('[data-notice="workshop-message"]')).toContainText('Break at 15:00, back at 15:10');
  await expect(ada.page.locator('[data-notice="workshop-message"]')).toContainText('Break at 15:00');

  // The instructor opens Ada's terminals read-only: replay and live output, no input.
  await dash.locator('[data-view-terminal="Ada"]').click();
  const viewer = dash.locator('[data-viewer]');
  await expect(viewer).toHaveAttribute('data-viewer-phase', 'live');
  await expect(viewer.locator('[data-viewer-terminal="0"] .xterm-rows')).toContainText('unshare -n sleep 600');
  await run(ada.page, 2, 'echo seen-by-$((6*7))');
  await expect(viewer.locator('[data-viewer-terminal="1"] .xterm-rows')).toContainText('seen-by-42');
  await expect(ada.page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected');
  await viewer.getByRole('button', { name: 'Close' }).click();

  // Authorization: a learner (no instructor session) gets 401 for the dashboard, its feed, exports,
  // anyone's terminal and posting messages.
  const grid = (await (await dash.request.get(`/api/workshops/${workshopId}`)).json()) as { learners: Array<{ learnerId: string; displayName: string }> };
  const boId = grid.learners.find((l) => l.displayName === 'Bo')!.learnerId;
  const adaRequest = ada.page.request;
  expect((await adaRequest.get(`/api/workshops/${workshopId}`)).status()).toBe(401);
  expect((await adaRequest.get(`/api/workshops/${workshopId}/events`)).status()).toBe(401);
  expect((await adaRequest.get(`/api/workshops/${workshopId}/export?format=csv`)).status()).toBe(401);
  const foreignView = await adaRequest.post(`/api/workshops/${workshopId}/viewer`, { data: { learnerId: boId, labId } });
  expect(foreignView.status()).toBe(401);
  expect((await adaRequest.post(`/api/workshops/${workshopId}/messages`, { data: { text: 'hi all' } })).status()).toBe(401);
  const forbiddenPage = await ada.context.newPage();
  await forbiddenPage.goto(`/en/workshops/${workshopId}`);
  await expect(forbiddenPage).toHaveURL(/\/en\/instructor$/); // not signed in as an instructor
  await forbiddenPage.close();
  // Another instructor's session is not enough either; a cross-origin POST is refused.
  const crossOrigin = await dash.request.post(`/api/workshops/${workshopId}/messages`, {
    data: { text: 'from elsewhere' },
    headers: { origin: 'https://evil.example' },
  });
  expect(crossOrigin.status()).toBe(403);

  // Export: CSV and JSON match the grid (Ada: 2 steps, Bo: 1 step, Cy: none), with evidence.
  const csvResponse = await dash.request.get(`/api/workshops/${workshopId}/export?format=csv`);
  expect(csvResponse.status()).toBe(200);
  const csv = (await csvResponse.text()).replace(/^\uFEFF/, '');
  const csvRows = csv.trim().split('\r\n').slice(1).map((line) => line.split(','));
  expect(csvRows.map((r) => `${r[1]}:${r[3]}`).sort()).toEqual(['Ada:find-pid', 'Ada:isolate-sleep', 'Bo:isolate-sleep']);
  const jsonResponse = await dash.request.get(`/api/workshops/${workshopId}/export?format=json`);
  const exported = (await jsonResponse.json()) as {
    records: Array<{ displayName: string; labId: string; steps: Array<{ stepId: string; evidence: Record<string, unknown> }>; verifyPath: string }>;
  };
  // (Records follow join order; the three joined at once.)
  expect(exported.records.map((r) => `${r.displayName}:${r.steps.map((s) => s.stepId).join('+')}`).sort()).toEqual(['Ada:isolate-sleep+find-pid', 'Bo:isolate-sleep']);
  const adaRecord = exported.records.find((r) => r.displayName === 'Ada')!;
  expect(Object.keys(adaRecord.steps[0]!.evidence).length).toBeGreaterThan(0);

  // A signed completion link verifies for anyone, without an account; an altered one does not.
  const anyone = await browser.newContext({ baseURL });
  const anyonePage = await anyone.newPage();
  await anyonePage.goto(adaRecord.verifyPath);
  await expect(anyonePage.locator('[data-completion-valid]')).toHaveAttribute('data-completion-valid', 'true');
  await expect(anyonePage.locator('[data-completion-name]')).toHaveText('Ada');
  await expect(anyonePage.locator('[data-completion-step]')).toHaveCount(2);
  const [body, sig] = adaRecord.verifyPath.split('/').at(-1)!.split('.');
  const claim = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
  claim.name = 'Mallory';
  await anyonePage.goto(`/en/completion/${Buffer.from(JSON.stringify(claim)).toString('base64url')}.${sig}`);
  await expect(anyonePage.locator('[data-completion-valid]')).toHaveAttribute('data-completion-valid', 'false');

  // Ada's resume link restores her identity and progress on another browser.
  await ada.page.goto('/en/me');
  await ada.page.locator('[data-make-resume-link]').click();
  const resumeLink = await ada.page.locator('[data-resume-link]').inputValue();
  expect(resumeLink).toMatch(/\/en\/me\/resume#[A-Za-z0-9_-]{43}$/);
  await anyonePage.goto(resumeLink);
  // The page asks first, showing whose progress the link holds; nothing changes before the click.
  await expect(anyonePage.locator('[data-resume-whose]')).toContainText('“Ada”: 2 steps passed in 1 lab');
  await anyonePage.locator('[data-resume]', { hasText: 'Yes, continue as “Ada”' }).click();
  await expect(anyonePage.locator('[data-resumed]')).toContainText('Welcome back, Ada');
  await anyonePage.goto('/en/me');
  await expect(anyonePage.locator(`[data-completion="${labId}"]`)).toContainText('2 of 4 steps');
  await ada.page.goto(`/en/lessons/${labId}`);
  await expect(ada.page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 30_000 });

  // The app restarts mid-workshop: nothing is lost.
  const restartAt = Date.now();
  await stopServer();
  await startServer();
  timings.restartMs = Date.now() - restartAt;
  await dash.reload();
  await expect(dash.locator('[data-live]')).toHaveAttribute('data-live', 'live', { timeout: 15_000 });
  await expect(cell(dash, 'Ada', 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  await expect(cell(dash, 'Ada', 'find-pid')).toHaveAttribute('data-status', 'passed');
  await expect(cell(dash, 'Bo', 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  await expect(cell(dash, 'Cy', 'isolate-sleep')).not.toHaveAttribute('data-status', 'passed');
  await expect(dash.locator('[data-messages]')).toContainText('Break at 15:00');
  // The learners' pages reconnect to fresh sandboxes with their progress.
  await expect(ada.page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 45_000 });
  await expect(stepOf(ada.page, 'find-pid')).toHaveAttribute('data-status', 'passed');
  await expect(bo.page.locator('[data-connection]')).toHaveAttribute('data-connection', 'connected', { timeout: 45_000 });
  await expect(stepOf(bo.page, 'isolate-sleep')).toHaveAttribute('data-status', 'passed');
  await expect(dash.locator('[data-learner="Ada"] [data-online]')).toHaveAttribute('data-online', 'true', { timeout: 10_000 });

  // Extend, then end: the learners' sandboxes are torn down, no one can join any more.
  const endsBefore = Number(await dash.locator('[data-ends-at]').getAttribute('data-ends-at'));
  await dash.locator('[data-extend="15"]').click();
  await expect.poll(async () => Number(await dash.locator('[data-ends-at]').getAttribute('data-ends-at'))).toBe(endsBefore + 15 * 60_000);
  dash.once('dialog', (dialog) => void dialog.accept());
  await dash.locator('[data-end-workshop]').click();
  await expect(dash.locator('[data-ends-at]')).toHaveAttribute('data-ended', 'true');
  await expect(ada.page.locator('[data-connection]')).toHaveAttribute('data-connection', 'ended', { timeout: 10_000 });
  await expect(bo.page.locator('[data-connection]')).toHaveAttribute('data-connection', 'ended', { timeout: 10_000 });
  await expect(dash.locator('[data-learner="Ada"] [data-online]')).toHaveAttribute('data-online', 'false', { timeout: 10_000 });
  await latePage.getByRole('button', { name: 'Join' }).click();
  await expect(latePage.locator('[data-join-error]')).toHaveText('This workshop has ended.');

  console.log(`workshop timings: ${JSON.stringify(timings)}`);
  for (const context of [instructorContext, ada.context, bo.context, cy.context, late, anyone]) await context.close();
});
