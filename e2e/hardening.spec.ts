// Issue 12's app hardening, end to end in Chromium against the real app (scripts/start.mjs):
//   - malformed percent-encoding in /join/<code>, /completion/<token> (any path) is a clear 400 page
//     from the launcher, not Next's 500;
//   - a resume link asks first: the page shows whose progress the link holds and what it replaces
//     on this browser (en and zh), and only the explicit confirm switches the identity.
import { expect, test, type APIRequestContext } from '@playwright/test';

for (const url of ['/en/join/%E0', '/en/completion/%E0', '/zh/join/%E0%A4', '/en/lessons/%FF']) {
  test(`${url} answers 400 with a clear page (en + zh), not 500`, async ({ page }) => {
    const response = await page.goto(url);
    expect(response?.status()).toBe(400);
    await expect(page.getByText('This address is not valid.')).toBeVisible();
    await expect(page.getByText('这个网址无效')).toBeVisible();
  });
}

async function named(request: APIRequestContext, name: string): Promise<void> {
  const r = await request.post('/api/me/name', { data: { name } });
  expect(r.status()).toBe(200);
}

for (const locale of ['en', 'zh'] as const) {
  test(`a resume link asks before it switches identity (${locale})`, async ({ browser }) => {
    const owner = await browser.newContext();
    await named(owner.request, 'Ann');
    const link = await owner.request.post('/api/me/resume-link', { data: { locale } });
    expect(link.status()).toBe(200);
    const { path } = (await link.json()) as { path: string };

    const other = await browser.newContext();
    await named(other.request, 'Bea');
    const page = await other.newPage();
    await page.goto(path);
    const whose = page.locator('[data-resume-whose]');
    await expect(whose).toContainText(locale === 'en' ? '“Ann”: 0 steps passed in 0 labs' : '“Ann”的进度');
    await expect(page.locator('[data-resume-replaces]')).toContainText(locale === 'en' ? 'This browser is now “Bea”' : '这个浏览器目前是“Bea”');
    // Nothing has changed yet: this browser is still Bea.
    const before = (await (await other.request.get('/api/me')).json()) as { learner: { displayName: string } };
    expect(before.learner.displayName).toBe('Bea');
    await page.locator('[data-resume]').click();
    await expect(page.locator('[data-resumed]')).toContainText('Ann');
    const after = (await (await other.request.get('/api/me')).json()) as { learner: { displayName: string } };
    expect(after.learner.displayName).toBe('Ann');
    await owner.close();
    await other.close();
  });
}
