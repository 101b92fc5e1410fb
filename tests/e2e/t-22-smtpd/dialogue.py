# One scripted SMTP session for t-22: connect from a chosen local address, read the
# greeting, then for each step send its bytes (one write) and read the given number of
# replies. Prints every reply line; "<EOF>" when the server closed the connection.
# argv: port, source address, JSON list of [text, replies] (text as Latin-1).
import json
import socket
import sys

port, source, steps = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
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
    replies(1)
    for text, count in steps:
        sock.sendall(text.encode("latin-1"))
        replies(count)
except (EOFError, ConnectionResetError):
    out.append("<EOF>")
sock.close()
print("\n".join(out))
