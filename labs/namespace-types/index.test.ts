import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLsnsOutput } from '../core/ns-tools';
import { assertBilingual, assertPasses, assertRefusesBashAsSleep, cmd, editProcesses, forged } from '../core/test-support';
import { gradeAll, loadFixture, testDefinition, withTranscript } from '../core/test-support';
import { namespaceTypes as lab } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);
const done = load('recorded-done');
const noFork = load('recorded-no-fork');
const ids = ['net-uts-ipc', 'mount-ns', 'pid-ns', 'spot-in-lsns'];
const step = (id: string) => lab.steps.find((s) => s.id === id)!.check;
const lsnsRecord = done.transcript.find((r) => r.command === 'lsns')!;

testDefinition(lab, ids, 1);

describe('namespace-types: recorded in a real sandbox', () => {
  test('the reference solution passes every step; the PID 1 sleep has three PIDs (host, sandbox, its own)', () => {
    const r = assertPasses(lab, done, ids);
    assert.equal(r['pid-ns']!.evidence.nsPids, '16,1');
    assert.match(r['pid-ns']!.message!.en, /sleep \(PID 16\) is PID 1 of pid:\[\d+\]: one process, three PIDs, one per nested PID namespace: one on the host .*NSpid 16 1 from your sandbox inwards/);
    assert.doesNotMatch(r['pid-ns']!.message!.en, /two PIDs/);
    assert.match(r['pid-ns']!.message!.zh, /同一个进程有三个 PID/);
    assert.doesNotMatch(r['pid-ns']!.message!.zh, /两个 PID/);
    assertBilingual(r);
  });

  test('-nu without -i, -p without -f and a filtered lsns all fail with the reason', () => {
    const r = gradeAll(lab, noFork);
    for (const id of ids) assert.equal(r[id]?.status, 'failed', `${id}: ${r[id]?.message?.en}`);
    assert.match(r['net-uts-ipc']!.message!.en, /still shares ipc/);
    // The real kernel: after unshare -p with no child yet, the sleep stays in the sandbox's PID
    // namespace and its pid_for_children link cannot even be read.
    const stuck = noFork.snapshot.processes.find((p) => p.pid === 13)!;
    assert.equal(stuck.ns.pid, noFork.snapshot.sandbox.baseNs.pid);
    assert.equal(stuck.ns.pid_for_children, undefined);
    assert.match(r['pid-ns']!.message!.en, /still in your PID namespace/);
    assert.match(r['pid-ns']!.hint!.en, /Add -f/);
    assertBilingual(r);
  });
});

describe('namespace-types: variants', () => {
  test('pid-ns: a sleep in a new PID namespace that is not its PID 1 does not pass', () => {
    const notOne = editProcesses(done, (p) => p.pid === 16, (p) => ({ ...p, nsPids: [16, 2] }));
    assert.equal(step('pid-ns')(notOne).status, 'failed');
  });

  test('pid-ns: the "Cannot allocate memory" of `unshare -p bash` explains -f', () => {
    const noPid1 = editProcesses(noFork, (p) => p.pid === 13, () => null);
    const r = step('pid-ns')(withTranscript(noPid1, [cmd('ls', 'bash: fork: Cannot allocate memory\n', 254)]));
    assert.match(r.hint!.en, /Cannot allocate memory.*-f/);
  });

  test('spot-in-lsns: a printed lsns table with made-up inodes does not pass', () => {
    const baseInodes = new Set(Object.values(done.snapshot.sandbox.baseNs));
    const fake = lsnsRecord.output.replace(/^\d{10}/gm, (m) => (baseInodes.has(Number(m)) ? m : String(Number(m) + 700)));
    assert.notEqual(fake, lsnsRecord.output);
    const r = step('spot-in-lsns')(withTranscript(done, [{ ...lsnsRecord, output: fake }]));
    assert.equal(r.status, 'failed');
  });

  test('spot-in-lsns: several filtered lsns runs together count', () => {
    const rows = lsnsRecord.output.split('\n');
    const byType = (type: string) => `${rows[0]}\n${rows.filter((l) => new RegExp(`^\\d+ ${type} `).test(l)).join('\n')}\n`;
    const parts = ['net', 'uts', 'ipc', 'mnt', 'pid'].map((type) => cmd(`lsns -t ${type}`, byType(type)));
    assert.equal(step('spot-in-lsns')(withTranscript(done, parts)).status, 'passed');
    assert.match(step('spot-in-lsns')(withTranscript(done, parts.slice(0, 2))).message.en, /does not list your new ipc, mnt, pid/);
  });

  test('spot-in-lsns: without the processes and without kept evidence it fails', () => {
    const gone = editProcesses(done, (p) => p.pid !== 1 && p.comm !== 'bash', () => null);
    assert.match(step('spot-in-lsns')(gone).message.en, /no new namespace of type/);
  });
});

test('parseLsnsOutput reads the default, the tree and the -t net layout', () => {
  const rows = parseLsnsOutput(lsnsRecord.output);
  assert.ok(rows.length >= 12);
  const pidRow = rows.find((r) => r.type === 'pid' && r.command === 'sleep 1000');
  assert.ok(pidRow, JSON.stringify(rows));
  const net = parseLsnsOutput('        NS TYPE NPROCS PID USER    NETNSID NSFS COMMAND\n4026532184 net       4   1 root unassigned      /bin/bash --norc\n4026533213 net       1  15 root                 bash\n');
  assert.deepEqual(
    net.map((r) => [r.inode, r.pid, r.command]),
    [
      [4026532184, 1, '/bin/bash --norc'],
      [4026533213, 15, 'bash'],
    ],
  );
});

describe('namespace-types forgeries (issue 13)', () => {
  const lsns = () => done.transcript.find((r) => r.command === 'lsns')!.output;

  test('spot-in-lsns stays failed when lsns did not print the rows itself', () => {
    for (const command of ['lsns -t time; cat /tmp/lsns.txt', 'cat /tmp/lsns.txt # lsns', 'lsns -t user || true; cat /tmp/lsns.txt']) {
      const obs = forged(done, (c) => c === 'lsns', [{ terminal: 0, command, output: lsns(), exitCode: 0 }]);
      assert.equal(gradeAll(lab, obs)['spot-in-lsns']?.status, 'failed', command);
    }
  });

  test('bash posing as sleep in new namespaces does not count as the sleeps the steps ask for', () => {
    assertRefusesBashAsSleep(lab, done, ['net-uts-ipc', 'mount-ns', 'pid-ns']);
  });
});
