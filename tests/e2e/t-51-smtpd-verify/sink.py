# An SMTP server for e2e t-51's address probes: listens on 127.0.0.1 port argv[1],
# refuses recipients whose local part starts with "no" (550 5.1.1), answers those that
# start with "slow" after 20 seconds, and accepts the rest. Prints "ready" once
# listening.
import socket
import sys
import threading
import time


def session(conn):
    f = conn.makefile("rwb", buffering=0)

    def say(text):
        f.write(text.encode() + b"\r\n")

    say("220 sink.e2e.test ESMTP")
    in_data = False
    for raw in f:
        line = raw.decode("latin-1").rstrip("\r\n")
        if in_data:
            if line == ".":
                in_data = False
                say("250 2.0.0 Ok: queued")
            continue
        verb = line[:4].upper()
        if verb in ("EHLO", "HELO"):
            say("250-sink.e2e.test\r\n250 PIPELINING" if verb == "EHLO" else "250 sink.e2e.test")
        elif verb == "RCPT":
            addr = line.split(":", 1)[1].strip().split(" ")[0]
            local = addr.strip("<>").split("@")[0]
            if local.startswith("slow"):
                time.sleep(20)
            if local.startswith("no"):
                say("550 5.1.1 %s: Recipient address rejected: no such user" % addr)
            else:
                say("250 2.1.5 Ok")
        elif verb == "DATA":
            in_data = True
            say("354 End data with <CR><LF>.<CR><LF>")
        elif verb == "QUIT":
            say("221 2.0.0 Bye")
            break
        else:
            say("250 2.0.0 Ok")
    conn.close()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(16)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    threading.Thread(target=session, args=(conn,), daemon=True).start()
