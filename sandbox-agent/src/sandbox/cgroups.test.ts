// Layout detection on recorded host layouts (mountinfo + /proc/self/cgroup + the files detection
// reads). The writes themselves run on real kernels: the hybrid host in the integration stage, a
// cgroup2-only kernel in the stock-kernel stage (cgroups.stock-kernel.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CgroupLayout, CgroupLayoutError, parseCgroupMounts, parseSelfCgroup, sandboxesCeiling, type HostView } from './cgroups';

const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_SELF = `9:name=systemd:/
8:pids:/
4:memory:/process_api/e306
1:cpu:/
0::/
`;
const V2_MOUNTINFO = `25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

function host(mountinfo: string, selfCgroup: string, files: Record<string, string>): HostView {
  return { mountinfo, selfCgroup, exists: (p) => p in files, read: (p) => files[p] ?? null };
}

describe('cgroup layout detection', () => {
  test('parses mountinfo and /proc/self/cgroup', () => {
    const mounts = parseCgroupMounts(HYBRID_MOUNTINFO);
    assert.deepEqual(
      mounts.map((m) => [m.point, m.version, m.controllers.join()]),
      [
        ['/sys/fs/cgroup/cpu', 1, 'cpu'],
        ['/sys/fs/cgroup/cpuacct', 1, 'cpuacct'],
        ['/sys/fs/cgroup/memory', 1, 'memory'],
        ['/sys/fs/cgroup/pids', 1, 'pids'],
        ['/sys/fs/cgroup/systemd', 1, ''],
        ['/sys/fs/cgroup/unified', 2, ''],
      ],
    );
    const self = parseSelfCgroup(HYBRID_SELF);
    assert.equal(self.v2, '/');
    assert.equal(self.v1.get('memory'), '/process_api/e306');
  });

  test('hybrid host: every controller in v1 at its root, cgroup2 (unified) for listing and kill', () => {
    const l = CgroupLayout.detect(
      'auto',
      host(HYBRID_MOUNTINFO, HYBRID_SELF, { '/sys/fs/cgroup/unified/cgroup.controllers': '\n' }),
    );
    assert.equal(l.mode, 'root');
    assert.deepEqual(l.parentDirs('nslab'), [
      '/sys/fs/cgroup/unified/nslab',
      '/sys/fs/cgroup/pids/nslab',
      '/sys/fs/cgroup/memory/nslab',
      '/sys/fs/cgroup/cpu/nslab',
    ]);
    assert.equal(l.controllerDir('nslab', 'x', 'memory'), '/sys/fs/cgroup/memory/nslab/x');
    assert.match(l.describe(), /hybrid/);
  });

  test('cgroup v2 host: one hierarchy, at the root', () => {
    const l = CgroupLayout.detect(
      'auto',
      host(V2_MOUNTINFO, '0::/user.slice/user-0.slice/session-1.scope\n', {
        '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
      }),
    );
    assert.equal(l.mode, 'root');
    assert.deepEqual(l.parentDirs('nslab'), ['/sys/fs/cgroup/nslab']);
    assert.deepEqual(l.sandboxDirs('nslab', 's1'), { v2: '/sys/fs/cgroup/nslab/s1', all: ['/sys/fs/cgroup/nslab/s1'] });
    assert.match(l.describe(), /^cgroup v2, at the root/);
  });

  test('a container with its own cgroup namespace: the delegated subtree, found without being told', () => {
    const files = { '/sys/fs/cgroup/cgroup.type': 'domain\n', '/sys/fs/cgroup/cgroup.controllers': 'cpu io memory pids\n' };
    const l = CgroupLayout.detect('auto', host(V2_MOUNTINFO, '0::/\n', files));
    assert.equal(l.mode, 'subtree');
    assert.deepEqual(l.parentDirs('nslab'), ['/sys/fs/cgroup/nslab']);
    // After the move into the supervisor leaf (an agent restart), the base is still the subtree.
    const again = CgroupLayout.detect('auto', host(V2_MOUNTINFO, '0::/nslab-supervisor\n', files));
    assert.deepEqual(again.parentDirs('nslab'), ['/sys/fs/cgroup/nslab']);
    assert.throws(
      () => CgroupLayout.detect('root', host(V2_MOUNTINFO, '0::/\n', files)),
      /not the root of the cgroup tree.*AGENT_CGROUP_PARENT=self/,
    );
  });

  test('a systemd unit with Delegate=yes: AGENT_CGROUP_PARENT=self stays inside the unit', () => {
    const unit = '/sys/fs/cgroup/system.slice/nslab.service';
    const l = CgroupLayout.detect(
      'self',
      host(V2_MOUNTINFO, '0::/system.slice/nslab.service\n', { [`${unit}/cgroup.controllers`]: 'cpu memory pids\n' }),
    );
    assert.equal(l.mode, 'subtree');
    assert.deepEqual(l.parentDirs('nslab'), [`${unit}/nslab`]);
    const explicit = CgroupLayout.detect(
      '/labs',
      host(V2_MOUNTINFO, '0::/\n', { '/sys/fs/cgroup/labs/cgroup.controllers': 'cpu memory pids\n' }),
    );
    assert.deepEqual(explicit.parentDirs('nslab'), ['/sys/fs/cgroup/labs/nslab']);
  });

  test('a controller that is nowhere stops start-up naming the file and the fix', () => {
    const unit = '/sys/fs/cgroup/system.slice/nslab.service';
    assert.throws(
      () =>
        CgroupLayout.detect(
          'self',
          host(V2_MOUNTINFO, '0::/system.slice/nslab.service\n', { [`${unit}/cgroup.controllers`]: 'cpu pids\n' }),
        ),
      (e: Error) =>
        e instanceof CgroupLayoutError &&
        e.message.includes('the memory controller is not available') &&
        e.message.includes(`${unit}/cgroup.controllers lists cpu pids`) &&
        e.message.includes('Delegate=yes'),
    );
    assert.throws(
      () => CgroupLayout.detect('auto', host(V2_MOUNTINFO, '0::/\n', { '/sys/fs/cgroup/cgroup.controllers': 'cpu pids\n' })),
      /cgroup_enable=memory/,
    );
  });

  test('no cgroup2 at all, or a bad AGENT_CGROUP_PARENT, is a clear error', () => {
    const v1only = HYBRID_MOUNTINFO.split('\n')
      .filter((l) => !l.includes('cgroup2'))
      .join('\n');
    assert.throws(
      () => CgroupLayout.detect('auto', host(v1only, HYBRID_SELF, {})),
      /no cgroup2 file system is mounted.*systemd.unified_cgroup_hierarchy=1/,
    );
    for (const bad of ['../x', '/a/../b', 'yes', '/a b', '']) {
      assert.throws(() => CgroupLayout.detect(bad, host(V2_MOUNTINFO, '0::/\n', {})), /AGENT_CGROUP_PARENT must be/);
    }
  });
});

describe('the ceiling on all sandboxes together', () => {
  const GiB = 2 ** 30;
  const MiB = 2 ** 20;
  const per = { memoryMaxBytes: 256 * MiB, pidsMax: 256 };

  test('a big host: what AGENT_MAX_SESSIONS full sandboxes need, below the host minus headroom', () => {
    const c = sandboxesCeiling({ hostMemoryBytes: 256 * GiB, hostPidsMax: 4_194_304, maxSessions: 200, perSandbox: per, env: {} });
    assert.equal(c.memoryMaxBytes, 200 * 256 * MiB);
    assert.equal(c.pidsMax, 200 * 256);
    assert.match(c.reason, /200 sandboxes x/);
  });

  test('a host smaller than 200 sandboxes: the host minus max(1 GiB, 10%) for the agent, app and system', () => {
    const host = 24 * GiB;
    const c = sandboxesCeiling({ hostMemoryBytes: host, hostPidsMax: 32_768, maxSessions: 200, perSandbox: per, env: {} });
    assert.equal(c.memoryMaxBytes, host - Math.round(host * 0.1));
    assert.equal(c.pidsMax, Math.floor(32_768 * 0.75));
    const small = sandboxesCeiling({ hostMemoryBytes: 2 * GiB, hostPidsMax: 32_768, maxSessions: 200, perSandbox: per, env: {} });
    assert.equal(small.memoryMaxBytes, 1 * GiB, '2 GiB host: 1 GiB headroom');
    const tiny = sandboxesCeiling({ hostMemoryBytes: 1 * GiB, hostPidsMax: 200, maxSessions: 200, perSandbox: per, env: {} });
    assert.equal(tiny.memoryMaxBytes, 256 * MiB, 'never below one sandbox');
    assert.equal(tiny.pidsMax, 256);
  });

  test('env overrides win; bad values stop start-up naming the variable', () => {
    const c = sandboxesCeiling({ hostMemoryBytes: 8 * GiB, hostPidsMax: 32_768, maxSessions: 10, perSandbox: per, env: { AGENT_SANDBOXES_MEMORY_MAX: '3G', AGENT_SANDBOXES_PIDS_MAX: '5000' } });
    assert.deepEqual([c.memoryMaxBytes, c.pidsMax], [3 * GiB, 5000]);
    assert.equal(sandboxesCeiling({ hostMemoryBytes: 8 * GiB, hostPidsMax: 32_768, maxSessions: 10, env: { AGENT_SANDBOXES_MEMORY_MAX: '512MiB' } }).memoryMaxBytes, 512 * MiB);
    for (const bad of ['lots', '10M', '-1', '1.5G']) {
      assert.throws(() => sandboxesCeiling({ hostMemoryBytes: 8 * GiB, hostPidsMax: 32_768, maxSessions: 10, env: { AGENT_SANDBOXES_MEMORY_MAX: bad } }), /AGENT_SANDBOXES_MEMORY_MAX must be a size of at least 64M.*got/);
    }
    for (const bad of ['10', 'max', '1e5']) {
      assert.throws(() => sandboxesCeiling({ hostMemoryBytes: 8 * GiB, hostPidsMax: 32_768, maxSessions: 10, env: { AGENT_SANDBOXES_PIDS_MAX: bad } }), (e: unknown) => e instanceof CgroupLayoutError && /AGENT_SANDBOXES_PIDS_MAX must be a whole number of at least 64/.test(e.message));
    }
  });
});
