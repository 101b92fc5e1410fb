# TLS sessions that try to resume (t-67). For each line read from stdin, one SMTP
# session: greeting, EHLO, STARTTLS, the handshake, EHLO inside TLS (which also reads
# the TLS 1.3 session ticket), QUIT. The line says which TLS session to offer: "fresh"
# none, "resume" the one the last session ended with. Prints "reused" or "new" per
# session, flushed at once, so that the caller can act between sessions.
# argv: port, TLS version ("1.2" or "1.3"), then "noticket" to leave the session ticket
# extension out (TLS 1.2 resumption then needs the server's session cache).
import socket
import ssl
import sys

port, version = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
pinned = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[version]
ctx.minimum_version = pinned
ctx.maximum_version = pinned
if version == "1.2":
    # One cipher, so that both servers negotiate and log the same.
    ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")
if "noticket" in sys.argv[3:]:
    ctx.options |= ssl.OP_NO_TICKET


def replies(f):
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("connection closed")
        if line[3:4] != b"-":
            return line


def session(offer):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = sock.makefile("rb")
    replies(f)
    sock.sendall(b"EHLO client.example\r\n")
    replies(f)
    sock.sendall(b"STARTTLS\r\n")
    if not replies(f).startswith(b"220"):
        raise SystemExit("STARTTLS refused")
    tls = ctx.wrap_socket(sock, session=offer)
    tf = tls.makefile("rb")
    tls.sendall(b"EHLO client.example\r\n")
    replies(tf)
    tls.sendall(b"QUIT\r\n")
    replies(tf)
    result = (tls.session_reused, tls.session)
    tls.close()
    return result


last = None
for command in sys.stdin:
    command = command.strip()
    if not command:
        continue
    reused, last = session(last if command == "resume" else None)
    print("reused" if reused else "new", flush=True)
