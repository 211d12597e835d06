// End-to-end tests: a learner in Chromium against the whole product (app + agent + real sandboxes)
// served on one port by scripts/start.mjs. Run: npx playwright test (or E2E_BASE_URL=... to use a
// server that is already running).
import { defineConfig } from '@playwright/test';

// E2E_PORT / E2E_AGENT_PORT let two runs share a machine (each starts its own app and agent).
const port = Number(process.env.E2E_PORT ?? 3100);
const agentPort = Number(process.env.E2E_AGENT_PORT ?? 7171);
const external = process.env.E2E_BASE_URL;
const baseURL = external ?? `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  retries: 0,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: external
    ? undefined
    : {
        // exec: the server gets Playwright's SIGTERM itself and tears its sandboxes down.
        command: 'exec node scripts/start.mjs',
        gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
        url: `${baseURL}/en`,
        env: { PORT: String(port), AGENT_PORT: String(agentPort), NEXT_TELEMETRY_DISABLED: '1', NSLAB_WORKSHOP_SWEEP_MS: '1000' },
        reuseExistingServer: !process.env.CI,
        timeout: 300_000,
        stdout: 'pipe',
        stderr: 'pipe',
      },
});
