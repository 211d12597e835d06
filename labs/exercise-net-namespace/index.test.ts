import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { exerciseNetNamespace, isolatedSleepPid, nsenterCalls, nsListings, parseNsenter, sleepTargets } from './index';
import { localizedSchema } from '../core/model';
import type { CheckResult, CommandRecord, Observation, StepDef } from '../core/model';
import { gradeLab, initialResults, resultsById } from '../core/grade';
import { bashPosingAsSleep, forged, loadFixture, withAnswer as answered, withExe } from '../core/test-support';

const fixtureDir = new URL('./fixtures/', import.meta.url);

const load = (name: string): Observation => loadFixture(import.meta.url, name);

function step(id: string): StepDef {
  const s = exerciseNetNamespace.steps.find((x) => x.id === id);
  assert.ok(s, `step ${id} exists`);
  return s;
}

function run(id: string, obs: Observation): CheckResult {
  return step(id).check(obs);
}

/** The observation with this answer to find-pid. */
const withAnswer = (obs: Observation, value: string): Observation => answered(obs, 'find-pid', value);

function withTranscript(obs: Observation, transcript: CommandRecord[]): Observation {
  return { ...obs, transcript };
}

function cmd(command: string, output: string, exitCode: number | null = 0, terminal = 1): CommandRecord {
  return { terminal, command, exitCode, output, startedAtMs: 1, endedAtMs: exitCode === null ? null : 2 };
}

const lsNs = (net: number) =>
  `total 0\nlrwxrwxrwx 1 root root 0 Nov 29 06:40 mnt -> 'mnt:[4026532307]'\nlrwxrwxrwx 1 root root 0 Nov 29 06:40 net -> 'net:[${net}]'\n`;
const ipLoDown =
  '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';

const NEWNET = 4026532397;
const BASENET = 4026532312;

describe('lab definition', () => {
  test('has two terminals and exactly the contracted step ids, in order', () => {
    assert.equal(exerciseNetNamespace.terminals, 2);
    assert.deepEqual(
      exerciseNetNamespace.steps.map((s) => s.id),
      ['isolate-sleep', 'find-pid', 'inspect-ns', 'nsenter-ip'],
    );
  });

  test('every step has en+zh title, 2-3 en+zh hints and kinds; ids unique and kebab-case', () => {
    const ids = new Set<string>();
    for (const s of exerciseNetNamespace.steps) {
      assert.ok(!ids.has(s.id), `duplicate id ${s.id}`);
      ids.add(s.id);
      assert.match(s.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      localizedSchema.parse(s.title);
      assert.ok(s.hints.length >= 2 && s.hints.length <= 3, `${s.id} has 2-3 hints`);
      for (const h of s.hints) localizedSchema.parse(h);
      for (const h of [s.title, ...s.hints]) assert.match(h.zh, /[\u4e00-\u9fff]/, `${s.id}: zh text is Chinese`);
      assert.ok(s.kinds.length > 0);
    }
    localizedSchema.parse(exerciseNetNamespace.title);
  });

  test('the reference solution covers every step in order and only uses its terminals', () => {
    assert.deepEqual(
      exerciseNetNamespace.solution.map((s) => s.stepId),
      exerciseNetNamespace.steps.map((s) => s.id),
    );
    for (const s of exerciseNetNamespace.solution)
      for (const a of s.actions) if (a.type === 'type') assert.ok(a.terminal < exerciseNetNamespace.terminals);
  });

  test("the solution's dynamic actions produce the right text on a real-looking observation", () => {
    const obs = load('sleep-own-netns');
    const texts = exerciseNetNamespace.solution.flatMap((s) =>
      s.actions.map((a) =>
        a.type === 'type'
          ? typeof a.text === 'function'
            ? a.text(obs)
            : a.text
          : a.type === 'answer'
            ? typeof a.value === 'function'
              ? a.value(obs)
              : a.value
            : null,
      ),
    );
    assert.ok(texts.includes('unshare -n sleep 60\r'));
    assert.ok(texts.includes('23'));
    assert.ok(texts.includes('ls -la /proc/23/ns/\r'));
    assert.ok(texts.includes('nsenter -t 23 -n ip a\r'));
    assert.throws(() => isolatedSleepPid(load('fresh')), /no sleep/);
  });
});

describe('fixtures', () => {
  test('every fixture is a valid Observation with a real-looking snapshot', () => {
    const names = readdirSync(fixtureDir).filter((f) => f.endsWith('.json'));
    assert.ok(names.length >= 8);
    for (const f of names) {
      const obs = load(f.replace(/\.json$/, ''));
      const init = obs.snapshot.processes.find((p) => p.pid === 1);
      assert.ok(init, `${f}: has a PID 1`);
      assert.equal(init.hostPid, obs.snapshot.sandbox.initHostPid);
      for (const p of obs.snapshot.processes) {
        assert.ok(p.hostPid > 1000, `${f}: host PIDs look like host PIDs`);
        assert.equal(p.nsPids[0], p.pid);
        assert.ok(Object.values(p.ns).every((i) => i >= 4026531830));
      }
      assert.ok(obs.snapshot.netns.some((n) => n.inode === obs.snapshot.sandbox.baseNs.net));
    }
  });
});

describe('isolate-sleep', () => {
  test('passes for unshare -n sleep 60, cites both inodes, keeps the pid in evidence but not in the message', () => {
    const r = run('isolate-sleep', load('sleep-own-netns'));
    assert.equal(r.status, 'passed');
    assert.equal(r.evidence.pid, 23);
    assert.equal(r.evidence.hostPid, 48517);
    assert.equal(r.evidence.netInode, NEWNET);
    assert.equal(r.evidence.baseNetInode, BASENET);
    assert.equal(r.evidence.interfaces, 'lo');
    assert.equal(r.message.en, `A sleep runs in net:[${NEWNET}], a network namespace with only lo; your shell is in net:[${BASENET}]`);
    assert.match(r.message.zh, /sleep.*net:\[4026532397\].*net:\[4026532312\]/);
    // Finding the PID is step 2's exercise: this message must not give it away.
    assert.doesNotMatch(`${r.message.en} ${r.message.zh}`, /\b23\b/);
  });

  test('passes for unshare -fn (the sleep is the child of unshare)', () => {
    const r = run('isolate-sleep', load('sleep-unshare-fn'));
    assert.equal(r.status, 'passed');
    assert.equal(r.evidence.pid, 24);
  });

  test("fails on a fresh sandbox (the init loop's own sleep does not count)", () => {
    const r = run('isolate-sleep', load('fresh'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /No sleep process is running/);
    assert.match(r.hint?.en ?? '', /unshare -n sleep 60/);
  });

  test('fails for a sleep in the base net namespace: did you forget -n?', () => {
    const r = run('isolate-sleep', load('sleep-base-netns'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /sleep \(PID 23\) is in net:\[4026532312\], the same network namespace as your shell/);
    assert.match(r.hint?.en ?? '', /forget -n/);
    assert.match(r.hint?.zh ?? '', /忘了 -n/);
  });

  test('fails for a bash renamed to sleep via comm only, in its own net namespace', () => {
    const r = run('isolate-sleep', load('renamed-bash'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /PID 23 is named sleep, but it is not the sleep program/);
  });

  test('fails for a bash whose argv[0] is sleep (exec -a sleep bash) in its own net namespace', () => {
    const obs = load('renamed-bash');
    const p = obs.snapshot.processes.find((x) => x.pid === 23);
    assert.ok(p);
    p.comm = 'bash';
    p.cmdline = ['sleep'];
    assert.equal(run('isolate-sleep', obs).status, 'failed');
  });

  test('fails when the sleep ended, saying so', () => {
    const obs = load('sleep-ended');
    const r = run('isolate-sleep', { ...obs, passed: {} });
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /Your sleep has ended/);
    assert.match(r.hint?.en ?? '', /60 seconds/);
  });

  test('fails when the namespace holds more than lo', () => {
    const r = run('isolate-sleep', load('netns-with-veth'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /holds lo, veth1, not just lo/);
  });

  test('fails when unshare itself failed, quoting its error', () => {
    const obs = withTranscript(load('fresh'), [
      cmd('unshare -n sleep 60', 'unshare: unshare failed: Operation not permitted\n', 1, 0),
    ]);
    const r = run('isolate-sleep', obs);
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /exit status 1: unshare: unshare failed: Operation not permitted/);
  });

  test("fails (does not pass) when the sleep's namespace could not be read", () => {
    const obs = load('sleep-own-netns');
    obs.snapshot.netns = obs.snapshot.netns.filter((n) => n.inode !== NEWNET);
    const r = run('isolate-sleep', obs);
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /could not be read/);
  });
});

describe('find-pid', () => {
  test("passes with the sleep's in-sandbox PID, whitespace tolerated", () => {
    const obs = load('sleep-own-netns');
    assert.equal(run('find-pid', withAnswer(obs, '23')).status, 'passed');
    assert.equal(run('find-pid', withAnswer(obs, '  23\n')).status, 'passed');
    assert.equal(run('find-pid', load('sleep-unshare-fn')).status, 'passed'); // typed " 24 "
  });

  test('passes with the PID recorded when isolate-sleep passed, after the sleep ended', () => {
    const obs = load('sleep-ended');
    const r = run('find-pid', { ...obs, passed: { 'isolate-sleep': obs.passed['isolate-sleep'] ?? {} } });
    assert.equal(r.status, 'passed');
    assert.equal(r.evidence.netInode, NEWNET);
  });

  test('a host PID is not the answer', () => {
    const r = run('find-pid', withAnswer(load('sleep-own-netns'), '48517'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /no process 48517/);
  });

  test('a wrong PID says what that PID is, never the right one', () => {
    const obs = load('sleep-own-netns');
    const bash = run('find-pid', withAnswer(obs, '12'));
    assert.equal(bash.status, 'failed');
    assert.match(bash.message.en, /PID 12 is bash/);
    assert.match(bash.message.en, /not your sleep/);
    const initSleep = run('find-pid', withAnswer(obs, '2'));
    assert.match(initSleep.message.en, /PID 2 is a sleep, but it is in the sandbox's own network namespace/);
    const none = run('find-pid', withAnswer(obs, '7777'));
    assert.match(none.message.en, /no process 7777/);
    for (const r of [bash, initSleep, none]) {
      assert.doesNotMatch(`${r.message.en} ${r.hint?.en ?? ''} ${r.message.zh} ${r.hint?.zh ?? ''}`, /\b23\b/);
    }
  });

  test('the PID of a sleep in the base netns, or of a renamed bash, fails', () => {
    assert.equal(run('find-pid', load('sleep-base-netns')).status, 'failed');
    const r = run('find-pid', load('renamed-bash'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /PID 23 is bash, named sleep \(`bash`\), not your sleep/);
  });

  test('non-numeric and missing answers get a clear message', () => {
    const obs = load('sleep-own-netns');
    const r = run('find-pid', withAnswer(obs, 'sleep'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /"sleep" is not a PID/);
    assert.match(r.message.zh, /不是 PID/);
    assert.equal(run('find-pid', withAnswer(obs, '23abc')).status, 'failed');
    assert.equal(run('find-pid', withAnswer(obs, '-23')).status, 'failed');
    assert.match(run('find-pid', obs).message.en, /Type the PID/);
  });
});

describe('inspect-ns', () => {
  test("passes on ls -la /proc/<pid>/ns/ with the sleep's net inode in the output", () => {
    const r = run('inspect-ns', load('sleep-own-netns-done'));
    assert.equal(r.status, 'passed');
    assert.equal(r.evidence.pid, 23);
    assert.equal(r.evidence.netInode, NEWNET);
    assert.match(r.message.en, /net -> net:\[4026532397\]; your shell's is net:\[4026532312\]/);
  });

  test('accepts readlink and ls -l on the net link, and $(pgrep) forms', () => {
    assert.equal(run('inspect-ns', load('sleep-unshare-fn')).status, 'passed'); // readlink /proc/24/ns/net
    const obs = load('sleep-own-netns');
    const variants = [
      cmd('ls -l /proc/23/ns/net', `lrwxrwxrwx 1 root root 0 Nov 29 06:40 /proc/23/ns/net -> 'net:[${NEWNET}]'\n`),
      cmd('readlink /proc/23/ns/net', `net:[${NEWNET}]\n`),
      cmd('ls -la /proc/$(pgrep -x -n sleep)/ns/', lsNs(NEWNET)),
      cmd('sudo ls -la /proc/23/ns | grep net', `lrwxrwxrwx 1 root root 0 Nov 29 06:40 net -> 'net:[${NEWNET}]'\n`),
      cmd('ls -la /proc/23/ns/', `\u001b[0m\u001b[01;36mnet\u001b[0m -> \u001b[40;31;01m'net:[${NEWNET}]'\u001b[0m\n`),
    ];
    for (const v of variants) assert.equal(run('inspect-ns', withTranscript(obs, [v])).status, 'passed', v.command);
  });

  test('passes from kept evidence after the sleep ended', () => {
    assert.equal(run('inspect-ns', load('sleep-ended')).status, 'passed');
  });

  test('output alone is not enough, nor the command alone', () => {
    const obs = load('sleep-own-netns');
    const cheats = [
      cmd(`echo /proc/23/ns 'net:[${NEWNET}]'`, `/proc/23/ns net:[${NEWNET}]\n`),
      cmd(`echo 'net:[${NEWNET}]'`, `net:[${NEWNET}]\n`),
      cmd('ls -la /proc/23/ns/', lsNs(BASENET)),
      cmd('ls -la /proc/23/ns/', lsNs(NEWNET), 2),
      cmd('ls -la /proc/12/ns/', lsNs(NEWNET)),
      cmd('ls -la /proc/$$/ns/', lsNs(NEWNET)),
    ];
    for (const c of cheats) assert.equal(run('inspect-ns', withTranscript(obs, [c])).status, 'failed', c.command);
  });

  test('the wrong-commands transcript fails, explaining the newest near miss', () => {
    const obs = load('wrong-commands');
    const r = run('inspect-ns', obs);
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /ls -la \/proc\/23\/ns\/ --foo.*failed \(exit status 2\)/);
    const onlyShell = withTranscript(
      obs,
      obs.transcript.filter((c) => c.command === 'ls -la /proc/12/ns/'),
    );
    assert.match(run('inspect-ns', onlyShell).message.en, /lists the namespaces of bash \(PID 12\)/);
    const noL = withTranscript(
      obs,
      obs.transcript.filter((c) => c.command === 'ls /proc/23/ns/'),
    );
    const r2 = run('inspect-ns', noL);
    assert.match(r2.message.en, /not where they point/);
    assert.match(r2.hint?.en ?? '', /-l/);
  });

  test('fails with "start the sleep" when there is no sleep and no evidence', () => {
    const r = run('inspect-ns', load('sleep-base-netns'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /No sleep is running in its own network namespace/);
    assert.equal(run('inspect-ns', load('renamed-bash')).status, 'failed');
  });

  test('nsListings finds listing commands only', () => {
    const found = nsListings([
      cmd('cat /proc/23/ns/net', ''),
      cmd('ls -la /proc/23/ns/', ''),
      cmd('readlink /proc/24/ns/net /proc/24/ns/uts', ''),
      // issue 13: output another command could have printed never counts
      cmd('cd /tmp && readlink /proc/25/ns/net', ''),
      cmd("ls /proc/26/ns; echo 'net -> net:[4026532999]'", ''),
      cmd('ls -l /proc/27/ns /tmp/fake-links', ''),
      cmd("echo 'net:[4026532999]' # /proc/28/ns/net", ''),
    ]);
    assert.deepEqual(
      found.map((l) => l.ref),
      [{ pid: 24 }, { pid: 23 }],
    );
  });
});

describe('nsenter-ip', () => {
  test('passes on nsenter -t <pid> -n ip a listing only lo, with the expected message', () => {
    const r = run('nsenter-ip', load('sleep-own-netns-done'));
    assert.equal(r.status, 'passed');
    assert.equal(r.message.en, `nsenter into net:[${NEWNET}] showed only lo (state DOWN): nobody gave this namespace an address`);
    assert.match(r.message.zh, /nsenter.*net:\[4026532397\].*只看到 lo/);
    assert.equal(r.evidence.pid, 23);
    assert.equal(r.evidence.loState, 'DOWN');
  });

  test('accepts the usual spellings', () => {
    const obs = load('sleep-own-netns');
    const briefLo = 'lo               DOWN           \n';
    const linkLo =
      '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';
    const variants = [
      cmd('nsenter -t 23 -n ip a', ipLoDown),
      cmd('nsenter -n -t 23 ip addr', ipLoDown),
      cmd('nsenter --target 23 --net ip address', ipLoDown),
      cmd('nsenter --target=23 --net ip a s', ipLoDown),
      cmd('nsenter -t23 -n ip addr show', ipLoDown),
      cmd('nsenter -t 23 -n -- ip a', ipLoDown),
      cmd('nsenter -t 23 -n ip link', linkLo),
      cmd('nsenter -t 23 -n ip -br a', briefLo),
      cmd(
        'nsenter -t 23 -n /usr/sbin/ip -c a',
        '1: \u001b[36mlo: \u001b[0m<LOOPBACK> mtu 65536 qdisc noop state \u001b[31mDOWN \u001b[0mgroup default qlen 1000\r\n    link/loopback \u001b[33m00:00:00:00:00:00\u001b[0m brd \u001b[33m00:00:00:00:00:00\u001b[0m\r\n',
      ),
      cmd('nsenter --net=/proc/23/ns/net ip a', ipLoDown),
      cmd('nsenter -a -t 23 ip a', ipLoDown),
      cmd('nsenter -t 23 -n ip -c -br a', '\u001b[36mlo               \u001b[0m\u001b[31mDOWN           \u001b[0m\r\n'),
      cmd(
        'sudo nsenter -t 23 -n ip -j a',
        '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"],"operstate":"DOWN","addr_info":[]}]\n',
      ),
      cmd('nsenter -t 23 -n ip a | cat', ipLoDown),
    ];
    for (const v of variants) {
      const r = run('nsenter-ip', withTranscript(obs, [v]));
      assert.equal(r.status, 'passed', `${v.command}: ${r.message.en}`);
    }
    assert.equal(run('nsenter-ip', load('sleep-unshare-fn')).status, 'passed'); // --target 24 --net ip -br a
  });

  test('passes from kept evidence after the sleep ended, despite a later failing nsenter', () => {
    assert.equal(run('nsenter-ip', load('sleep-ended')).status, 'passed');
    const obs = load('sleep-ended');
    const onlyLate = withTranscript(
      obs,
      obs.transcript.filter((c) => c.exitCode === 1),
    );
    const r = run('nsenter-ip', onlyLate);
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /cannot open \/proc\/23\/ns\/net/);
  });

  test('fails when the namespace has a veth besides lo (output and state agree)', () => {
    const r = run('nsenter-ip', load('netns-with-veth'));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /listed lo, veth1/);
  });

  test('fails when the snapshot says more than lo even if the output shows only lo', () => {
    const obs = withTranscript(load('netns-with-veth'), [cmd('nsenter -t 23 -n ip a', ipLoDown)]);
    assert.equal(run('nsenter-ip', obs).status, 'failed');
  });

  test('wrong commands fail, each with a specific reason', () => {
    const obs = load('sleep-own-netns');
    const cases: [CommandRecord, RegExp][] = [
      [cmd('nsenter -t 23 ip a', ipLoDown), /has no -n/],
      [cmd('nsenter -t 12 -n ip a', ipLoDown), /targets bash \(PID 12\)/],
      [cmd('nsenter -t 2 -n ip a', ipLoDown), /targets sleep \(PID 2\)/],
      [cmd('nsenter -t 23 -n ip route', ''), /not a listing of its interfaces/],
      [cmd('nsenter -t 23 -n ip a show lo', ipLoDown), /not a listing of its interfaces/],
      [cmd('nsenter -t 23 -n bash', ''), /not a listing/],
      [cmd('nsenter -t $(pgrep -n sleep) -n ip a', ipLoDown), /not a plain PID/],
      [cmd('nsenter -n ip a', ipLoDown), /has no target/],
      [cmd('nsenter -t 23 -n ip a', '', 0), /No interface found/],
      [cmd('nsenter -t 23 -n ip a', ipLoDown, null), /has not finished yet/],
      [
        cmd('nsenter -t 23 -n ip a', "nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted\n", 1),
        /exit status 1.*Operation not permitted/,
      ],
    ];
    for (const [c, re] of cases) {
      const r = run('nsenter-ip', withTranscript(obs, [c]));
      assert.equal(r.status, 'failed', c.command);
      assert.match(r.message.en, re, c.command);
    }
    const echoed = withTranscript(obs, [cmd(`echo '${ipLoDown.split('\n')[0]}' # nsenter -t 23 -n ip a`, ipLoDown)]);
    assert.match(run('nsenter-ip', echoed).message.en, /No `nsenter`/);
  });

  test('the wrong-commands and base-netns fixtures fail', () => {
    assert.equal(run('nsenter-ip', load('wrong-commands')).status, 'failed');
    assert.equal(run('nsenter-ip', load('sleep-base-netns')).status, 'failed');
    assert.equal(run('nsenter-ip', load('renamed-bash')).status, 'failed');
  });

  test('parseNsenter reads targets and the net flag like getopt', () => {
    assert.deepEqual(parseNsenter(['nsenter', '-t', '42', '-n', 'ip', 'a']), {
      targetPid: 42,
      targetText: null,
      net: true,
      inner: ['ip', 'a'],
    });
    assert.equal(parseNsenter(['nsenter', '-m', '-u', '-t', '42', 'ip', 'a'])?.net, false);
    assert.equal(parseNsenter(['nsenter', '-S', '0', '-t', '7', '-n', 'ip'])?.targetPid, 7);
    assert.equal(parseNsenter(['ls']), null);
    // issue 13: `; echo ...` could print the listing itself: such a line is not nsenter's output
    assert.equal(nsenterCalls([cmd('nsenter -t 5 -n ip a; echo done', '')])[0], undefined);
    assert.equal(nsenterCalls([cmd('nsenter -t 5 -n ip a | grep -v DOWN', '')])[0]?.targetPid, 5);
  });
});

describe('the whole lab through gradeLab', () => {
  test('the right transcript passes every step, in one explicit check', () => {
    const obs = load('sleep-own-netns-done');
    const previous = resultsById(initialResults(exerciseNetNamespace, 0));
    const { results } = gradeLab(exerciseNetNamespace, obs, previous, { nowMs: 1, trigger: 'explicit' });
    assert.deepEqual(
      results.map((r) => [r.stepId, r.status]),
      exerciseNetNamespace.steps.map((s) => [s.id, 'passed']),
    );
  });

  test('every check fails on the fresh sandbox', () => {
    const obs = load('fresh');
    for (const s of exerciseNetNamespace.steps) assert.equal(s.check(obs).status, 'failed', s.id);
    assert.deepEqual(sleepTargets(obs), []);
  });

  test('after the sleep ends, passed steps stay passed and the rest can still pass from evidence', () => {
    const live = load('sleep-own-netns');
    const first = gradeLab(exerciseNetNamespace, withAnswer(live, '23'), resultsById(initialResults(exerciseNetNamespace, 0)), {
      nowMs: 10,
      trigger: 'answer',
      answeredStepId: 'find-pid',
    });
    assert.deepEqual(
      first.results.map((r) => r.status),
      ['passed', 'passed', 'pending', 'pending'],
    );
    const ended = load('sleep-ended');
    const second = gradeLab(exerciseNetNamespace, { ...ended, passed: {} }, resultsById(first.results), {
      nowMs: 80,
      trigger: 'explicit',
    });
    assert.deepEqual(
      second.results.map((r) => r.status),
      ['passed', 'passed', 'passed', 'passed'],
    );
    assert.equal(second.results[0], first.results[0]);
    assert.deepEqual(
      second.changed.map((r) => r.stepId),
      ['inspect-ns', 'nsenter-ip'],
    );
  });
});

describe('exercise-net-namespace forgeries (issue 13)', () => {
  const done = () => load('recorded-exercise-done');

  test('a bash posing as sleep (symlink /tmp/sleep -> /bin/bash) is no sleep: its exe is bash\'s file', () => {
    const real = withExe(done());
    for (const id of ['isolate-sleep', 'find-pid']) assert.equal(run(id, real).status, 'passed', id);
    const fake = withExe(done(), bashPosingAsSleep);
    for (const id of ['isolate-sleep', 'find-pid']) assert.equal(run(id, fake).status, 'failed', id);
  });

  test("inspect-ns and nsenter-ip stay failed when another command printed the links or the listing", () => {
    const listing = done().transcript.find((r) => r.command.startsWith('ls -la /proc/14'))!.output;
    for (const command of ['ls /proc/14/ns; cat /tmp/saved', 'ls -la /proc/14/ns /tmp/links', "echo x # ls -la /proc/14/ns/", 'ls /proc/14/ns && ls -la /proc/$$/ns']) {
      const obs = forged(done(), (c) => c.startsWith('ls -la /proc/14'), [{ terminal: 1, command, output: listing, exitCode: 0 }]);
      assert.equal(run('inspect-ns', obs).status, 'failed', command);
    }
    const ipA = done().transcript.find((r) => r.command.startsWith('nsenter'))!.output;
    for (const command of ['nsenter -t 14 -n true; ip a', 'nsenter -t 14 -n true && cat /tmp/ip-a', 'nsenter -t 14 -n cat /tmp/ip-a']) {
      const obs = forged(done(), (c) => c.startsWith('nsenter'), [{ terminal: 1, command, output: ipA, exitCode: 0 }]);
      assert.equal(run('nsenter-ip', obs).status, 'failed', command);
    }
    const real = forged(done(), (c) => c.startsWith('nsenter'), [{ terminal: 1, command: 'nsenter -t 14 -n ip a', output: ipA, exitCode: 0 }]);
    assert.equal(run('nsenter-ip', real).status, 'passed');
  });
});

test('recorded (issue 13): `ln -s /bin/bash /tmp/sleep; unshare -n /tmp/sleep ...` is no sleep, by its exe read from the host', () => {
  const obs = load('recorded-symlink-sleep');
  const posing = obs.snapshot.processes.find((p) => p.comm === 'sleep')!;
  assert.equal(posing.exe?.ino, obs.snapshot.sandbox.programs?.bash?.ino, 'the kernel says it runs bash');
  assert.notEqual(posing.ns.net, obs.snapshot.sandbox.baseNs.net);
  const r = run('isolate-sleep', obs);
  assert.equal(r.status, 'failed');
  assert.match(r.message.en, /is named sleep, but it is not the sleep program/);
  assert.equal(run('find-pid', withAnswer(obs, String(posing.pid))).status, 'failed');
});

