# t-55's SMTP clients. argv: port mode source; mode "login" (STARTTLS, AUTH LOGIN, DATA),
# "plain" (STARTTLS, AUTH PLAIN with an initial response, DATA) or "bdat" (no TLS, BDAT
# in two chunks). Prints the final reply of the message.
import smtplib, socket, ssl, sys

port, mode, source = int(sys.argv[1]), sys.argv[2], sys.argv[3]
message = (
    "From: <alice@example.org>\r\nTo: <user@vmail.e2e.test>\r\n"
    "Subject: t-55 %s\r\n\r\nthe body stays private\r\nsecond body line\r\n" % mode
)
if mode == "bdat":
    s = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    f = s.makefile("rb")
    def reply():
        while True:
            line = f.readline().decode()
            if line[3:4] != "-":
                return line.strip()
    reply()
    data = message.encode()
    first, rest = data[:40], data[40:]
    s.sendall(b"EHLO client.example\r\n"); reply()
    s.sendall(b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<user@vmail.e2e.test>\r\n")
    reply(); reply()
    s.sendall(b"BDAT %d\r\n" % len(first) + first); reply()
    s.sendall(b"BDAT %d LAST\r\n" % len(rest) + rest)
    print(reply())
    s.sendall(b"QUIT\r\n"); reply()
    sys.exit(0)
s = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(source, 0))
s.ehlo("client.example")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.ehlo("client.example")
s.user, s.password = "alice", "secret"
if mode == "login":
    s.auth("LOGIN", s.auth_login, initial_response_ok=False)
else:
    s.auth("PLAIN", s.auth_plain)
s.mail("alice@example.org")
s.rcpt("user@vmail.e2e.test")
code, text = s.data(message)
print(code, text.decode())
s.quit()
