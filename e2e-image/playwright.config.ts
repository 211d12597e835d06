// Playwright against the container image (scripts/test-image.mjs starts it and sets
// NSLAB_IMAGE_URL). Kept out of the default e2e run: that one's testDir is e2e/. Browser settings
// are the main config's (Debian's Chromium, headless, no background networking).
import { defineConfig } from '@playwright/test';
import base from '../playwright.config';

const baseURL = process.env.NSLAB_IMAGE_URL;
if (!baseURL) throw new Error('NSLAB_IMAGE_URL is not set: run `npm run test:image`, which starts the container');

export default defineConfig({
  ...base,
  testDir: '.',
  outputDir: '../test-results/image',
  webServer: undefined,
  reporter: [['list']],
  use: { ...base.use, baseURL },
});
