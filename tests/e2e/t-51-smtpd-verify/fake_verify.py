# A verify service for e2e t-51 that cannot serve: it listens on the UNIX socket
# argv[1], announces Postfix's verify protocol (misspelt as Postfix spells it) and
# answers every query with status -2 (VRFY_STAT_BAD, sent unsigned as Postfix's
# attr_print0 sends a negative int), as a broken service would. Prints "ready" once
# listening.
import os
import socket
import sys
import threading


def attrs(pairs):
    return b"".join(k + b"\0" + v + b"\0" for k, v in pairs) + b"\0"


def requests(buf):
    """Complete requests in buf (name NUL value NUL ... NUL), and what is left."""
    done = 0
    pos = 0
    while True:
        nul = buf.find(b"\0", pos)
        if nul < 0:
            return done, buf
        if nul == pos:  # an empty name ends the request
            done += 1
            buf = buf[nul + 1:]
            pos = 0
            continue
        value_end = buf.find(b"\0", nul + 1)
        if value_end < 0:
            return done, buf
        pos = value_end + 1


def session(conn):
    conn.sendall(attrs([(b"protocol", b"address_verification_prrotocol")]))
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            break
        count, buf = requests(buf + data)
        for _ in range(count):
            conn.sendall(attrs([
                (b"status", b"4294967294"),
                (b"recipient_status", b"0"),
                (b"reason", b"broken"),
            ]))
    conn.close()


path = sys.argv[1]
if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
os.chmod(path, 0o666)
server.listen(16)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    threading.Thread(target=session, args=(conn,), daemon=True).start()
