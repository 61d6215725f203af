#!/usr/bin/env python3
"""cluster_proxy.py: a TCP proxy that can cut its links, for the partition test of
tests/integration/cluster.sh: a server whose NATS connections all go through it can be cut
off from NATS while it still reaches its databases.

  cluster_proxy.py LPORT:TPORT [LPORT:TPORT ...]

Listens on 127.0.0.1:LPORT for each pair and forwards every connection to
127.0.0.1:TPORT. Prints "ready" once it listens.

  SIGUSR1  cut: nothing is forwarded any more, in either direction, and new connections
           are accepted but never connected onwards: to both ends the network went silent
           (no reset, no close), as in a partition.
  SIGUSR2  heal: every connection held during the cut is closed (as TCP timeouts would
           have closed them), and new ones are forwarded again.
"""
import selectors
import signal
import socket
import sys

sel = selectors.DefaultSelector()
cut = False
heal = False
pairs = {}  # socket -> its peer (None: not connected onwards)
held = []   # sockets accepted or frozen during a cut


def on_cut(_sig, _frm):
    global cut
    cut = True


def on_heal(_sig, _frm):
    global heal
    heal = True


def do_heal():
    global cut, heal
    heal = False
    cut = False
    for s in list(pairs):
        close(s)
    for s in held:
        pairs.pop(s, None)
        try:
            s.close()
        except OSError:
            pass
    held.clear()


def close(s):
    peer = pairs.pop(s, None)
    for x in (s, peer):
        if x is None:
            continue
        try:
            sel.unregister(x)
        except (KeyError, ValueError):
            pass
        try:
            x.close()
        except OSError:
            pass
        pairs.pop(x, None)


def accept(lsock, tport):
    c, _ = lsock.accept()
    if cut:
        held.append(c)
        return
    try:
        t = socket.create_connection(("127.0.0.1", tport), timeout=5)
    except OSError:
        c.close()
        return
    c.setblocking(False)
    t.setblocking(False)
    pairs[c] = t
    pairs[t] = c
    sel.register(c, selectors.EVENT_READ, ("data", None))
    sel.register(t, selectors.EVENT_READ, ("data", None))


def forward(s):
    if cut:
        sel.unregister(s)  # frozen: the bytes stay in the kernel's buffers
        held.append(s)
        return
    peer = pairs.get(s)
    if peer is None:
        return
    try:
        data = s.recv(65536)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        data = b""
    if not data:
        close(s)
        return
    try:
        peer.setblocking(True)
        peer.sendall(data)
        peer.setblocking(False)
    except OSError:
        close(s)


def main():
    signal.signal(signal.SIGUSR1, on_cut)
    signal.signal(signal.SIGUSR2, on_heal)
    for arg in sys.argv[1:]:
        lport, tport = (int(x) for x in arg.split(":"))
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", lport))
        ls.listen(64)
        ls.setblocking(False)
        sel.register(ls, selectors.EVENT_READ, ("listen", tport))
    print("ready", flush=True)
    while True:
        try:
            events = sel.select(1.0)
        except InterruptedError:
            continue
        if heal:
            do_heal()
            continue
        for key, _ in events:
            kind, tport = key.data
            if kind == "listen":
                accept(key.fileobj, tport)
            else:
                forward(key.fileobj)


if __name__ == "__main__":
    main()
