#!/usr/bin/env python3
# One UDP flow (fixed source port) whose datagrams differ per packet: each
# is sent with its own payload size, DSCP (IP_TOS / IPV6_TCLASS set
# before each send) and TTL / hop limit (default 64), numbered in its
# first 4 bytes; a udp-echo server sends them back. Prints one JSON line: which numbers came back.
# Usage: udp-pattern.py HOST PORT SPORT SIZE:DSCP[:TTL] [SIZE:DSCP[:TTL] ...]
import json
import select
import socket
import struct
import sys
import time

host, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pattern = [tuple(int(x) for x in p.split(':')) for p in sys.argv[4:]]
v6 = ':' in host
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('::' if v6 else '0.0.0.0', sport))
echoed = set()


def drain(until):
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return
        data, _ = s.recvfrom(65535)
        if len(data) >= 4:
            echoed.add(struct.unpack('!I', data[:4])[0])


for i, (size, dscp, *rest) in enumerate(pattern):
    ttl = rest[0] if rest else 64
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, dscp << 2)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, dscp << 2)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    s.sendto(struct.pack('!I', i) + b'x' * max(0, size - 4), (host, port))
    # The first datagram opens the session in the slow path: let it settle.
    drain(time.monotonic() + (0.3 if i == 0 else 0.05))
drain(time.monotonic() + 1.0)
print(json.dumps({'sent': len(pattern), 'echoed': sorted(echoed)}))
