# A policy server for e2e t-32, as postgrey or policyd-spf would run one: it listens on
# a UNIX socket (argv[1]) and a TCP port (argv[2]), serves each connection in a thread,
# appends every request to a log (argv[3]) as "connection-number name=value..." lines
# followed by an empty line, and answers by the recipient's address extension
# (user+NAME@domain): see ACTIONS. "close" hangs up without answering, "slow" answers
# after 3 seconds, "noaction" sends a reply without an action attribute.
import os
import socket
import sys
import threading
import time

ACTIONS = {
    "ok": "OK",
    "relay": "RELAY",
    "dunno": "DUNNO",
    "reject": "REJECT go away",
    "rejectdsn": "REJECT 4.1.1 no such user",
    "defer": "DEFER come back later",
    "code": "550 5.1.1 no such mailbox here",
    "codeonly": "450",
    "deferpermit": "DEFER_IF_PERMIT greylisted, try again",
    "deferreject": "DEFER_IF_REJECT maybe later",
    "hold": "HOLD",
    "holdtext": "HOLD quarantined by policy",
    "discard": "DISCARD",
    "filter": "FILTER smtp:[127.0.0.1]:9",
    "badfilter": "FILTER nocolon",
    "redirect": "REDIRECT user@vmail.e2e.test",
    "badredirect": "REDIRECT nobody",
    "bcc": "BCC user+copy@vmail.e2e.test",
    "prepend": "PREPEND X-Policy: checked",
    "badprepend": "PREPEND not a header",
    "warn": "WARN looks odd",
    "info": "INFO noted",
    "class": "strict_class",
    "restrictions": "warn_if_reject reject_non_fqdn_sender, defer_if_permit",
    "table": "check_sender_access hash:/nonexistent",
    "number": "1234567",
    "empty": "",
}

sock_path, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
count = [0]


def action_for(attrs):
    recipient = attrs.get("recipient", "")
    local = recipient.split("@")[0]
    ext = local.split("+", 1)[1] if "+" in local else ""
    return ext, ACTIONS.get(ext, "DUNNO")


def serve(conn):
    with lock:
        count[0] += 1
        number = count[0]
    reader = conn.makefile("rb")
    while True:
        attrs = {}
        lines = []
        while True:
            line = reader.readline()
            if not line:
                conn.close()
                return
            line = line.rstrip(b"\n").decode("latin-1")
            if line == "":
                break
            lines.append(line)
            name, _, value = line.partition("=")
            attrs[name] = value
        with lock:
            with open(log_path, "a", encoding="latin-1") as log:
                log.write("".join("%d %s\n" % (number, l) for l in lines) + "\n")
        ext, action = action_for(attrs)
        if ext == "close":
            conn.close()
            return
        if ext == "slow":
            time.sleep(3)
        if ext == "noaction":
            reply = "result=none\n\n"
        else:
            reply = "action=%s\n\n" % action
        try:
            conn.sendall(reply.encode("latin-1"))
        except OSError:
            return


def listen(server):
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


unix = socket.socket(socket.AF_UNIX)
if os.path.exists(sock_path):
    os.unlink(sock_path)
unix.bind(sock_path)
os.chmod(sock_path, 0o666)
unix.listen(16)
inet = socket.socket()
inet.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
inet.bind(("127.0.0.1", port))
inet.listen(16)
threading.Thread(target=listen, args=(unix,), daemon=True).start()
threading.Thread(target=listen, args=(inet,), daemon=True).start()
print("ready", flush=True)
while True:
    time.sleep(3600)
