import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPasses, clone, forged, gradeAll, loadFixture, statuses, testDefinition } from '../core/test-support';
import { userNamespace } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);

describe('user-namespace', () => {
  testDefinition(userNamespace, ['root-inside', 'read-uid-map', 'caps-scope']);

  test('recorded: done right passes every step, citing the map 0 0 1 and CapEff', () => {
    const obs = load('recorded-done');
    const r = assertPasses(userNamespace, obs, ['root-inside', 'read-uid-map', 'caps-scope']);
    assert.match(r['root-inside']!.message!.en, /uid 0 in user:\[\d+\], whose uid_map is `0 0 1`/);
    assert.match(r['read-uid-map']!.message!.en, /printed `0 0 1`/);
    assert.match(r['caps-scope']!.message!.en, /CapEff 000001ffffffffff\) named uts:\[\d+\] "box" \(that user namespace owns it\); .* owned by user:\[\d+\], is still "nslab"/);
    assert.equal(r['caps-scope']!.evidence.fullCaps, true);
    // The host side read the nested namespace's owner and parent.
    const nested = obs.snapshot.userns!.find((u) => u.inode !== obs.snapshot.sandbox.baseNs.user)!;
    assert.equal(nested.parentInode, obs.snapshot.sandbox.baseNs.user);
    assert.equal(nested.ownerHostUid, obs.snapshot.sandbox.uidBase);
  });

  test('recorded: unshare -U without -r (empty map, nobody) fails every step', () => {
    const r = gradeAll(userNamespace, load('recorded-no-map'));
    assert.deepEqual(statuses(r), { 'root-inside': 'failed', 'read-uid-map': 'failed', 'caps-scope': 'failed' });
    assert.match(r['root-inside']!.message!.en, /uid_map is empty: inside, it is uid 65534/);
    assert.match(r['root-inside']!.hint!.en, /-r/);
  });

  test('a uid_map read in the sandbox itself (0 <host base> 65536) does not count', () => {
    const obs = clone(load('recorded-done'));
    const cat = obs.transcript.find((c) => /uid_map/.test(c.command))!;
    cat.output = `         0    ${obs.snapshot.sandbox.uidBase}      65536\n`;
    assert.equal(gradeAll(userNamespace, obs)['read-uid-map']?.status, 'failed');
  });

  test('hostname changed in a UTS namespace outside the new user namespace does not count', () => {
    const obs = clone(load('recorded-done'));
    for (const p of obs.snapshot.processes) p.ns.user = obs.snapshot.sandbox.baseNs.user!;
    assert.equal(gradeAll(userNamespace, obs)['caps-scope']?.status, 'failed');
  });
});

describe('user-namespace forgeries (issue 13)', () => {
  const done = () => load('recorded-done');
  const isMap = (c: string) => c.includes('uid_map');

  test('read-uid-map passes on a reader of the file and stays failed on a printed map', () => {
    const real = forged(done(), isMap, [{ terminal: 0, command: 'cat /proc/self/uid_map', output: '         0          0          1\n', exitCode: 0 }]);
    assert.equal(gradeAll(userNamespace, real)['read-uid-map']?.status, 'passed');
    for (const command of ["echo '0 0 1' # /proc/self/uid_map", "cat /proc/self/uid_map /tmp/map", "cat /proc/self/uid_map; echo '0 0 1'", 'grep 0 < /tmp/map # /proc/self/uid_map']) {
      const obs = forged(done(), isMap, [{ terminal: 0, command, output: '0 0 1\n', exitCode: 0 }]);
      assert.equal(gradeAll(userNamespace, obs)['read-uid-map']?.status, 'failed', command);
    }
  });

  test('caps-scope: the renamed UTS namespace must be owned by the nested user namespace (NS_GET_USERNS)', () => {
    const r = gradeAll(userNamespace, load('recorded-uts-outside-userns'));
    assert.equal(r['caps-scope']?.status, 'failed');
    assert.match(r['caps-scope']!.message!.en, /is owned by user:\[\d+\], not by user:\[\d+\] where/);
    assert.match(r['caps-scope']!.message!.zh, /属于 user:\[\d+\]/);
    // the same forgery on the real solution's state: the owner swapped for the sandbox's user namespace
    const obs = clone(done());
    const base = obs.snapshot.sandbox.baseNs.user!;
    for (const u of obs.snapshot.uts) u.ownerUserns = base;
    assert.equal(gradeAll(userNamespace, obs)['caps-scope']?.status, 'failed');
    // an agent that could not read owners proves nothing
    for (const u of obs.snapshot.uts) delete u.ownerUserns;
    assert.match(gradeAll(userNamespace, obs)['caps-scope']!.message!.en, /could not read which user namespace owns/);
  });
});
