# A connection cache client as Postfix's SMTP client speaks to scache on Linux
# (global/scache_clnt.c): null-terminated attribute lists, and descriptors passed with
# a dummy list before each one and, after one is received, a dummy list back.
# Usage: scache_client.py SOCKET. Prints one line per step.
import os
import select
import socket
import sys
import time


def send(sock, *pairs):
    data = b""
    for name, value in pairs:
        data += name.encode() + b"\0" + str(value).encode() + b"\0"
    sock.sendall(data + b"\0")


def receive(sock):
    # One attribute list: name\0value\0 ... \0. Read byte by byte, so that nothing
    # after the list (a descriptor's data byte) is consumed.
    fields, current = [], b""
    while True:
        b = sock.recv(1)
        if not b:
            raise EOFError("end of input")
        if b != b"\0":
            current += b
            continue
        if current == b"" and len(fields) % 2 == 0:
            return [(fields[i].decode(), fields[i + 1].decode()) for i in range(0, len(fields), 2)]
        fields.append(current)
        current = b""


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    hello = receive(sock)
    assert hello == [("protocol", "connection_cache_protocol")], hello
    return sock


def save_endp(sock, ttl, label, prop, fd):
    send(sock, ("request", "save_endp"), ("ttl", ttl), ("label", label), ("property", prop))
    dummy = receive(sock)
    if dummy != [("dummy", "")]:
        return "save_endp %s: %s" % (label, dummy)
    socket.send_fds(sock, [b"\0"], [fd])
    return "save_endp %s: %s" % (label, receive(sock))


def save_dest(sock, ttl, label, prop, endp):
    send(sock, ("request", "save_dest"), ("ttl", ttl), ("label", label), ("property", prop),
         ("label", endp))
    return "save_dest %s: %s" % (label, receive(sock))


def find(sock, what, label):
    send(sock, ("request", what), ("label", label))
    reply = receive(sock)
    if reply[0] != ("status", "0"):
        return "%s %s: %s" % (what, label, reply), None
    send(sock, ("dummy", ""))
    select.select([sock], [], [], 10)
    _, fds, _, _ = socket.recv_fds(sock, 1, 1)
    send(sock, ("dummy", ""))
    return "%s %s: %s fds=%d" % (what, label, reply, len(fds)), fds[0] if fds else None


def works(fd, peer):
    # The descriptor that came back is the session saved: bytes written to it arrive.
    conn = socket.socket(fileno=fd)
    conn.sendall(b"ping")
    got = peer.recv(4)
    conn.close()
    return "session works: %s" % (got == b"ping")


def main():
    sock = connect(sys.argv[1])
    out = []
    ours, peer = socket.socketpair()
    out.append(find(sock, "find_dest", "smtp:example.com:25")[0])
    out.append(save_endp(sock, 100, "smtp:192.0.2.1:25", "endp-props", ours.fileno()))
    ours.close()
    out.append(save_dest(sock, 100, "smtp:example.com:25", "dest-props", "smtp:192.0.2.1:25"))
    line, fd = find(sock, "find_dest", "smtp:example.com:25")
    out.append(line)
    if fd is not None:
        out.append(works(fd, peer))
    out.append(find(sock, "find_endp", "smtp:192.0.2.1:25")[0])
    # A second session for the endpoint, found by address.
    ours2, peer2 = socket.socketpair()
    out.append(save_endp(sock, 100, "smtp:192.0.2.1:25", "endp-2", ours2.fileno()))
    ours2.close()
    line, fd = find(sock, "find_endp", "smtp:192.0.2.1:25")
    out.append(line)
    if fd is not None:
        out.append(works(fd, peer2))
    # Bad requests.
    send(sock, ("request", "bogus"))
    out.append("bogus: %s" % receive(sock))
    send(sock, ("request", "save_dest"), ("ttl", 0), ("label", "x"), ("property", "p"),
         ("label", "e"))
    out.append("ttl 0: %s" % receive(sock))
    # The ttl limit (connection_cache_ttl_limit = 2s) cuts a 100s request short.
    ours3, peer3 = socket.socketpair()
    out.append(save_endp(sock, 100, "smtp:192.0.2.9:25", "short", ours3.fileno()))
    ours3.close()
    time.sleep(3.5)
    out.append(find(sock, "find_endp", "smtp:192.0.2.9:25")[0])
    # The expired session was closed by the cache.
    peer3.settimeout(5)
    out.append("expired session closed: %s" % (peer3.recv(1) == b""))
    sock.close()
    print("\n".join(out))


main()
