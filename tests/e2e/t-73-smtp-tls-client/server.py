# TLS servers for t-73: argv[1] is the transcript, argv[2] the CA that client
# certificates are checked with, argv[3] the name in the greeting; each further
# argument is LABEL:PORT:MODE:CERT:KEY, MODE starttls (STARTTLS offered), leaf (the
# same, but sending only the certificate, where OpenSSL would add its issuer from the
# CA file) or wrapper (TLS from the first byte, as on port 465). All but leaf ask for
# a client certificate (optional). Every MAIL and RCPT goes to the transcript as
# "LABEL tls|plain cert=CN|none LINE". "ready" is printed once all listen.
import socketserver, ssl, sys, threading
transcript, ca, name = sys.argv[1], sys.argv[2], sys.argv[3]
def context(mode, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if mode != "leaf":
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(ca)
    return ctx
def handler(label, mode, cert, key):
    class H(socketserver.StreamRequestHandler):
        def out(self, text):
            self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
        def wrap(self):
            try: self.request = context(mode, cert, key).wrap_socket(self.request, server_side=True)
            except Exception: return False
            self.rfile = self.request.makefile("rb")
            self.wfile = self.request.makefile("wb")
            peer = self.request.getpeercert()
            self.cert = "none"
            if peer:
                for rdn in peer.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName": self.cert = v
            return True
        def handle(self):
            self.cert = "none"
            tls = False
            if mode == "wrapper":
                if not self.wrap(): return
                tls = True
            self.out("220 %s ESMTP scripted" % name)
            while True:
                raw = self.rfile.readline()
                if not raw: return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line.split(" ")[0].upper()
                if verb in ("MAIL", "RCPT"):
                    with open(transcript, "a") as f:
                        f.write("%s %s cert=%s %s\n" % (label, "tls" if tls else "plain", self.cert, line))
                if verb in ("EHLO", "HELO"):
                    starttls = "250-STARTTLS\r\n" if mode != "wrapper" and not tls else ""
                    self.out("250-%s\r\n250-PIPELINING\r\n%s250 8BITMIME" % (name, starttls))
                elif verb == "STARTTLS" and mode != "wrapper" and not tls:
                    self.out("220 2.0.0 Ready to start TLS")
                    if not self.wrap(): return
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
for spec in sys.argv[4:]:
    label, port, mode, cert, key = spec.split(":")
    server = S(("127.0.0.1", int(port)), handler(label, mode, cert, key))
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
