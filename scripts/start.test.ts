// The launcher refuses bad configuration before it builds, starts or writes anything: exit 78 and
// a message that names the variable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const start = path.resolve(import.meta.dirname, 'start.mjs');

function launch(env: Record<string, string>) {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  return spawnSync(process.execPath, [start], { env: { ...clean, ...env } as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 20_000 });
}

test('bad env values stop the launch with exit 78 and the variable named', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /PORT must be a whole number, got "abc"/],
    [{ PORT: '70000' }, /PORT must be between 1 and 65535, got 70000/],
    [{ PORT: '3000', AGENT_PORT: '3000' }, /AGENT_PORT \(3000\) must differ from PORT/],
    [{ NSLAB_WORKSHOP_SWEEP_MS: '5' }, /NSLAB_WORKSHOP_SWEEP_MS must be between 500 and 600000, got 5/],
    [{ NSLAB_WORKSHOP_SWEEP_MS: 'soon' }, /NSLAB_WORKSHOP_SWEEP_MS must be a whole number/],
    [{ HOST: 'not a host' }, /HOST must be an IP address or localhost/],
    [{ PUBLIC_URL: 'labs example' }, /PUBLIC_URL must be a URL/],
    [{ AGENT_SECRET: 'short' }, /AGENT_SECRET must be at least 32 characters/],
    [{ NSLAB_ADMISSION: 'closed' }, /NSLAB_ADMISSION must be one of open, public, workshop-only, got "closed"/],
    [{ NSLAB_TRUSTED_PROXIES: 'proxy.local' }, /NSLAB_TRUSTED_PROXIES must list IP addresses or CIDRs .*got "proxy.local"/],
    [{ NSLAB_CLIENT_MAX_SANDBOXES: '0' }, /NSLAB_CLIENT_MAX_SANDBOXES must be between 1 and 5000, got 0/],
  ];
  for (const [env, message] of cases) {
    const run = launch(env);
    assert.equal(run.status, 78, `${JSON.stringify(env)}: exit ${run.status}\n${run.stderr}`);
    assert.match(run.stderr, message, JSON.stringify(env));
    assert.doesNotMatch(run.stdout, /building|ready on/);
  }
});
