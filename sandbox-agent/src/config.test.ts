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

test('WebSocket and idle limits: defaults, bounds and the warning-before-idle rule', () => {
  const config = loadConfig(good);
  assert.equal(config.AGENT_WS_PING_MS, 15_000);
  assert.equal(config.AGENT_INPUT_IDLE_MS, 3_600_000);
  assert.equal(config.AGENT_MAX_VIEWERS_PER_SESSION, 4);
  assert.equal(loadConfig({ ...good, AGENT_INPUT_IDLE_MS: '0', AGENT_IDLE_WARNING_MS: '0' }).AGENT_INPUT_IDLE_MS, 0);
  for (const [name, value] of [
    ['AGENT_WS_PING_MS', '50'],
    ['AGENT_WS_PING_MS', 'fast'],
    ['AGENT_WS_PING_MS', '999999999'],
    ['AGENT_INPUT_IDLE_MS', '500'],
    ['AGENT_SLOW_CONSUMER_MS', '10'],
    ['AGENT_MAX_SOCKETS_PER_IP', '0'],
    ['AGENT_MAX_SOCKETS', '-1'],
    ['AGENT_MAX_VIEWERS_PER_SESSION', '65'],
    ['AGENT_WS_MAX_BUFFERED_BYTES', '1024'],
  ] as const) {
    assert.throws(() => loadConfig({ ...good, [name]: value }), (error: unknown) => error instanceof ConfigError && error.message.includes(name), `${name}=${value}`);
  }
  assert.throws(
    () => loadConfig({ ...good, AGENT_INPUT_IDLE_MS: '60000', AGENT_IDLE_WARNING_MS: '60000' }),
    /AGENT_IDLE_WARNING_MS: must be smaller than AGENT_INPUT_IDLE_MS/,
  );
});
