// The namespace the BPF_PROG_RUN tests and benchmarks share (commands for
// reexecInNetns): in0 (ingress, 10.8.0.1/24, fd08::1/64) and out0 (egress,
// 10.9.0.1/24, fd09::1/64, MAC 02:00:00:00:09:01), each a veth with its peer
// up; 10.9.0.2 / fd09::2 are permanent neighbours (02:00:00:00:09:02).
export const TWO_PORTS: readonly string[] = [
  'ip link add name in0 type veth peer name in0p',
  'ip link add name out0 address 02:00:00:00:09:01 type veth peer name out0p',
  'for d in in0 in0p out0 out0p lo; do ip link set $d up; done',
  'sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1',
  'ip addr add 10.8.0.1/24 dev in0 && ip addr add 10.9.0.1/24 dev out0',
  'ip addr add fd08::1/64 dev in0 nodad && ip addr add fd09::1/64 dev out0 nodad',
  'ip neigh add 10.9.0.2 lladdr 02:00:00:00:09:02 dev out0 nud permanent',
  'ip neigh add fd09::2 lladdr 02:00:00:00:09:02 dev out0 nud permanent',
];
