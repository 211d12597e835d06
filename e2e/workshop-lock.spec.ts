// Issue 4's last gaps, end to end against the real app (scripts/start.mjs, the config's server):
//   - instructor sessions are revocable: a copied cookie dies with sign-out, "sign out everywhere"
//     kills every browser's session (401 on the API, the pages go back to sign-in);
//   - API errors are { code, error } in the learner's language: the zh join page shows the zh
//     message for a wrong code; Accept-Language is the fallback;
//   - an ended workshop locks its lessons for its members (zh page with their progress, 410 and no
//     sandbox from the session API), extending it is refused (409), a self-paced learner is unaffected.
// The learner's earned step is written through the data layer (the same var/ database the server
// uses), standing in for a step the agent would have stored; no sandbox is needed for the lock.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type APIRequestContext } from '@playwright/test';
import { openDatabase } from '../app/_lib/db/database';
import { recordStepResult } from '../app/_lib/db/repository';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const labId = 'exercise-net-namespace';
const email = `lock-${randomBytes(4).toString('hex')}@example.org`;
const password = 'a long lock-test password';

test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  execFileSync(process.execPath, ['--import', 'tsx', 'app/_lib/db/cli.ts', 'create-instructor', '--email', email], {
    cwd: root,
    env: { ...process.env, NSLAB_INSTRUCTOR_PASSWORD: password },
    stdio: 'pipe',
  });
});

async function signIn(request: APIRequestContext): Promise<void> {
  const response = await request.post('/api/auth/sign-in', { data: { email, password } });
  expect(response.status()).toBe(200);
}

test('instructor sessions: sign-out and "sign out everywhere" revoke cookies before they expire', async ({ browser }) => {
  const laptop = await browser.newContext();
  await signIn(laptop.request);
  expect((await laptop.request.get('/api/workshops')).status()).toBe(200);

  // The same cookie copied to another browser works... until the laptop signs out.
  const copy = await browser.newContext();
  await copy.addCookies((await laptop.cookies()).filter((c) => c.name === 'nslab_instructor'));
  expect((await copy.request.get('/api/workshops')).status()).toBe(200);
  const signOut = await laptop.request.post('/api/auth/sign-out', { data: {} });
  expect(await signOut.json()).toEqual({ ok: true, revoked: 1 });
  const revoked = await copy.request.get('/api/workshops?locale=zh');
  expect(revoked.status()).toBe(401);
  expect(await revoked.json()).toEqual({ code: 'sign_in_required', error: '请先以讲师身份登录（你的登录已过期或已被退出）。', locale: 'zh' });
  const copyPage = await copy.newPage();
  await copyPage.goto('/en/workshops');
  await expect(copyPage).toHaveURL(/\/en\/instructor$/);

  // Two browsers signed in; "sign out everywhere" from one ends both, on every instructor API.
  const phone = await browser.newContext();
  await signIn(laptop.request);
  await signIn(phone.request);
  const created = await phone.request.post('/api/workshops', {
    data: { title: 'Revocation', lessons: [labId], capacity: 2, startsAt: Date.now() - 60_000, endsAt: Date.now() + 3_600_000 },
  });
  expect(created.status()).toBe(201);
  const { workshop } = (await created.json()) as { workshop: { id: string } };
  expect((await laptop.request.get(`/api/workshops/${workshop.id}`)).status()).toBe(200);
  const page = await laptop.newPage();
  await page.goto('/en/workshops');
  page.once('dialog', (dialog) => void dialog.accept());
  await page.locator('[data-sign-out="everywhere"]').click();
  await expect(page).toHaveURL(/\/en\/instructor$/);
  for (const call of [
    phone.request.get('/api/workshops'),
    phone.request.get(`/api/workshops/${workshop.id}`),
    phone.request.get(`/api/workshops/${workshop.id}/export?format=csv`),
    phone.request.post(`/api/workshops/${workshop.id}/extend`, { data: { minutes: 15 } }),
    phone.request.post(`/api/workshops/${workshop.id}/end`, { data: {} }),
  ]) {
    const response = await call;
    expect(response.status()).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe('sign_in_required');
  }
  const phonePage = await phone.newPage();
  await phonePage.goto(`/zh/workshops/${workshop.id}`);
  await expect(phonePage).toHaveURL(/\/zh\/instructor$/);
  for (const context of [laptop, copy, phone]) await context.close();
});

test('zh: a wrong code gets the zh error; an ended workshop closes its lessons for its members', async ({ browser }) => {
  const instructor = await browser.newContext();
  await signIn(instructor.request);
  const created = await instructor.request.post('/api/workshops', {
    data: { title: '命名空间工作坊', lessons: [labId], capacity: 5, startsAt: Date.now() - 60_000, endsAt: Date.now() + 3_600_000 },
  });
  expect(created.status()).toBe(201);
  const { workshop } = (await created.json()) as { workshop: { id: string; code: string } };

  // The zh join page: a wrong code shows the zh message the API sent.
  const learner = await browser.newContext();
  const page = await learner.newPage();
  await page.goto('/zh/join');
  await page.getByLabel('工作坊加入码').fill('AAA-AAA');
  await page.getByLabel('你的名字').fill('小明');
  await page.getByRole('button', { name: '加入' }).click();
  await expect(page.locator('[data-join-error]')).toHaveText('没有使用这个加入码的工作坊。请向讲师核对。');
  // Without an explicit locale, Accept-Language decides.
  const byHeader = await learner.request.post('/api/workshops/join', { data: { code: 'AAA-AAA', name: 'x' }, headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
  expect(await byHeader.json()).toEqual({ code: 'join_not_found', error: '没有使用这个加入码的工作坊。请向讲师核对。', locale: 'zh' });

  // The right code joins; the learner earned one step.
  const joined = await learner.request.post('/api/workshops/join', { data: { code: workshop.code, name: '小明', locale: 'zh' } });
  expect(joined.status()).toBe(200);
  const grid = (await (await instructor.request.get(`/api/workshops/${workshop.id}`)).json()) as { learners: Array<{ learnerId: string }> };
  const learnerId = grid.learners[0]!.learnerId;
  const database = await openDatabase({ sqlitePath: path.join(root, 'var/nslab.sqlite') });
  try {
    await recordStepResult(database.db, { learnerId, labId, stepId: 'isolate-sleep', evidence: { sleepPid: 4242 }, passedAt: Date.now() });
  } finally {
    await database.close();
  }

  // The instructor ends it: the lesson page is closed, in zh, with the progress and the records link.
  expect((await instructor.request.post(`/api/workshops/${workshop.id}/end`, { data: {} })).status()).toBe(200);
  await page.goto(`/zh/lessons/${labId}`);
  await expect(page.locator(`[data-workshop-ended="${workshop.id}"]`)).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('这个工作坊已经结束');
  await expect(page.locator('[data-workshop-ended-message]')).toContainText('命名空间工作坊');
  await expect(page.locator('[data-locked-step="isolate-sleep"]')).toBeVisible();
  await expect(page.locator('[data-locked-records]')).toHaveAttribute('href', '/zh/me');
  await expect(page.locator('[data-terminal]')).toHaveCount(0);
  // No sandbox through the API either.
  const session = await learner.request.post('/api/sessions', { data: { labId, locale: 'zh' } });
  expect(session.status()).toBe(410);
  expect(await session.json()).toMatchObject({ code: 'workshop_ended', locale: 'zh', workshopId: workshop.id, error: expect.stringContaining('工作坊已经结束') });
  // Their progress is still theirs.
  await page.locator('[data-locked-records]').click();
  await expect(page.locator(`[data-completion="${labId}"]`)).toContainText('1 / 4 步');

  // Extending the ended workshop is refused and reopens nothing.
  const extend = await instructor.request.post(`/api/workshops/${workshop.id}/extend`, { data: { minutes: 30, locale: 'en' } });
  expect(extend.status()).toBe(409);
  expect(((await extend.json()) as { code: string }).code).toBe('workshop_already_ended');
  expect((await learner.request.post('/api/sessions', { data: { labId } })).status()).toBe(410);
  // Joining it now: the zh "ended" message.
  const late = await browser.newContext();
  const lateJoin = await late.request.post('/api/workshops/join', { data: { code: workshop.code, name: '迟到', locale: 'zh' } });
  expect(lateJoin.status()).toBe(410);
  expect(await lateJoin.json()).toEqual({ code: 'join_ended', error: '这个工作坊已经结束。', locale: 'zh' });

  // A self-paced learner (no workshop) still gets a sandbox for the same lab.
  const selfPaced = await late.request.post('/api/sessions', { data: { labId, locale: 'zh' } });
  expect(selfPaced.status()).toBe(200);
  for (const context of [instructor, learner, late]) await context.close();
});

test('a workshop that reaches its end time ends by itself: the open terminal is told, the sandbox goes, the lesson locks', async ({ browser }) => {
  const instructor = await browser.newContext();
  await signIn(instructor.request);
  const endsAt = Date.now() + 15_000;
  const created = await instructor.request.post('/api/workshops', {
    data: { title: 'Short class', lessons: [labId], capacity: 3, startsAt: Date.now() - 60_000, endsAt },
  });
  expect(created.status()).toBe(201);
  const { workshop } = (await created.json()) as { workshop: { id: string; code: string } };
  const learner = await browser.newContext();
  expect((await learner.request.post('/api/workshops/join', { data: { code: workshop.code, name: 'Kim', locale: 'en' } })).status()).toBe(200);
  const page = await learner.newPage();
  await page.goto(`/en/lessons/${labId}`);
  await expect(page.locator('[data-terminal="1"] .xterm-rows')).toContainText('#', { timeout: 30_000 });
  // Nobody presses "End": the app's sweep (NSLAB_WORKSHOP_SWEEP_MS=1000 in this config) ends it.
  await expect(page.locator('[data-session-banner="ended"]')).toBeVisible({ timeout: Math.max(5_000, endsAt - Date.now() + 15_000) });
  const banner = page.locator('[data-session-banner="ended"]');
  await expect(banner).toHaveAttribute('data-ended-reason', 'workshop');
  await expect(banner).toContainText('Your workshop has ended');
  // No "start a new sandbox" here: the way on is the learner's progress.
  await banner.getByRole('button', { name: 'See my progress' }).click();
  await expect(page).toHaveURL(/\/en\/me$/);
  await page.goto(`/en/lessons/${labId}`);
  await expect(page.locator(`[data-workshop-ended="${workshop.id}"]`)).toBeVisible();
  await expect(page.locator('[data-terminal]')).toHaveCount(0);
  expect((await learner.request.post('/api/sessions', { data: { labId } })).status()).toBe(410);
});
