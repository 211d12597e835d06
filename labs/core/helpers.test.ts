import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatEvidence } from './results';
import { baseNs, isSleep, nsLabel, processesInOwnNs } from './procs';
import { interfacesInIpOutput, ipListingObject, netnsOf, onlyLoopback } from './net';
import { readFileOf, shellWords, simpleCommands, soleCommand } from './shell';
import { findCommands, nsInodesInText, parsePid, procNsPathPid, stripAnsi } from './transcript';
import { snapshotSchema } from './snapshot';
import type { ProcessInfo } from './snapshot';
import type { CommandRecord } from './model';

const fixture = (name: string) =>
  snapshotSchema.parse(
    (
      JSON.parse(readFileSync(new URL(`../exercise-net-namespace/fixtures/${name}.json`, import.meta.url), 'utf8')) as {
        snapshot: unknown;
      }
    ).snapshot,
  );

const proc = (over: Partial<ProcessInfo>): ProcessInfo => ({
  hostPid: 5000,
  pid: 5,
  nsPids: [5],
  ppid: 1,
  comm: 'sleep',
  cmdline: ['sleep', '60'],
  uid: 0,
  state: 'S',
  ns: {},
  ...over,
});

describe('snapshot helpers', () => {
  test('baseNs, processesInOwnNs, netnsOf and onlyLoopback on a real-looking snapshot', () => {
    const s = fixture('sleep-unshare-fn');
    assert.equal(baseNs(s, 'net'), 4026532312);
    assert.deepEqual(
      processesInOwnNs(s, 'net').map((p) => p.comm),
      ['unshare', 'sleep'],
    );
    assert.deepEqual(processesInOwnNs(s, 'uts'), []);
    assert.equal(onlyLoopback(netnsOf(s, 4026532397)), true);
    assert.equal(onlyLoopback(netnsOf(s, 1)), false);
    assert.equal(onlyLoopback(netnsOf(fixture('netns-with-veth'), 4026532397)), false);
    const incomplete = { ...netnsOf(s, 4026532397)!, complete: false };
    assert.equal(onlyLoopback(incomplete), false);
  });

  test('isSleep needs comm, argv[0] and, when the snapshot identifies it, the exe file of /usr/bin/sleep', () => {
    const legacy = fixture('netns-with-veth'); // recorded before exe was read: comm and argv[0] only
    assert.equal(legacy.sandbox.programs, undefined);
    assert.equal(isSleep(proc({}), legacy), true);
    assert.equal(isSleep(proc({ cmdline: ['/usr/bin/sleep', '60'] }), legacy), true);
    assert.equal(isSleep(proc({ cmdline: ['bash'] }), legacy), false);
    assert.equal(isSleep(proc({ comm: 'bash' }), legacy), false);
    assert.equal(isSleep(proc({ cmdline: [] }), legacy), false);
    assert.equal(isSleep(proc({ cmdline: ['sleepy'] }), legacy), false);
    const s = { ...legacy, sandbox: { ...legacy.sandbox, programs: { sleep: { dev: 65024, ino: 100 }, bash: { dev: 65024, ino: 200 } } } };
    assert.equal(isSleep(proc({ exe: { path: '/usr/bin/sleep', dev: 65024, ino: 100 } }), s), true);
    // issue 13: `ln -s /bin/bash /tmp/sleep; unshare -n /tmp/sleep` has comm and argv[0] "sleep"
    assert.equal(isSleep(proc({ cmdline: ['/tmp/sleep'], exe: { path: '/usr/bin/bash', dev: 65024, ino: 200 } }), s), false);
    // a copy of sleep is another file; an unreadable or unknown exe is no proof
    assert.equal(isSleep(proc({ exe: { path: '/tmp/sleep', dev: 44, ino: 100 } }), s), false);
    assert.equal(isSleep(proc({ exe: null }), s), false);
    assert.equal(isSleep(proc({}), s), false);
  });
});

describe('text helpers', () => {
  test('nsLabel', () => {
    assert.equal(nsLabel('net', 4026532201), 'net:[4026532201]');
    assert.equal(nsLabel('pid_for_children', 4026531836), 'pid:[4026531836]');
  });

  test('stripAnsi removes colours and OSC marks and folds CRLF', () => {
    assert.equal(stripAnsi('\u001b[01;36mnet\u001b[0m -> x\r\n'), 'net -> x\n');
    assert.equal(stripAnsi('\u001b]133;D;0\u0007ok\u001b]633;A\u001b\\'), 'ok');
    assert.equal(stripAnsi('\u001b[?2004hplain'), 'plain');
  });

  test('nsInodesInText reads quoted and unquoted links, not other types', () => {
    const text = "net -> 'net:[4026532397]'\nmnt -> mnt:[4026532307]\nreadlink: net:[4026531833]";
    assert.deepEqual(nsInodesInText(text, 'net'), [4026532397, 4026531833]);
    assert.deepEqual(nsInodesInText("(net:[1]) 'net:[2]'", 'net'), [1, 2]);
    assert.deepEqual(nsInodesInText('ipnet:[1]', 'net'), []);
    assert.deepEqual(nsInodesInText('my_net:[1]', 'net'), []);
  });

  test('parsePid', () => {
    assert.equal(parsePid(' 42 '), 42);
    assert.equal(parsePid('PID 42'), 42);
    assert.equal(parsePid('#42'), 42);
    for (const bad of ['', 'abc', '4 2', '-1', '0', '1.5', '42a', '99999999999']) assert.equal(parsePid(bad), undefined, bad);
  });

  test('shellWords and simpleCommands', () => {
    assert.deepEqual(shellWords(`ls -la "/proc/42/ns/" | grep 'net'`), ['ls', '-la', '/proc/42/ns/', '|', 'grep', 'net']);
    assert.deepEqual(shellWords('ls /proc/$(pgrep -x sleep)/ns # comment'), ['ls', '/proc/$(pgrep -x sleep)/ns']);
    assert.deepEqual(shellWords('a&&b;c'), ['a', '&&', 'b', ';', 'c']);
    assert.deepEqual(simpleCommands('sudo -E LANG=C nsenter -t 1 -n ip a && echo ok'), [
      ['nsenter', '-t', '1', '-n', 'ip', 'a'],
      ['echo', 'ok'],
    ]);
    assert.deepEqual(simpleCommands('FOO=1 time ls'), [['ls']]);
  });

  test('procNsPathPid', () => {
    assert.deepEqual(procNsPathPid('/proc/42/ns'), { pid: 42 });
    assert.deepEqual(procNsPathPid('/proc/42/ns/'), { pid: 42 });
    assert.deepEqual(procNsPathPid('/proc/42/ns/net'), { pid: 42 });
    assert.deepEqual(procNsPathPid('/proc/42/ns/*'), { pid: 42 });
    assert.deepEqual(procNsPathPid('/proc/$PID/ns/'), { dynamic: '$PID' });
    assert.equal(procNsPathPid('/proc/$$/ns/'), null);
    assert.equal(procNsPathPid('/proc/self/ns/'), null);
    assert.equal(procNsPathPid('/proc/42/ns/mnt'), null);
    assert.equal(procNsPathPid('/proc/42/status'), null);
  });
});

describe('ip output', () => {
  test('interfacesInIpOutput reads every format', () => {
    const full =
      '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n2: veth1@if4: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000\n';
    assert.deepEqual(interfacesInIpOutput(full), [
      { name: 'lo', state: 'DOWN' },
      { name: 'veth1', state: 'DOWN' },
    ]);
    assert.deepEqual(
      interfacesInIpOutput(
        'lo               UNKNOWN        127.0.0.1/8 ::1/128 \neth0@if9         UP             172.17.0.2/16 \n',
      ),
      [
        { name: 'lo', state: 'UNKNOWN' },
        { name: 'eth0', state: 'UP' },
      ],
    );
    assert.deepEqual(interfacesInIpOutput('1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n'), [
      { name: 'lo', state: null },
    ]);
    assert.deepEqual(interfacesInIpOutput('[{"ifindex":1,"ifname":"lo","operstate":"DOWN"}]'), [{ name: 'lo', state: 'DOWN' }]);
    // addresses and link lines are not interfaces
    assert.deepEqual(interfacesInIpOutput('    inet 127.0.0.1/8 scope host lo\n    link/ether 06:41:b2:d9:17:54\n'), []);
    assert.deepEqual(interfacesInIpOutput(''), []);
  });

  test('ipListingObject accepts listings and refuses filters, changes and other namespaces', () => {
    for (const ok of [
      'ip a',
      'ip addr',
      'ip address',
      'ip a s',
      'ip addr show',
      'ip -br a',
      'ip -c -br addr',
      'ip link',
      'ip l',
      'ip link ls',
      '/sbin/ip -4 a',
    ])
      assert.ok(ipListingObject(ok.split(' ')), ok);
    for (const bad of [
      'ip route',
      'ip a show lo',
      'ip a show dev lo',
      'ip addr add 10.0.0.1/24 dev lo',
      'ip -n foo a',
      'ip -netns foo a',
      'ip',
      'ipa',
      'ip link set lo up',
    ])
      assert.equal(ipListingObject(bad.split(' ')), null, bad);
  });
});

describe('transcript and evidence', () => {
  const rec = (command: string, exitCode: number | null, terminal = 0): CommandRecord => ({
    terminal,
    command,
    exitCode,
    output: '',
    startedAtMs: 0,
    endedAtMs: exitCode === null ? null : 1,
  });

  test('findCommands returns matches newest first, with filters', () => {
    const transcript = [rec('ls /a', 0), rec('ls /b', 1, 1), rec('pwd', 0), rec('ls /c', null)];
    assert.deepEqual(
      findCommands(transcript, /^ls/).map((r) => r.command),
      ['ls /c', 'ls /b', 'ls /a'],
    );
    assert.deepEqual(
      findCommands(transcript, /^ls/g, { exitCode: 0 }).map((r) => r.command),
      ['ls /a'],
    );
    assert.deepEqual(
      findCommands(transcript, /^ls/, { terminal: 1 }).map((r) => r.command),
      ['ls /b'],
    );
    assert.deepEqual(
      findCommands(transcript, /^ls/, { ended: true }).map((r) => r.command),
      ['ls /b', 'ls /a'],
    );
  });

  test('formatEvidence is stable and quotes strings with spaces', () => {
    assert.equal(
      formatEvidence({ pid: 42, netInode: 4026532201, command: 'ls -l' }),
      'command="ls -l" netInode=4026532201 pid=42',
    );
  });
});

describe('output attribution (issue 13)', () => {
  test('soleCommand: one command, line filters after it, background sleeps before it', () => {
    assert.deepEqual(soleCommand('grep NSpid /proc/14/status'), ['grep', 'NSpid', '/proc/14/status']);
    assert.deepEqual(soleCommand('ls -l /proc/14/ns | sort | head -n 20'), ['ls', '-l', '/proc/14/ns']);
    assert.deepEqual(soleCommand('sleep 1000 & ls -l /proc/$!/ns'), ['ls', '-l', '/proc/$!/ns']);
    assert.deepEqual(soleCommand('ls -l /proc/$(pgrep -xn sleep)/ns 2>&1'), ['ls', '-l', '/proc/$(pgrep -xn sleep)/ns', '>']);
    assert.deepEqual(soleCommand("sudo cat '/proc/self/uid_map'"), ['cat', '/proc/self/uid_map']);
    for (const line of [
      'ls /proc/$!/ns; ls -l /proc/1/ns/',
      'true && cat /proc/14/status',
      'cat /proc/14/status || echo x',
      'bash & ls /proc/$!/ns',
      'ls /proc/14/ns | sed s/a/b/',
      'ls /proc/14/ns | grep x /tmp/forged',
      'grep NSpid < /tmp/forged',
      'cat /proc/$(echo 14; echo NSpid >&2)/status',
      'ls /proc/14/ns |& cat',
    ])
      assert.equal(soleCommand(line), null, line);
    assert.equal(soleCommand("echo 'NSpid: 14 1' # /proc/14/status")?.[0], 'echo');
  });

  test('readFileOf: the one file a reader prints', () => {
    assert.equal(readFileOf('grep NSpid /proc/14/status'), '/proc/14/status');
    assert.equal(readFileOf('grep -e NSpid /proc/14/status'), '/proc/14/status');
    assert.equal(readFileOf('head -n 20 /proc/14/status'), '/proc/14/status');
    assert.equal(readFileOf('cat /proc/14/status | grep NSpid'), '/proc/14/status');
    assert.equal(readFileOf('cat /proc/14/status /tmp/forged'), null);
    assert.equal(readFileOf('grep -f /tmp/patterns /proc/14/status'), null);
    assert.equal(readFileOf("echo 'NSpid: 14 1' # /proc/14/status"), null);
    assert.equal(readFileOf('awk 1 /proc/14/status'), null);
  });
});

