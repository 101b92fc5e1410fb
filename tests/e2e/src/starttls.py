# STARTTLS servers for the SMTP client's TLS tests (e2e::starttls). argv[1] is the
# transcript, argv[2] the name in the greeting and the EHLO reply; each further
# argument is LABEL:ADDR:PORT:MODE:CERT:KEY, MODE tls, tls12 (TLS 1.2 at most) or
# plain (no STARTTLS). Every MAIL and RCPT goes to the transcript as
# "LABEL tls|plain LINE". "ready" is printed once all listen.
import socketserver, ssl, sys, threading
transcript, name = sys.argv[1], sys.argv[2]
def handler(label, mode, cert, key):
    class H(socketserver.StreamRequestHandler):
        def out(self, text):
            self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
        def handle(self):
            tls = False
            self.out("220 %s ESMTP scripted" % name)
            while True:
                raw = self.rfile.readline()
                if not raw: return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line.split(" ")[0].upper()
                if verb in ("MAIL", "RCPT"):
                    with open(transcript, "a") as f: f.write("%s %s %s\n" % (label, "tls" if tls else "plain", line))
                if verb in ("EHLO", "HELO"):
                    starttls = "250-STARTTLS\r\n" if mode != "plain" and not tls else ""
                    self.out("250-%s\r\n250-PIPELINING\r\n%s250 8BITMIME" % (name, starttls))
                elif verb == "STARTTLS" and mode != "plain" and not tls:
                    self.out("220 2.0.0 Ready to start TLS")
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    if mode == "tls12": ctx.maximum_version = ssl.TLSVersion.TLSv1_2
                    ctx.load_cert_chain(cert, key)
                    try: self.request = ctx.wrap_socket(self.request, server_side=True)
                    except Exception: return
                    self.rfile = self.request.makefile("rb")
                    self.wfile = self.request.makefile("wb")
                    tls = True
                elif verb == "DATA":
                    self.out("354 End data with <CR><LF>.<CR><LF>")
                    while self.rfile.readline().rstrip(b"\r\n") != b".": pass
                    self.out("250 2.0.0 Ok: queued as TLS1")
                elif verb in ("MAIL", "RCPT", "RSET"): self.out("250 2.0.0 Ok")
                elif verb == "QUIT": self.out("221 2.0.0 Bye"); return
                else: self.out("502 5.5.2 Error: command not recognized")
    return H
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
for spec in sys.argv[3:]:
    label, addr, port, mode, cert, key = spec.split(":")
    server = S((addr, int(port)), handler(label, mode, cert, key))
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
