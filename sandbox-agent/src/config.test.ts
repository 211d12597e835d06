import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config';

const good = { AGENT_SECRET: 's'.repeat(32), AGENT_ALLOWED_ORIGINS: 'http://localhost:3000, https://labs.example.org:443' };

test('valid env gives defaults and normalised origins', () => {
  const config = loadConfig(good);
  assert.equal(config.AGENT_PORT, 7071);
  assert.equal(config.AGENT_HOST, '127.0.0.1');
  assert.deepEqual(config.AGENT_ALLOWED_ORIGINS, ['http://localhost:3000', 'https://labs.example.org']);
});

test('bad values fail fast naming each variable', () => {
  const bad = { AGENT_SECRET: 'short', AGENT_ALLOWED_ORIGINS: 'ftp://x', AGENT_PORT: '70000', AGENT_IDLE_GRACE_MS: 'soon' };
  assert.throws(
    () => loadConfig(bad),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      for (const name of ['AGENT_SECRET', 'AGENT_ALLOWED_ORIGINS', 'AGENT_PORT', 'AGENT_IDLE_GRACE_MS']) {
        assert.match(error.message, new RegExp(name));
      }
      return true;
    },
  );
});

test('missing required variables are named', () => {
  assert.throws(() => loadConfig({}), /AGENT_SECRET: is required[\s\S]*AGENT_ALLOWED_ORIGINS: is required/);
});
