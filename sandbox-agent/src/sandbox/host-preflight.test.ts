import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHost, kernelFloor, upstreamKernelVersion, type HostFacts } from './host-preflight';

const ok: HostFacts = {
  release: '6.1.0-28-amd64',
  namespaces: ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'pid_for_children', 'time', 'time_for_children', 'user', 'uts'],
  maxUserNamespaces: 63_000,
  unprivilegedUsernsClone: null,
  apparmorRestrictUserns: null,
  apparmorProfiles: [],
  apparmorExecAttr: '/proc/self/attr/apparmor/exec',
  kernelFloorSetting: 'enforce',
};

describe('host preflight', () => {
  test('kernel floor of SECURITY.md', () => {
    for (const r of ['6.8.0-45-generic', '6.18.44', '6.1.76', '6.1.176', '6.6.15', '5.15.149-1', '5.10.209'])
      assert.ok(kernelFloor(r).ok, r);
    for (const r of ['6.1.75', '6.5.0', '5.14.0-427.el9.x86_64', '5.15.0', 'garbage']) assert.equal(kernelFloor(r).ok, false, r);
  });

  test('distribution kernels are judged by their upstream version, not the ABI in uname -r', () => {
    assert.equal(
      upstreamKernelVersion(
        '6.1.0-28-amd64',
        'Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)\n',
        null,
      ),
      '6.1.119',
    );
    assert.equal(
      upstreamKernelVersion(
        '5.15.0-125-generic',
        'Linux version 5.15.0-125-generic (buildd@lcy02-amd64-036) #135-Ubuntu SMP\n',
        'Ubuntu 5.15.0-125.135-generic 5.15.167\n',
      ),
      '5.15.167',
    );
    assert.equal(upstreamKernelVersion('6.18.44-fc', 'Linux version 6.18.44-fc (gcc 12)\n', null), '6.18.44-fc');
  });

  test('a stock host passes; a kernel below the floor does not, unless told to warn', () => {
    assert.equal(checkHost({ ...ok, release: '6.1.0', kernelFloorSetting: 'warn' }).kernelFloorOk, false);
    const stock = checkHost({ ...ok, release: '6.1.119-1' });
    assert.equal(stock.kernelFloorOk, true);
    assert.deepEqual(stock.warnings, []);
    assert.equal(stock.apparmorProfile, null);
    assert.throws(() => checkHost({ ...ok, release: '5.14.0-427.el9.x86_64' }), /below the floor.*AGENT_KERNEL_FLOOR=warn/);
    const rhel = checkHost({ ...ok, release: '5.14.0-427.el9.x86_64', kernelFloorSetting: 'warn' });
    assert.match(rhel.warnings[0]!, /below the floor/);
    assert.throws(() => checkHost({ ...ok, kernelFloorSetting: 'off' }), /AGENT_KERNEL_FLOOR must be "enforce" or "warn"/);
  });

  test('user namespace limits name the sysctl to set', () => {
    const base = { ...ok, release: '6.8.0' };
    assert.throws(
      () => checkHost({ ...base, maxUserNamespaces: 0 }),
      /user.max_user_namespaces is 0.*sysctl -w user.max_user_namespaces=15000/,
    );
    assert.throws(() => checkHost({ ...base, unprivilegedUsernsClone: 0 }), /sysctl -w kernel.unprivileged_userns_clone=1/);
    assert.throws(
      () => checkHost({ ...base, namespaces: base.namespaces.filter((n) => n !== 'cgroup') }),
      /no cgroup namespaces/,
    );
  });

  test('Ubuntu 23.10+ AppArmor restriction: the advice without the profile, the profile used when loaded', () => {
    const ubuntu = { ...ok, release: '6.8.0-45-generic', apparmorRestrictUserns: 1 };
    const without = checkHost(ubuntu);
    assert.equal(without.apparmorRestrictsUserns, true);
    assert.equal(without.apparmorProfile, null);
    assert.match(without.apparmorAdvice, /apparmor_parser -r \/etc\/apparmor.d\/nslab-sandbox/);
    assert.match(without.apparmorAdvice, /kernel.apparmor_restrict_unprivileged_userns=0/);
    const loaded = checkHost({ ...ubuntu, apparmorProfiles: ['nslab-sandbox', 'unprivileged_userns'] });
    assert.equal(loaded.apparmorProfile, 'nslab-sandbox');
    assert.throws(
      () => checkHost({ ...ubuntu, apparmorProfiles: ['nslab-sandbox'], apparmorExecAttr: null }),
      /attr\/exec is missing/,
    );
  });
});
