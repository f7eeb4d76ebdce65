#!/usr/bin/env python3
# Sends the frames of a file (each a big-endian u16 length, then the frame)
# out of an interface through an AF_PACKET socket, `burst` frames at a time
# with `pause_ms` between bursts, and prints what went out as one JSON line.
import json
import socket
import struct
import sys
import time

ifname, path, burst, pause_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((ifname, 0))
with open(path, 'rb') as f:
    data = f.read()
sent = failed = 0
errors = {}
at = 0
n = 0
while at < len(data):
    (length,) = struct.unpack_from('>H', data, at)
    frame = data[at + 2:at + 2 + length]
    at += 2 + length
    try:
        sock.send(frame)
        sent += 1
    except OSError as e:
        failed += 1
        errors[e.strerror] = errors.get(e.strerror, 0) + 1
    n += 1
    if n % burst == 0:
        time.sleep(pause_ms / 1000)
print(json.dumps({'sent': sent, 'failed': failed, 'errors': errors}))
