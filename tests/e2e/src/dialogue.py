# One scripted SMTP session for the smtpd differential tests (t-22, t-24): connect from a
# chosen local address (inside TLS at once when argv[4] is "wrapper"), read the greeting,
# then for each step send its bytes (one write) and read the given number of replies. A
# step "<TLS>" starts the handshake: TLSv1.2 with one cipher, so that both servers
# negotiate the same and log the same ("<TLS CERT certfile keyfile>" presents a client
# certificate); "<SLEEP n>" waits n seconds. Prints every reply
# line; "<EOF>" when the server closed the connection.
# argv: port, source address, JSON list of [text, replies] (text as Latin-1), mode.
import json
import socket
import ssl
import sys
import time

port, source, steps = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "plain"


def tls_context(cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")
    if cert:
        ctx.load_cert_chain(*cert)
    return ctx


context = tls_context()
sock = socket.socket()
sock.bind((source, 0))
sock.settimeout(60)
sock.connect(("127.0.0.1", port))
buf = b""
out = []


def line():
    global buf
    while b"\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise EOFError
        buf += data
    text, buf = buf.split(b"\r\n", 1)
    return text


def replies(count):
    for _ in range(count):
        while True:
            text = line()
            out.append(text.decode("latin-1"))
            if len(text) < 4 or text[3:4] != b"-":
                break


try:
    if mode == "wrapper":
        sock = context.wrap_socket(sock)
    replies(1)
    for text, count in steps:
        if text.startswith("<SLEEP "):
            time.sleep(float(text[7:-1]))
            continue
        if text == "<TLS>" or text.startswith("<TLS CERT "):
            # Whatever was read ahead in plaintext is not part of the TLS session.
            buf = b""
            cert = text[len("<TLS CERT "):-1].split() if text != "<TLS>" else None
            sock = tls_context(cert).wrap_socket(sock)
            out.append("<TLS>")
            continue
        sock.sendall(text.encode("latin-1"))
        replies(count)
except (EOFError, ConnectionResetError, ssl.SSLError) as e:
    out.append("<EOF>")
sock.close()
print("\n".join(out))
