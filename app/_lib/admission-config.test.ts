import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdmissionConfigError, parseAdmissionConfig, parseCidr } from './admission-config.mjs';

test('defaults: open mode, no trusted proxy, classroom-sized quotas', () => {
  const c = parseAdmissionConfig({});
  assert.equal(c.mode, 'open');
  assert.deepEqual(c.trustedProxies, []);
  assert.deepEqual([c.learnerMaxSandboxes, c.learnerStartsPerMin, c.clientMaxSandboxes, c.clientStartsPerMin, c.clientMaxStarting], [16, 30, 40, 30, 2]);
});

test('public mode holds learners outside a workshop harder; explicit values win', () => {
  const p = parseAdmissionConfig({ NSLAB_ADMISSION: 'public' });
  assert.ok(p.clientMaxSandboxes < parseAdmissionConfig({}).clientMaxSandboxes);
  assert.equal(parseAdmissionConfig({ NSLAB_ADMISSION: 'public', NSLAB_CLIENT_MAX_SANDBOXES: '9' }).clientMaxSandboxes, 9);
  assert.equal(parseAdmissionConfig({ NSLAB_ADMISSION: 'workshop-only' }).mode, 'workshop-only');
});

test('trusted proxies: addresses and CIDRs, v4 and v6, comma or space separated', () => {
  const c = parseAdmissionConfig({ NSLAB_TRUSTED_PROXIES: '10.0.0.5, 192.168.0.0/16 fd00::/8  ::1 ::ffff:172.16.0.1' });
  assert.deepEqual(
    c.trustedProxies.map((x) => `${x.address}/${x.prefix}`),
    ['10.0.0.5/32', '192.168.0.0/16', 'fd00::/8', '::1/128', '172.16.0.1/32'],
  );
  assert.equal(parseCidr('10.0.0.0/33'), null);
  assert.equal(parseCidr('example.org'), null);
});

test('bad values are refused with one line per variable, naming it', () => {
  const bad = {
    NSLAB_ADMISSION: 'closed',
    NSLAB_TRUSTED_PROXIES: '10.0.0.1,proxy.local,10.0.0.0/40',
    NSLAB_LEARNER_MAX_SANDBOXES: '0',
    NSLAB_LEARNER_STARTS_PER_MIN: 'many',
    NSLAB_CLIENT_MAX_SANDBOXES: '-3',
    NSLAB_CLIENT_STARTS_PER_MIN: '1e3',
    NSLAB_CLIENT_MAX_STARTING: '100',
  };
  assert.throws(
    () => parseAdmissionConfig(bad),
    (e: unknown) => {
      assert.ok(e instanceof AdmissionConfigError);
      const text = e.message;
      assert.match(text, /NSLAB_ADMISSION must be one of open, public, workshop-only, got "closed"/);
      assert.match(text, /NSLAB_TRUSTED_PROXIES must list IP addresses or CIDRs .* got "proxy.local"/);
      assert.match(text, /NSLAB_TRUSTED_PROXIES .* got "10.0.0.0\/40"/);
      assert.match(text, /NSLAB_LEARNER_MAX_SANDBOXES must be between 1 and 50, got 0/);
      assert.match(text, /NSLAB_LEARNER_STARTS_PER_MIN must be a whole number, got "many"/);
      assert.match(text, /NSLAB_CLIENT_MAX_SANDBOXES must be a whole number, got "-3"/);
      assert.match(text, /NSLAB_CLIENT_STARTS_PER_MIN must be a whole number, got "1e3"/);
      assert.match(text, /NSLAB_CLIENT_MAX_STARTING must be between 1 and 64, got 100/);
      assert.equal(e.problems.length, 8);
      return true;
    },
  );
});
