# t-78's scripted SMTP server. argv: port transcript mode. Modes: "cram" offers
# AUTH CRAM-MD5 PLAIN LOGIN; "scram" offers SCRAM-SHA-256 PLAIN; "scrambadsig" is
# "scram" with a server signature that proves nothing; "plainchallenge" offers PLAIN
# LOGIN and answers AUTH PLAIN's initial response with an empty challenge. Every server knows one user,
# good, with password secret, and checks what the client proves against it. The
# transcript gets the AUTH dialogue with the random nonces masked.
import base64, hashlib, hmac, os, socketserver, sys

port, transcript, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
USER, PASSWORD = b"good", b"secret"
SALT, ROUNDS = b"t-78 salt, fixed", 4096


def b64(data):
    return base64.b64encode(data).decode()


def mask_nonce(message, nonce):
    return message.replace(nonce, "<nonce of %d>" % len(nonce))


class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode())
        self.wfile.flush()

    def log(self, line):
        with open(transcript, "a") as f:
            f.write(line + "\n")

    def answer(self):
        return self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")

    def cram(self, words):
        challenge = b"<12345.67890@mx.sink.test>"
        self.out("334 " + b64(challenge))
        name, _, digest = base64.b64decode(self.answer()).decode().partition(" ")
        good = hmac.new(PASSWORD, challenge, hashlib.md5).hexdigest()
        ok = name == USER.decode() and digest == good
        self.log("CRAM-MD5 response from %s: %s" % (name, "right" if ok else "wrong"))
        return ok

    def plain_login(self, words):
        if mode == "plainchallenge":
            self.out("334 ")
            self.log("answer to an empty challenge after PLAIN: %r" % self.answer())
            return False
        if words[1].upper() == "PLAIN":
            return base64.b64decode(words[2]).split(b"\0")[1:] == [USER, PASSWORD]
        creds = []
        for prompt in ("VXNlcm5hbWU6", "UGFzc3dvcmQ6"):
            self.out("334 " + prompt)
            creds.append(base64.b64decode(self.answer()))
        return creds == [USER, PASSWORD]

    def scram(self, words):
        first = base64.b64decode(words[2]).decode() if len(words) > 2 else ""
        gs2_end = first.index(",", first.index(",") + 1) + 1
        gs2, bare = first[:gs2_end], first[gs2_end:]
        fields = dict(f.split("=", 1) for f in bare.split(","))
        cnonce = fields["r"]
        self.log("SCRAM client-first: " + mask_nonce(first, cnonce))
        nonce = cnonce + b64(os.urandom(18))
        server_first = "r=%s,s=%s,i=%d" % (nonce, b64(SALT), ROUNDS)
        self.out("334 " + b64(server_first.encode()))
        final = base64.b64decode(self.answer()).decode()
        without_proof, _, proof = final.rpartition(",p=")
        fields = dict(f.split("=", 1) for f in without_proof.split(","))
        self.log(
            "SCRAM client-final: c=%s (%s), nonce %s"
            % (
                fields["c"],
                base64.b64decode(fields["c"]).decode(),
                "ours" if fields["r"] == nonce else "wrong",
            )
        )
        salted = hashlib.pbkdf2_hmac("sha256", PASSWORD, SALT, ROUNDS)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        auth_message = ",".join([bare, server_first, without_proof]).encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        claimed = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature))
        ok = hashlib.sha256(claimed).digest() == stored_key
        self.log("SCRAM proof: " + ("right" if ok else "wrong"))
        if not ok:
            return False
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        verifier = hmac.new(server_key, auth_message, hashlib.sha256).digest()
        if mode == "scrambadsig":
            verifier = hashlib.sha256(verifier).digest()
        self.out("334 " + b64(("v=" + b64(verifier)).encode()))
        last = self.answer()
        self.log("SCRAM answer to the server-final message: %r" % last)
        return last == ""

    def handle(self):
        self.out("220 mx.sink.test ESMTP scripted")
        while True:
            line = self.answer()
            verb = line.split(" ")[0].upper()
            if verb == "":
                return
            if verb in ("MAIL", "QUIT"):
                self.log(line.split(" SIZE=")[0])
            if verb == "EHLO":
                mechs = {"cram": "CRAM-MD5 PLAIN LOGIN", "plainchallenge": "PLAIN LOGIN"}.get(mode, "SCRAM-SHA-256 PLAIN")
                self.out("250-mx.sink.test\r\n250-PIPELINING\r\n250-AUTH " + mechs + "\r\n250 8BITMIME")
            elif verb == "AUTH":
                words = line.split(" ")
                mech = words[1].upper()
                self.log("AUTH %s%s" % (mech, " with initial response" if len(words) > 2 else ""))
                if mech == "CRAM-MD5":
                    ok = self.cram(words)
                elif mech.startswith("SCRAM"):
                    ok = self.scram(words)
                else:
                    ok = self.plain_login(words)
                if ok:
                    self.out("235 2.7.0 Authentication successful")
                else:
                    self.out("535 5.7.8 Error: authentication failed: authentication failure")
            elif verb in ("MAIL", "RCPT", "RSET"):
                self.out("250 2.0.0 Ok")
            elif verb == "DATA":
                self.out("354 End data with <CR><LF>.<CR><LF>")
                while self.rfile.readline().rstrip(b"\r\n") != b".":
                    pass
                self.out("250 2.0.0 Ok: queued as SCRIPTED1")
            elif verb == "QUIT":
                self.out("221 2.0.0 Bye")
                return
            else:
                self.log("OTHER " + line)
                self.out("502 5.5.2 Error: command not recognized")


class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


S(("127.0.0.1", port), H).serve_forever()
