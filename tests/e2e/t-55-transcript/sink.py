# t-55's next hop: an SMTP server with STARTTLS (argv: port cert key) that accepts every
# message and answers "queued as SINK1".
import socketserver, ssl, sys

port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def handle(self):
        tls = False
        self.out("220 sink.example ESMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            verb = raw.decode("utf-8", "replace").split(" ")[0].strip().upper()
            if verb in ("EHLO", "HELO"):
                self.out("250-sink.example\r\n250-PIPELINING\r\n" + ("" if tls else "250-STARTTLS\r\n") + "250 8BITMIME")
            elif verb == "STARTTLS" and not tls:
                self.out("220 2.0.0 Ready to start TLS")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(cert, key)
                self.request = ctx.wrap_socket(self.request, server_side=True)
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb")
                tls = True
            elif verb == "DATA":
                self.out("354 End data with <CR><LF>.<CR><LF>")
                while self.rfile.readline().rstrip(b"\r\n") != b".":
                    pass
                self.out("250 2.0.0 Ok: queued as SINK1")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.out("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.out("221 2.0.0 Bye")
                return
            else:
                self.out("502 5.5.2 Error: command not recognized")

class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

S(("127.0.0.1", port), H).serve_forever()
