// Lab `build-a-bridge`: do by hand what Docker's bridge driver does. A network namespace, a veth
// pair, a bridge br0 with 172.17.0.1/16 in the sandbox's own namespace, one veth end moved into the
// namespace as eth0 with 172.17.0.2/16, everything up, and a ping across. Graded from kernel state
// plus two real pings the grader runs itself (host-side probes, inside the sandbox's namespaces).
import { typed } from '../core/solution';
import { type LabDef, t } from '../core/model';
import { checkBridge, checkCreateNetns, checkMoveEth0, checkPingAcross, checkVethPair, probes, stepIds } from './checks';

export { probes, stepIds, topology } from './checks';

// ---------------------------------------------------------------- the lab

export const buildABridge: LabDef = {
  id: 'build-a-bridge',
  title: t('Build a bridge: container networking by hand', '搭一座网桥：亲手实现容器网络'),
  terminals: 1,
  steps: [
    {
      id: stepIds.createNetns,
      title: t('Create a network namespace', '创建一个网络命名空间'),
      kinds: ['state'],
      check: checkCreateNetns,
      hints: [
        t('`ip netns add NAME` creates a network namespace and keeps it alive with no process in it.', '`ip netns add 名字` 会创建一个网络命名空间，即使里面没有进程它也会一直存在。'),
        t('Run `ip netns add ns1`, then `ip netns list`.', '运行 `ip netns add ns1`，然后运行 `ip netns list`。'),
      ],
    },
    {
      id: stepIds.vethPair,
      title: t('Make a veth pair', '创建一对 veth'),
      kinds: ['state'],
      check: checkVethPair,
      hints: [
        t('A veth pair is two interfaces joined like the ends of a cable: what enters one leaves the other.', 'veth 对是两个像网线两端一样连在一起的接口：从一端进去的数据会从另一端出来。'),
        t('Run `ip link add veth0 type veth peer name veth1`.', '运行 `ip link add veth0 type veth peer name veth1`。'),
      ],
    },
    {
      id: stepIds.bridge,
      title: t('Create br0 with 172.17.0.1/16 and plug veth0 in', '创建 br0（172.17.0.1/16）并接入 veth0'),
      kinds: ['state'],
      check: checkBridge,
      hints: [
        t('A bridge is a virtual switch; docker0 is one, with the gateway address 172.17.0.1/16.', '网桥是一个虚拟交换机；docker0 就是一个网桥，网关地址是 172.17.0.1/16。'),
        t('`ip link add br0 type bridge`, `ip addr add 172.17.0.1/16 dev br0`, `ip link set veth0 master br0`.', '依次运行 `ip link add br0 type bridge`、`ip addr add 172.17.0.1/16 dev br0`、`ip link set veth0 master br0`。'),
        t('Then bring both up: `ip link set br0 up` and `ip link set veth0 up`.', '然后启用两者：`ip link set br0 up` 和 `ip link set veth0 up`。'),
      ],
    },
    {
      id: stepIds.moveEth0,
      title: t('Move the other end in as eth0 with 172.17.0.2/16', '把另一端移入命名空间，命名为 eth0，地址 172.17.0.2/16'),
      kinds: ['state'],
      check: checkMoveEth0,
      hints: [
        t('`ip link set veth1 netns ns1` moves an interface into another network namespace.', '`ip link set veth1 netns ns1` 会把接口移到另一个网络命名空间。'),
        t('Inside it (`ip netns exec ns1 ...`), rename veth1 to eth0 and give it 172.17.0.2/16.', '在命名空间里（`ip netns exec ns1 ...`）把 veth1 改名为 eth0，并给它配上 172.17.0.2/16。'),
        t('`ip netns exec ns1 ip link set veth1 name eth0` then `ip netns exec ns1 ip addr add 172.17.0.2/16 dev eth0`.', '`ip netns exec ns1 ip link set veth1 name eth0`，然后 `ip netns exec ns1 ip addr add 172.17.0.2/16 dev eth0`。'),
      ],
    },
    {
      id: stepIds.pingAcross,
      title: t('Bring eth0 up and ping across', '启用 eth0 并 ping 通对端'),
      kinds: ['state', 'command', 'output'],
      check: checkPingAcross,
      probes,
      hints: [
        t('An interface carries no traffic while it is DOWN.', '接口处于 DOWN 状态时不会传输任何数据。'),
        t('`ip netns exec ns1 ip link set eth0 up` (and lo), then `ping -c 2 172.17.0.2`.', '`ip netns exec ns1 ip link set eth0 up`（还有 lo），然后运行 `ping -c 2 172.17.0.2`。'),
      ],
    },
  ],
  solution: [
    { stepId: stepIds.createNetns, actions: typed(0, ['ip netns add ns1', 300]) },
    { stepId: stepIds.vethPair, actions: typed(0, ['ip link add veth0 type veth peer name veth1', 300]) },
    {
      stepId: stepIds.bridge,
      actions: typed(0, ['ip link add br0 type bridge && ip addr add 172.17.0.1/16 dev br0 && ip link set veth0 master br0 && ip link set br0 up && ip link set veth0 up', 400]),
    },
    {
      stepId: stepIds.moveEth0,
      actions: typed(0, ['ip link set veth1 netns ns1 && ip netns exec ns1 ip link set veth1 name eth0 && ip netns exec ns1 ip addr add 172.17.0.2/16 dev eth0', 400]),
    },
    {
      stepId: stepIds.pingAcross,
      actions: typed(0, ['ip netns exec ns1 ip link set lo up && ip netns exec ns1 ip link set eth0 up && sleep 1 && ping -c 2 172.17.0.2', 2500]),
    },
  ],
};
