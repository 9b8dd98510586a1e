"""A tiny HTTP endpoint for tend's benchmarks and fault tests: healthy, or misbehaving in
one chosen way. Standard library only; run it with /usr/bin/python3.

    httpsrv.py --port-file FILE [--count FILE] [--log FILE] [--ok-first N] [--fault MODE]

It listens on 127.0.0.1 (port chosen by the kernel, written to --port-file once it
listens). The first --ok-first connections (all of them without --fault) get
"200 ok"; after that, each connection gets the fault:

    slowloris  the status line and headers, one byte per second, never finished
    halfopen   accepted, never read, never answered, never closed
    reset      the request is read, half a header is sent, then a TCP reset
    bigbody    200 with Content-Length 100 MB, and the body streamed until the
               client stops reading or closes
    hang       the request is read, nothing is answered, the socket stays open

--count FILE holds the number of connections answered so far (rewritten in place).
--log FILE gets one line per connection: "N MODE bytes_sent=B end=WHY".
"""

import argparse
import os
import socket
import struct
import sys
import threading
import time

BIG = 100 * 1024 * 1024
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"

lock = threading.Lock()
held = []  # sockets kept open on purpose (halfopen, hang)


def read_request(conn):
    """Read until the end of the request headers (bounded); False if the peer left."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


def serve_ok(conn, acc):
    if not read_request(conn):
        return "peer-closed"
    conn.sendall(OK)
    acc[0] += len(OK)
    return "answered"


def serve_slowloris(conn, acc):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: " + b"a" * 4096
    for i in range(len(head)):
        conn.sendall(head[i:i + 1])
        acc[0] += 1
        time.sleep(1)
    return "done"


def serve_reset(conn, acc):
    if not read_request(conn):
        return "peer-closed"
    part = b"HTTP/1.1 200 OK\r\nContent-Le"
    conn.sendall(part)
    acc[0] += len(part)
    time.sleep(0.05)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return "reset"


def serve_bigbody(conn, acc):
    if not read_request(conn):
        return "peer-closed"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % BIG
    conn.sendall(head)
    acc[0] += len(head)
    chunk = b"x" * 65536
    body = 0
    conn.settimeout(10)
    while body < BIG:
        n = conn.send(chunk[:min(len(chunk), BIG - body)])
        body += n
        acc[0] += n
    return "complete"


def serve_hold(conn, acc, read_first):
    if read_first and not read_request(conn):
        return "peer-closed"
    with lock:
        held.append(conn)
    return "held"


def handle(conn, n, mode, log):
    acc = [0]  # bytes sent, kept when a send fails
    why = "?"
    try:
        if mode == "ok":
            why = serve_ok(conn, acc)
        elif mode == "slowloris":
            why = serve_slowloris(conn, acc)
        elif mode == "reset":
            why = serve_reset(conn, acc)
        elif mode == "bigbody":
            why = serve_bigbody(conn, acc)
        elif mode == "halfopen":
            why = serve_hold(conn, acc, False)
        elif mode == "hang":
            why = serve_hold(conn, acc, True)
    except OSError as e:
        why = type(e).__name__
    if why != "held":
        try:
            conn.close()
        except OSError:
            pass
    if log is not None:
        with lock:
            log.write(f"{n} {mode} bytes_sent={acc[0]} end={why}\n")
            log.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--count")
    ap.add_argument("--log")
    ap.add_argument("--ok-first", type=int, default=-1)
    ap.add_argument("--fault", default="ok",
                    choices=["ok", "slowloris", "halfopen", "reset", "bigbody", "hang"])
    args = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.getsockname()[1]}\n")
    os.rename(tmp, args.port_file)

    log = open(args.log, "a", buffering=1) if args.log else None
    count_fd = os.open(args.count, os.O_WRONLY | os.O_CREAT, 0o644) if args.count else None
    n = 0
    while True:
        conn, _ = srv.accept()
        n += 1
        if args.fault == "ok" or (args.ok_first >= 0 and n <= args.ok_first):
            mode = "ok"
        else:
            mode = args.fault
        if mode == "ok":
            conn.settimeout(5)
            # Answer in this thread: cheap, and keeps the count exact and ordered.
            handle(conn, n, mode, log)
        else:
            threading.Thread(target=handle, args=(conn, n, mode, log), daemon=True).start()
        if count_fd is not None:
            os.pwrite(count_fd, b"%12d\n" % n, 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
