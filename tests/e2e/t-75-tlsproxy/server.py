# A STARTTLS server for t-75 with one TLS context for all its connections, so that a
# client can resume a session made on an earlier connection (session tickets are
# sealed with the context's key). argv: port, transcript, cert, key. The transcript
# gets "CONNECT", "TLS new" or "TLS reused" after each handshake, each command (MAIL
# and RCPT without their address) and "CLOSED".
import socketserver, ssl, sys
port, transcript, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def log(self, line):
        with open(transcript, "a") as f: f.write(line + "\n")
    def handle(self):
        try: self.talk()
        except (OSError, ssl.SSLError): self.log("CLOSED")
    def talk(self):
        self.log("CONNECT")
        self.out("220 mx.tlsproxy.test ESMTP scripted")
        tls = False
        while True:
            raw = self.rfile.readline()
            if not raw: self.log("CLOSED"); return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.log(line.split(":")[0] if line.startswith(("MAIL", "RCPT")) else line)
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                starttls = "" if tls else "250-STARTTLS\r\n"
                self.out("250-mx.tlsproxy.test\r\n250-PIPELINING\r\n%s250 8BITMIME" % starttls)
            elif verb == "STARTTLS" and not tls:
                self.out("220 2.0.0 Ready to start TLS")
                self.request = ctx.wrap_socket(self.request, server_side=True)
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb")
                tls = True
                self.log("TLS reused" if self.request.session_reused else "TLS new")
            elif verb == "DATA":
                self.out("354 End data with <CR><LF>.<CR><LF>")
                while self.rfile.readline().rstrip(b"\r\n") != b".": pass
                self.log(".")
                self.out("250 2.0.0 Ok: queued as TLSP1")
            elif verb == "QUIT": self.out("221 2.0.0 Bye"); self.log("CLOSED"); return
            else: self.out("250 2.0.0 Ok")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
server = S(("127.0.0.1", port), H)
print("ready", flush=True)
server.serve_forever()
