// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { line, lines, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // The topology without veth0 on the bridge: the ping cannot cross.
  'no-port': lines(
    line(0, 'ip netns add ns1 && ip link add veth0 type veth peer name veth1 && ip link add br0 type bridge'),
    line(0, 'ip addr add 172.17.0.1/16 dev br0 && ip link set br0 up && ip link set veth0 up'),
    line(0, 'ip link set veth1 netns ns1 && ip netns exec ns1 ip link set veth1 name eth0 && ip netns exec ns1 ip addr add 172.17.0.2/16 dev eth0 && ip netns exec ns1 ip link set eth0 up'),
    line(0, 'ping -c 1 -W 1 172.17.0.2', 1800),
  ),
  // eth0 moved and up, but without its address.
  'eth0-no-address': lines(
    line(0, 'ip netns add ns1 && ip link add veth0 type veth peer name veth1 && ip link add br0 type bridge'),
    line(0, 'ip addr add 172.17.0.1/16 dev br0 && ip link set veth0 master br0 && ip link set br0 up && ip link set veth0 up'),
    line(0, 'ip link set veth1 netns ns1 && ip netns exec ns1 ip link set veth1 name eth0 && ip netns exec ns1 ip link set eth0 up'),
    line(0, 'ping -c 1 -W 1 172.17.0.2', 1800),
  ),
};
