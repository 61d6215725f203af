#!/usr/bin/env python3
"""sec_net.py: raw-socket attackers for the security tests (tests/integration/sec_*.sh).

  nats-probe PORT [USER PASSWORD]   CONNECT to a NATS server on 127.0.0.1:PORT (with the
                                    credentials, if given), SUB to ">" and PING. Prints
                                    "ok" when the server answers PONG, or "denied: <its
                                    -ERR>" and exits 1.
  idle N PORT HOLD_S [CA]           Opens N connections to 127.0.0.1:PORT, each sending half
                                    a request (headers never finished), and holds them up to
                                    HOLD_S seconds. Prints "opened O" at once (O: accepted
                                    and not refused within 0.2 s), then, when all are closed
                                    by the server or HOLD_S passed, "closed C after S s".
                                    With CA (a PEM file): over TLS, each connection first
                                    completes a handshake verified against CA.
  fake-pg PORT OUT                  A PostgreSQL impostor on 127.0.0.1:PORT: asks each
                                    client for its password in clear text (as any server may)
                                    and appends what it gets to OUT. Runs until killed.
"""
import select
import socket
import ssl
import struct
import sys
import time


def nats_probe(port, user=None, password=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    info = f.readline()
    if not info.startswith(b"INFO"):
        print("denied: no INFO")
        return 1
    opts = '{"verbose":false,"pedantic":false'
    if user is not None:
        opts += ',"user":"%s","pass":"%s"' % (user, password)
    opts += "}"
    s.sendall(("CONNECT %s\r\nSUB > 1\r\nPING\r\n" % opts).encode())
    while True:
        line = f.readline().strip()
        if not line:
            print("denied: connection closed")
            return 1
        if line.startswith(b"-ERR"):
            print("denied: " + line.decode(errors="replace"))
            return 1
        if line == b"PONG":
            print("ok")
            return 0


def gone(c):
    """Whether the server closed c (non-blocking; a TLS record that is no data, such as a
    session ticket, is not a close)."""
    try:
        return c.recv(4096) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except OSError:
        return True


def idle(n, port, hold, ca=None):
    tls = None
    if ca:
        tls = ssl.create_default_context(cafile=ca)
    socks = []
    for _ in range(n):
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=2)
            if tls:
                c = tls.wrap_socket(c, server_hostname="127.0.0.1")
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            c.setblocking(False)
            socks.append(c)
        except OSError:
            pass
    time.sleep(0.2)
    alive = []
    for c in socks:
        r, _, _ = select.select([c], [], [], 0)
        if r and gone(c):
            c.close()
            continue
        alive.append(c)
    print("opened %d" % len(alive), flush=True)
    start = time.time()
    closed = 0
    while alive and time.time() - start < hold:
        r, _, _ = select.select(alive, [], [], 0.5)
        for c in r:
            if gone(c):
                alive.remove(c)
                c.close()
                closed += 1
    print("closed %d after %.1f s" % (closed, time.time() - start), flush=True)
    for c in alive:
        c.close()
    return 0


def fake_pg(port, out):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    while True:
        c, _ = srv.accept()
        c.settimeout(5)
        try:
            n = struct.unpack("!I", c.recv(4))[0]
            body = c.recv(n - 4)
            if struct.unpack("!I", body[:4])[0] == 80877103:  # SSLRequest: no
                c.sendall(b"N")
                n = struct.unpack("!I", c.recv(4))[0]
                c.recv(n - 4)
            c.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
            kind = c.recv(1)
            n = struct.unpack("!I", c.recv(4))[0]
            pw = c.recv(n - 4).rstrip(b"\0")
            if kind == b"p":
                with open(out, "ab") as f:
                    f.write(pw + b"\n")
        except (OSError, struct.error):
            pass
        c.close()


def main():
    cmd = sys.argv[1]
    if cmd == "nats-probe":
        a = sys.argv[2:]
        return nats_probe(int(a[0]), *(a[1:3] if len(a) >= 3 else []))
    if cmd == "idle":
        return idle(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), *sys.argv[5:6])
    if cmd == "fake-pg":
        return fake_pg(int(sys.argv[2]), sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
