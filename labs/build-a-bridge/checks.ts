// build-a-bridge: the topology the lab asks for, the grader's two probes, and one check a step
// (state from the snapshot; the last step also the probes and the learner's own ping).
import { failed, firstLine, passed, quoteCommand } from '../core/results';
import { basename, baseNs, nsLabel } from '../core/procs';
import {
  bridgePorts,
  hasInetAddress,
  inetAddresses,
  interfaceNamed,
  isUp,
  netnsLabel,
  netnsOf,
  otherNetns,
  probeResult,
  vethPeer,
} from '../core/net';
import { programOf, shellWords, simpleCommands, soleCommand } from '../core/shell';
import { commandsRunning } from '../core/transcript';
import { type CheckResult, type Observation, type ProbeSpec, t } from '../core/model';
import type { InterfaceInfo, NetnsInfo, Snapshot } from '../core/snapshot';

export const stepIds = {
  createNetns: 'create-netns',
  vethPair: 'veth-pair',
  bridge: 'bridge-br0',
  moveEth0: 'move-eth0',
  pingAcross: 'ping-across',
} as const;

export const topology = {
  bridge: 'br0',
  bridgeAddress: '172.17.0.1',
  nsAddress: '172.17.0.2',
  prefixLen: 16,
  nsIface: 'eth0',
} as const;

export const probes: ProbeSpec[] = [
  { kind: 'ping', id: 'bridge-to-eth0', from: { base: true }, to: topology.nsAddress, count: 1, timeoutMs: 1500 },
  { kind: 'ping', id: 'eth0-to-bridge', from: { holdingAddress: topology.nsAddress }, to: topology.bridgeAddress, count: 1, timeoutMs: 1500 },
];

function baseNetns(snapshot: Snapshot): NetnsInfo {
  const n = netnsOf(snapshot, baseNs(snapshot, 'net'));
  if (!n) throw new Error('snapshot has no base network namespace');
  return n;
}

const brLabel = `${topology.bridgeAddress}/${topology.prefixLen}`;
const nsLabelAddr = `${topology.nsAddress}/${topology.prefixLen}`;

// ---------------------------------------------------------------- step 1

export function checkCreateNetns(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const base = baseNetns(snapshot);
  const others = otherNetns(snapshot).filter((n) => n.complete);
  const pick = others.find((n) => n.names?.length) ?? others[0];
  if (pick) {
    return passed(
      t(`${netnsLabel(pick)} is a network namespace of its own; your shell is in ${nsLabel('net', base.inode)}`, `${netnsLabel(pick)} 是一个独立的网络命名空间；你的 shell 在 ${nsLabel('net', base.inode)} 中`),
      { netInode: pick.inode, name: pick.names?.[0] ?? '', baseNetInode: base.inode },
    );
  }
  return failed(
    t('Your sandbox has only its own network namespace so far.', '你的沙箱目前只有它自己的网络命名空间。'),
    t('Create one with a name: `ip netns add ns1` (ip keeps it alive with a bind mount at /run/netns/ns1).', '创建一个带名字的：`ip netns add ns1`（ip 会在 /run/netns/ns1 处用绑定挂载让它一直存在）。'),
    { baseNetInode: base.inode },
  );
}

// ---------------------------------------------------------------- step 2

function allInterfaces(snapshot: Snapshot): Array<{ netns: NetnsInfo; iface: InterfaceInfo }> {
  return snapshot.netns.flatMap((netns) => netns.interfaces.map((iface) => ({ netns, iface })));
}

export function checkVethPair(obs: Observation): CheckResult {
  const { snapshot } = obs;
  for (const { netns, iface } of allInterfaces(snapshot)) {
    const peer = vethPeer(snapshot, iface);
    if (!peer) continue;
    return passed(
      t(
        `${iface.name} (ifindex ${iface.ifindex}, ${nsLabel('net', netns.inode)}) and ${peer.iface.name} (ifindex ${peer.iface.ifindex}, ${nsLabel('net', peer.netns.inode)}) are the two ends of one veth pair`,
        `${iface.name}（ifindex ${iface.ifindex}，${nsLabel('net', netns.inode)}）和 ${peer.iface.name}（ifindex ${peer.iface.ifindex}，${nsLabel('net', peer.netns.inode)}）是同一对 veth 的两端`,
      ),
      { end1: iface.name, end1Ifindex: iface.ifindex, end2: peer.iface.name, end2Ifindex: peer.iface.ifindex },
    );
  }
  return failed(
    t('No veth pair exists in your sandbox yet.', '你的沙箱里还没有 veth 对。'),
    t('A veth pair is a virtual cable with two ends: `ip link add veth0 type veth peer name veth1`.', 'veth 对是一根有两端的虚拟网线：`ip link add veth0 type veth peer name veth1`。'),
  );
}

// ---------------------------------------------------------------- step 3

export function checkBridge(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const base = baseNetns(snapshot);
  const baseLabel = nsLabel('net', base.inode);
  const br = interfaceNamed(base, topology.bridge);
  if (!br) {
    const elsewhere = otherNetns(snapshot).find((n) => interfaceNamed(n, topology.bridge));
    if (elsewhere) {
      return failed(
        t(`br0 is in ${netnsLabel(elsewhere)}, not in your shell's ${baseLabel}.`, `br0 在 ${netnsLabel(elsewhere)} 中，而不在你的 shell 所在的 ${baseLabel} 中。`),
        t('Like docker0, the bridge lives on the "host" side: create it from your shell, not inside the namespace.', '和 docker0 一样，网桥应该在“宿主机”这一侧：请在你的 shell 里创建它，而不是在命名空间里。'),
      );
    }
    return failed(
      t(`There is no interface br0 in ${baseLabel}.`, `${baseLabel} 中没有名为 br0 的接口。`),
      t('Create the bridge: `ip link add br0 type bridge`.', '创建网桥：`ip link add br0 type bridge`。'),
    );
  }
  const ev = { bridgeIfindex: br.ifindex, baseNetInode: base.inode };
  if (br.kind !== 'bridge') {
    return failed(
      t(`br0 exists but it is a ${br.kind ?? 'plain'} device, not a bridge.`, `br0 存在，但它是 ${br.kind ?? '普通'} 设备，不是网桥。`),
      t('Delete it (`ip link del br0`) and create a bridge: `ip link add br0 type bridge`.', '删除它（`ip link del br0`），再创建一个网桥：`ip link add br0 type bridge`。'),
      ev,
    );
  }
  if (!hasInetAddress(br, topology.bridgeAddress, topology.prefixLen)) {
    const has = inetAddresses(br).join(', ') || 'none';
    return failed(
      t(`br0 has IPv4 address(es) ${has}, not ${brLabel}.`, `br0 的 IPv4 地址是 ${has}，不是 ${brLabel}。`),
      t(`Give the bridge the gateway address, as docker0 has: \`ip addr add ${brLabel} dev br0\`.`, `像 docker0 一样给网桥配上网关地址：\`ip addr add ${brLabel} dev br0\`。`),
      ev,
    );
  }
  const ports = bridgePorts(base, topology.bridge);
  const vethPort = ports.find((p) => p.kind === 'veth');
  if (!vethPort) {
    return failed(
      t(`br0 (${brLabel}) has no veth port${ports.length ? ` (ports: ${ports.map((p) => p.name).join(', ')})` : ''}.`, `br0（${brLabel}）上还没有接入 veth${ports.length ? `（已接入：${ports.map((p) => p.name).join('、')}）` : ''}。`),
      t('Plug one end of the cable into the bridge: `ip link set veth0 master br0`.', '把网线的一端插到网桥上：`ip link set veth0 master br0`。'),
      ev,
    );
  }
  const down = [br, vethPort].filter((i) => !isUp(i));
  if (down.length > 0) {
    const names = down.map((i) => i.name).join(', ');
    return failed(
      t(`${names} ${down.length > 1 ? 'are' : 'is'} DOWN.`, `${names} 处于 DOWN 状态。`),
      t(`Bring ${down.length > 1 ? 'them' : 'it'} up: ${down.map((i) => `\`ip link set ${i.name} up\``).join(', ')}.`, `把它启用：${down.map((i) => `\`ip link set ${i.name} up\``).join('、')}。`),
      ev,
    );
  }
  return passed(
    t(`br0 (bridge, ${brLabel}, UP) in ${baseLabel} has port ${vethPort.name} (veth, ifindex ${vethPort.ifindex})`, `${baseLabel} 中的 br0（网桥，${brLabel}，UP）已接入端口 ${vethPort.name}（veth，ifindex ${vethPort.ifindex}）`),
    { ...ev, port: vethPort.name, portIfindex: vethPort.ifindex },
  );
}

// ---------------------------------------------------------------- step 4

interface Eth0 {
  netns: NetnsInfo;
  iface: InterfaceInfo;
}

/** eth0 (a veth) in a namespace other than the sandbox's. */
function findEth0(snapshot: Snapshot): Eth0 | undefined {
  for (const netns of otherNetns(snapshot)) {
    const iface = interfaceNamed(netns, topology.nsIface);
    if (iface && iface.kind === 'veth') return { netns, iface };
  }
  return undefined;
}

/** Step 4's state, shared with step 5: eth0 with its address, peer on br0. Null when all good. */
function eth0Problem(snapshot: Snapshot): { result: CheckResult; eth0?: Eth0 } | { eth0: Eth0; port: InterfaceInfo } {
  const base = baseNetns(snapshot);
  const eth0 = findEth0(snapshot);
  if (!eth0) {
    const inBase = interfaceNamed(base, topology.nsIface);
    const movedVeth = otherNetns(snapshot)
      .flatMap((n) => n.interfaces.filter((i) => i.kind === 'veth').map((iface) => ({ n, iface })))
      .find(({ iface }) => iface.peer?.netnsInode === base.inode);
    if (movedVeth) {
      return {
        result: failed(
          t(`${movedVeth.iface.name} is in ${netnsLabel(movedVeth.n)}, but it is not called eth0 yet.`, `${movedVeth.iface.name} 已经在 ${netnsLabel(movedVeth.n)} 中，但它还不叫 eth0。`),
          t(`Rename it inside the namespace: \`ip netns exec ns1 ip link set ${movedVeth.iface.name} name eth0\`.`, `在命名空间里给它改名：\`ip netns exec ns1 ip link set ${movedVeth.iface.name} name eth0\`。`),
          { netInode: movedVeth.n.inode, iface: movedVeth.iface.name },
        ),
      };
    }
    return {
      result: failed(
        inBase
          ? t(`eth0 is in your shell's ${nsLabel('net', base.inode)}, not in the new namespace.`, `eth0 在你的 shell 所在的 ${nsLabel('net', base.inode)} 中，而不在新的命名空间里。`)
          : t('No namespace other than yours has an eth0 yet.', '除了你自己的命名空间，还没有哪个命名空间里有 eth0。'),
        t('Move the free end into the namespace (`ip link set veth1 netns ns1`), then rename it there: `ip netns exec ns1 ip link set veth1 name eth0`.', '把网线空着的一端移进命名空间（`ip link set veth1 netns ns1`），再在里面改名：`ip netns exec ns1 ip link set veth1 name eth0`。'),
      ),
    };
  }
  const where = netnsLabel(eth0.netns);
  const ev = { netInode: eth0.netns.inode, eth0Ifindex: eth0.iface.ifindex };
  if (!hasInetAddress(eth0.iface, topology.nsAddress, topology.prefixLen)) {
    const has = inetAddresses(eth0.iface).join(', ') || 'none';
    return {
      eth0,
      result: failed(
        t(`eth0 in ${where} has IPv4 address(es) ${has}, not ${nsLabelAddr}.`, `${where} 中的 eth0 的 IPv4 地址是 ${has}，不是 ${nsLabelAddr}。`),
        t(`Address it inside the namespace: \`ip netns exec ns1 ip addr add ${nsLabelAddr} dev eth0\`.`, `在命名空间里给它配地址：\`ip netns exec ns1 ip addr add ${nsLabelAddr} dev eth0\`。`),
        ev,
      ),
    };
  }
  const peer = vethPeer(snapshot, eth0.iface);
  if (!peer || peer.netns.inode !== base.inode || peer.iface.master !== topology.bridge) {
    const what = peer ? `${peer.iface.name} in ${netnsLabel(peer.netns)}${peer.iface.master ? `, port of ${peer.iface.master}` : ', on no bridge'}` : 'unknown';
    return {
      eth0,
      result: failed(
        t(`eth0's other end is ${what}: it is not plugged into br0.`, `eth0 的另一端是 ${what}：它没有接到 br0 上。`),
        t('The other end of the cable must be a port of br0 in your shell\'s namespace: `ip link set veth0 master br0`.', '网线的另一端必须是你的 shell 所在命名空间中 br0 的一个端口：`ip link set veth0 master br0`。'),
        ev,
      ),
    };
  }
  return { eth0, port: peer.iface };
}

export function checkMoveEth0(obs: Observation): CheckResult {
  const found = eth0Problem(obs.snapshot);
  if ('result' in found) return found.result;
  const { eth0, port } = found;
  return passed(
    t(
      `eth0 (${nsLabelAddr}) in ${netnsLabel(eth0.netns)} is the peer of ${port.name}, a port of br0 in ${nsLabel('net', baseNs(obs.snapshot, 'net'))}`,
      `${netnsLabel(eth0.netns)} 中的 eth0（${nsLabelAddr}）与 ${port.name} 是一对，而 ${port.name} 是 ${nsLabel('net', baseNs(obs.snapshot, 'net'))} 中 br0 的端口`,
    ),
    { netInode: eth0.netns.inode, eth0Ifindex: eth0.iface.ifindex, port: port.name },
  );
}

// ---------------------------------------------------------------- step 5

const pingTargets: string[] = [topology.nsAddress, topology.bridgeAddress];

/** True when the command line's output can only be ping's (see learnerPing). */
function pingsAlone(command: string): boolean {
  const sole = soleCommand(command);
  if (sole) return programOf(sole) === 'ping';
  const words = shellWords(command);
  if (words.some((w) => ['|', '||', ';', '&', '|&', ';;'].includes(w) || /^\d*[<>]/.test(w) || /[`]|\$\(/.test(w))) return false;
  const stages = simpleCommands(command);
  const last = stages.pop();
  // `ip ... set|add|del ...` (also through `ip netns exec <ns> ip ...`, never another program) and `sleep N`.
  const quiet = (st: string[]): boolean => {
    if (programOf(st) === 'sleep') return st.length === 2 && /^\d+(\.\d+)?[smhd]?$/.test(st[1] ?? '');
    if (programOf(st) !== 'ip') return false;
    const exec = st.indexOf('exec');
    if (exec >= 0) return exec === 2 && st[1] === 'netns' && basename(st[4]) === 'ip' && quiet(st.slice(4));
    return st.some((w) => ['set', 'add', 'del', 'delete'].includes(w)) && !st.some((w) => /^-/.test(w));
  };
  return !!last && programOf(last) === 'ping' && stages.every(quiet);
}

/** The learner's own successful ping across the bridge (soft evidence), newest first. */
function learnerPing(obs: Observation): { command: string; received: string } | undefined {
  for (const { record, words } of commandsRunning(obs.transcript, ['ping'])) {
    // The host's own probes prove the path; this is the learner doing it too. Only a line whose
    // output is ping's (issue 13: `echo '1 received'` is not): ping alone, or last after `&&`-joined
    // `ip` and `sleep` commands, which print nothing when they succeed.
    if (record.exitCode !== 0 || !words.some((w) => pingTargets.includes(w)) || !pingsAlone(record.command)) continue;
    const m = /(\d+) (?:packets )?received/.exec(record.output);
    if (m && Number(m[1]) > 0) return { command: quoteCommand(record.command), received: m[0] };
  }
  return undefined;
}

export function checkPingAcross(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const found = eth0Problem(snapshot);
  if ('result' in found) return found.result;
  const { eth0 } = found;
  if (!isUp(eth0.iface)) {
    return failed(
      t(`eth0 in ${netnsLabel(eth0.netns)} is DOWN.`, `${netnsLabel(eth0.netns)} 中的 eth0 处于 DOWN 状态。`),
      t('Bring it up inside the namespace: `ip netns exec ns1 ip link set eth0 up` (and `lo` while you are there).', '在命名空间里启用它：`ip netns exec ns1 ip link set eth0 up`（顺便也把 `lo` 启用）。'),
      { netInode: eth0.netns.inode },
    );
  }
  const [there, back] = probes.map((p) => probeResult(obs, p.id));
  if (!there || !back) {
    return failed(
      t('The grader has not pinged across your bridge yet.', '评分程序还没有通过你的网桥 ping 过。'),
      t('Press Check again in a moment.', '请稍后再点一次“检查”。'),
    );
  }
  for (const probe of [there, back]) {
    if (!probe.ok) {
      return failed(
        t(
          `The grader's ping to ${probe.to} got no reply${probe.reason ? ` (${firstLine(probe.reason, 80)})` : ''}.`,
          `评分程序 ping ${probe.to} 没有收到回复${probe.reason ? `（${firstLine(probe.reason, 80)}）` : ''}。`,
        ),
        t('Every link on the path must be UP: br0, veth0 and eth0. Check with `ip -br link` and `ip netns exec ns1 ip -br addr`.', '路径上的每个接口都必须是 UP：br0、veth0 和 eth0。用 `ip -br link` 和 `ip netns exec ns1 ip -br addr` 检查。'),
        { probe: probe.id, to: probe.to },
      );
    }
  }
  const mine = learnerPing(obs);
  if (!mine) {
    return failed(
      t(`The path works (the grader pinged ${topology.nsAddress} and back), but you have not pinged across yourself yet.`, `链路是通的（评分程序已经 ping 通了 ${topology.nsAddress} 并收到回复），但你自己还没有 ping 过。`),
      t(`From your shell: \`ping -c 2 ${topology.nsAddress}\`.`, `在你的 shell 中运行：\`ping -c 2 ${topology.nsAddress}\`。`),
    );
  }
  return passed(
    t(
      `Your \`${mine.command}\` got replies (${mine.received}), and so did the grader: ${topology.bridgeAddress} (${nsLabel('net', there.fromNetnsInode ?? undefined)}) ⇄ ${topology.nsAddress} (${nsLabel('net', back.fromNetnsInode ?? undefined)}) over br0`,
      `你的 \`${mine.command}\` 收到了回复（${mine.received}），评分程序也一样：${topology.bridgeAddress}（${nsLabel('net', there.fromNetnsInode ?? undefined)}）⇄ ${topology.nsAddress}（${nsLabel('net', back.fromNetnsInode ?? undefined)}），经由 br0`,
    ),
    { netInode: eth0.netns.inode, graderReplies: there.received + back.received, command: mine.command },
  );
}
