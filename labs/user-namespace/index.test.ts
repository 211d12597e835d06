import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabShape, clone, gradeAll, loadFixture, statuses } from '../core/testing/fixtures';
import { userNamespace } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);

describe('user-namespace', () => {
  test('lab shape', () => {
    assertLabShape(userNamespace);
    assert.deepEqual(userNamespace.steps.map((s) => s.id), ['root-inside', 'read-uid-map', 'caps-scope']);
  });

  test('recorded: done right passes every step, citing the map 0 0 1 and CapEff', () => {
    const obs = load('recorded-done');
    const r = gradeAll(userNamespace, obs);
    for (const id of ['root-inside', 'read-uid-map', 'caps-scope']) assert.equal(r[id]?.status, 'passed', `${id}: ${r[id]?.message?.en}`);
    assert.match(r['root-inside']!.message!.en, /uid 0 in user:\[\d+\], whose uid_map is `0 0 1`/);
    assert.match(r['read-uid-map']!.message!.en, /printed `0 0 1`/);
    assert.match(r['caps-scope']!.message!.en, /CapEff 000001ffffffffff\) named uts:\[\d+\] "box"; .* is still "nslab"/);
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
