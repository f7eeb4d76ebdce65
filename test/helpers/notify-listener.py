#!/usr/bin/env python3
# A service manager's notification socket, set up as systemd does for
# Type=notify: an AF_UNIX datagram socket with SO_PASSCRED, so each datagram
# carries its sender's pid (what NotifyAccess=main checks). Prints one JSON
# line per datagram. With --stop-on-ready it SIGSTOPs the sender as soon as
# the first READY=1 arrives (later ones, after a reload, pass), so a test can look at the state the sender was in when it
# declared itself ready. With --never-read it binds and reads nothing.
import argparse
import json
import os
import signal
import socket
import struct

parser = argparse.ArgumentParser()
parser.add_argument('path', help="socket path, or @name for the abstract namespace")
parser.add_argument('--stop-on-ready', action='store_true')
parser.add_argument('--never-read', action='store_true', help='a manager that is stuck: the queue fills up')
args = parser.parse_args()

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind('\0' + args.path[1:] if args.path.startswith('@') else args.path)
print(json.dumps({'listening': args.path}), flush=True)
if args.never_read:
    signal.pause()

UCRED = struct.Struct('iII')
stop_pending = args.stop_on_ready
while True:
    data, ancillary, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(UCRED.size))
    pid = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = UCRED.unpack(payload[:UCRED.size])[0]
    text = data.decode('utf-8', 'replace')
    fields = dict(line.split('=', 1) for line in text.split('\n') if '=' in line)
    stopped = False
    if stop_pending and fields.get('READY') == '1' and pid:
        os.kill(pid, signal.SIGSTOP)
        stopped = True
        stop_pending = False
    print(json.dumps({'pid': pid, 'raw': text, 'fields': fields, 'stopped': stopped}), flush=True)
