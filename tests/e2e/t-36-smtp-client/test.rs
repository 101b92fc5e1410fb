//! The SMTP client against a scripted server (failures at MAIL, RCPT, DATA and the end
//! of the message, 4xx and 5xx, a message with recipients that fare differently, and one
//! whose RCPT commands fill more than one PIPELINING buffer): the same mail through
//! Postfix's smtp and through ironpost's gives the same delivery status lines (relay,
//! dsn, status and the remote server's text), the same commands on the wire (MAIL FROM
//! and RCPT TO with their SIZE, BODY, ENVID, RET, ORCPT and NOTIFY parameters), and the
//! same bounce notices (Remote-MTA, Diagnostic-Code). The server accepts, rejects a
//! recipient with 550 or 450, rejects the sender, or rejects the end of the message, by
//! the address; one destination refuses connections. `sendmail -bv` probes end the
//! session after RCPT (the server sees no DATA for them) and report the server's answer;
//! `sendmail -v` reports the delivery with the server's reply.

use e2e::{IRONPOST_DAEMONS, Instance, free_port, wait_until};
use std::process::{Child, Command, Stdio};

/// The scripted server: replies chosen by the addresses, every command line written
/// to the transcript file.
const SERVER: &str = r#"
import base64, socketserver, ssl, sys
port, transcript = int(sys.argv[1]), sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "normal"
REFUSING = ("ehlo421", "ehlo550", "helo450", "starttls454")
class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def log(self, line):
        with open(transcript, "a") as f: f.write(line + "\n")
    def handle(self):
        self.tls = False
        if mode == "peer": self.log("PEER " + self.client_address[0])
        if mode == "greet421":
            self.out("421 4.3.2 mx.sink.test Service shutting down"); return
        self.out("554 5.3.2 mx.sink.test Service currently unavailable" if mode == "greet554" else "220 mx.sink.test ESMTP scripted")
        mail_ok, rcpts, doomed = True, 0, False
        while True:
            raw = self.rfile.readline()
            if not raw: return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ")[0].split(":")[0].upper()
            if verb in ("MAIL", "RCPT", "DATA", "RSET"): self.log(line)
            # The refusing modes: what reached the server, by mode.
            if mode in REFUSING and verb in ("EHLO", "HELO", "STARTTLS", "QUIT"): self.log(mode + " " + verb)
            if verb == "EHLO" and mode == "ehlo421":
                self.out("421 4.7.0 mx.sink.test Error: too many connections"); return
            elif verb in ("EHLO", "HELO") and mode == "ehlo550":
                self.out("550 5.7.1 mx.sink.test Access denied to " + verb)
            elif verb == "HELO" and mode == "helo450":
                self.out("450 4.7.1 mx.sink.test Try again later")
            elif verb == "STARTTLS" and mode == "starttls454":
                self.out("454 4.7.0 TLS not available due to local problem")
            elif verb == "EHLO" and mode in ("helo", "helo450"):
                self.out("502 5.5.2 Error: command not recognized")
            elif verb == "HELO":
                self.out("250 mx.sink.test")
            elif verb == "EHLO":
                if mode == "no8bit": self.out("250-mx.sink.test\r\n250-PIPELINING\r\n250 SIZE 10240000")
                elif mode == "xforward":
                    self.out("250-mx.sink.test\r\n250-PIPELINING\r\n250-XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n250 8BITMIME")
                elif mode in ("auth", "authlogin"):
                    mechs = "PLAIN LOGIN" if mode == "auth" else "LOGIN"
                    self.out("250-mx.sink.test\r\n250-PIPELINING\r\n250-AUTH " + mechs + "\r\n250-8BITMIME\r\n250 DSN")
                elif mode in ("tls", "tlsbroken", "tls12aes256", "starttls454") and not self.tls:
                    self.out("250-mx.sink.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-8BITMIME\r\n250 DSN")
                else: self.out("250-mx.sink.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 DSN")
            elif verb == "XFORWARD":
                self.log(line); self.out("250 2.0.0 Ok")
            elif verb == "AUTH":
                self.log(line)
                words = line.split(" ")
                if words[1].upper() == "PLAIN":
                    creds = base64.b64decode(words[2]).split(b"\0")[1:]
                else:
                    creds = []
                    for prompt in ("VXNlcm5hbWU6", "UGFzc3dvcmQ6"):
                        self.out("334 " + prompt)
                        answer = self.rfile.readline().decode().rstrip("\r\n")
                        self.log("AUTH-ANSWER " + answer)
                        creds.append(base64.b64decode(answer))
                if creds in ([b"good", b"secret"], [b"other", b"pw2"]): self.out("235 2.7.0 Authentication successful")
                else: self.out("535 5.7.8 Error: authentication failed: authentication failure")
            elif verb == "STARTTLS" and mode == "tlsbroken":
                self.out("220 2.0.0 Ready to start TLS"); return
            elif verb == "STARTTLS" and mode in ("tls", "tls12aes256") and not self.tls:
                self.out("220 2.0.0 Ready to start TLS")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                if mode == "tls12aes256":
                    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
                    ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")
                ctx.load_cert_chain(sys.argv[4], sys.argv[5])
                self.request = ctx.wrap_socket(self.request, server_side=True)
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb")
                self.tls = True
            elif verb == "MAIL":
                mail_ok, rcpts, doomed, late = "m550" not in line and "m450" not in line, 0, False, None
                if mail_ok: self.out("250 2.1.0 Ok")
                elif "m450" in line: self.out("450 4.7.1 <m450@vmail.e2e.test>: Sender address rejected: try later")
                else: self.out("550 5.7.1 <m550@vmail.e2e.test>: Sender address rejected: Access denied")
            elif verb == "RCPT":
                addr = line[line.index("<") + 1:line.index(">")]
                if not mail_ok: self.out("503 5.5.1 Error: need MAIL command")
                elif addr.startswith("r550"): self.out("550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table" % addr)
                elif addr.startswith("r450"): self.out("450 4.2.0 <%s>: Recipient address rejected: Greylisted, try again later" % addr)
                else:
                    rcpts += 1; doomed = doomed or addr.startswith("d554"); self.out("250 2.1.5 Ok")
                    if addr.startswith(("x554", "d451")): late = addr[:4]
            elif verb == "DATA" and mode == "hangup":
                return
            elif verb == "DATA" and mode == "stall":
                self.rfile.readline(); return
            elif verb == "DATA":
                if rcpts == 0: self.out("554 5.5.1 Error: no valid recipients"); continue
                if late == "x554": self.out("554 5.3.4 Message too big for system"); continue
                self.out("354 End data with <CR><LF>.<CR><LF>")
                body = False
                while True:
                    data = self.rfile.readline().rstrip(b"\r\n")
                    if data == b".": break
                    text = data.decode("utf-8", "backslashreplace")
                    # The MIME headers and the body, as the client converted them.
                    if mode == "no8bit" and (body or text.startswith(("Content-", "MIME-"))):
                        self.log("C: " + text)
                    elif mode == "content": self.log("C: " + text)
                    body = body or data == b""
                if late == "d451": self.out("451 4.3.0 Error: queue file write error")
                else: self.out("554 5.7.1 Message content rejected" if doomed else "250 2.0.0 Ok: queued as SCRIPTED1")
            elif verb == "RSET": self.out("250 2.0.0 Ok")
            elif verb == "QUIT": self.out("221 2.0.0 Bye"); return
            else: self.out("502 5.5.2 Error: command not recognized")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("127.0.0.1", port), H).serve_forever()
"#;

/// The test certificates of crates/tls.
fn cert(name: &str) -> String {
    format!(
        "{}/../../crates/tls/tests/golden/certs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// An XFORWARD line without the client's port and the queue ID, which differ from run
/// to run.
fn unvarying(line: &str) -> String {
    line.split(' ')
        .map(|w| match w.split_once('=') {
            Some(("PORT" | "IDENT", _)) => w.split('=').next().unwrap_or(w),
            _ => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts the scripted server on `port` in `mode`.
fn server(port: u16, transcript: &std::path::Path, mode: &str) -> Child {
    let child = Command::new("python3")
        .args(["-c", SERVER, &port.to_string()])
        .arg(transcript)
        .arg(mode)
        .args([cert("rsa-chain.pem"), cert("rsa.key")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    wait_until(5, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    child
}

/// A status line without its time stamp, process ID, queue ID, delays and the test's
/// port numbers.
fn normalize(line: &str, ports: [u16; 2]) -> String {
    let from = line.find("to=<").unwrap_or(0);
    let mut out = line[from..].to_string();
    if let (Some(a), Some(b)) = (out.find(", delay="), out.find(", dsn=")) {
        out.replace_range(a..b, "");
    }
    for (port, name) in ports.iter().zip(["SINK", "REFUSED"]) {
        out = out.replace(&format!("]:{port}"), &format!("]:{name}"));
    }
    out
}

/// An instance with ironpost's daemons, and ironpost's smtp too when `ours`.
fn instance(name: &str, ours: bool) -> Option<Instance> {
    e2e::client::instance(name, ours, "smtp")
}

/// Sends one message per case (sender, recipient, the status awaited) and waits for
/// each recipient's status line; on a timeout keeps the instance, stops the servers
/// and fails.
fn deliver(mx: &Instance, servers: &mut [Child], tag: &str, cases: &[(&str, &str, &str)]) {
    for (n, (from, to, want)) in cases.iter().enumerate() {
        mx.send(mx.smtp_port, from, to, &format!("{tag}-{n}"))
            .unwrap();
        let needle = format!("to=<{to}>");
        await_log(mx, servers, &format!("{want} for {to}"), |l| {
            l.contains(&needle) && l.contains(want)
        });
    }
}

/// The cases (recipient, status awaited) of mail from user@vmail.e2e.test.
fn from_user<'a>(cases: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str, &'a str)> {
    cases
        .iter()
        .map(|(to, want)| ("user@vmail.e2e.test", *to, *want))
        .collect()
}

/// Appends `services` to the instance's master.cf, @DIR@ and the like expanded.
fn add_services(mx: &Instance, services: &str) {
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write("etc/master.cf", &mx.expand(&format!("{master}{services}")));
}

/// Waits until a log line passes `check`; else as [`deliver`].
fn await_log(mx: &Instance, servers: &mut [Child], what: &str, check: impl Fn(&str) -> bool) {
    if !wait_until(30, || mx.log().lines().any(&check)) {
        mx.keep_for_inspection();
        servers.iter_mut().for_each(|s| drop(s.kill()));
        panic!("no {what}:\n{}", mx.log());
    }
}

/// Stops the scripted servers.
fn stop(servers: Vec<Child>) {
    for mut s in servers {
        let _ = s.kill();
        let _ = s.wait();
    }
}

/// Fails on warnings, fatal errors and panics of `process` in the log.
fn assert_quiet(log: &str, process: &str) {
    let tag = format!("postfix/{process}[");
    let complaints: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains(&tag)
                && (l.contains(" warning: ") || l.contains(" fatal: ") || l.contains(" panic: "))
        })
        .collect();
    assert!(complaints.is_empty(), "{complaints:#?}");
}

/// What one run saw.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: Vec<String>,
    commands: Vec<String>,
    notices: Vec<String>,
}

fn run(ours: bool) -> Option<Seen> {
    let mut mx = instance("t-36", ours)?;
    let refused = free_port();
    mx.set_main_cf("relay_domains", "relay.e2e.test, refused.e2e.test");
    mx.set_main_cf("smtp_destination_recipient_limit", "100");
    mx.write(
        "etc/transport",
        &mx.expand(&format!(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\nrefused.e2e.test smtp:[127.0.0.1]:{refused}\n"
        )),
    );
    mx.write(
        "etc/vmailbox",
        "user@vmail.e2e.test vmail.e2e.test/user/\nm550@vmail.e2e.test vmail.e2e.test/user/\n",
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![server(mx.sink_port, &transcript, "normal")];
    mx.start();
    let cases = [
        ("user@vmail.e2e.test", "ok@relay.e2e.test", "status=sent"),
        (
            "user@vmail.e2e.test",
            "r550x@relay.e2e.test",
            "status=bounced",
        ),
        (
            "user@vmail.e2e.test",
            "r450x@relay.e2e.test",
            "status=deferred",
        ),
        (
            "m550@vmail.e2e.test",
            "ok2@relay.e2e.test",
            "status=bounced",
        ),
        (
            "user@vmail.e2e.test",
            "d554@relay.e2e.test",
            "status=bounced",
        ),
        (
            "user@vmail.e2e.test",
            "x@refused.e2e.test",
            "status=deferred",
        ),
        (
            "m450@vmail.e2e.test",
            "ok3@relay.e2e.test",
            "status=deferred",
        ),
        (
            "user@vmail.e2e.test",
            "x554@relay.e2e.test",
            "status=bounced",
        ),
        (
            "user@vmail.e2e.test",
            "d451@relay.e2e.test",
            "status=deferred",
        ),
    ];
    deliver(&mx, &mut servers, "t36", &cases);
    // One message, three recipients: one taken, one refused, one put off.
    let many = [
        "m1@relay.e2e.test",
        "r550m@relay.e2e.test",
        "r450m@relay.e2e.test",
    ];
    e2e::client::send_to_many(&mx, "three", &many);
    // SMTPUTF8 with a UTF-8 recipient: MAIL ... SMTPUTF8, and the ORCPT Postfix sends.
    let utf8 = "import smtplib, sys\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
        s.sendmail('user@vmail.e2e.test', ['j\\u00f6rg@relay.e2e.test'], 'Subject: utf8\\r\\n\\r\\nbody\\r\\n', \
        mail_options=['SMTPUTF8'])\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args(["-c", utf8, &mx.smtp_port.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    await_log(&mx, &mut servers, "status for the UTF-8 recipient", |l| {
        l.contains("to=<j\u{f6}rg@relay.e2e.test>") && l.contains("status=")
    });
    // One request with more RCPT commands than one PIPELINING buffer holds.
    let bulk: Vec<String> = (0..90)
        .map(|n| format!("bulk{n:03}@relay.e2e.test"))
        .collect();
    let bulk_refs: Vec<&str> = bulk.iter().map(String::as_str).collect();
    e2e::client::send_to_many(&mx, "three", &bulk_refs);
    let many: Vec<&str> = many
        .into_iter()
        .chain(bulk.iter().map(String::as_str))
        .collect();
    for to in many {
        let needle = format!("to=<{to}>");
        await_log(&mx, &mut servers, &format!("status for {to}"), |l| {
            l.contains(&needle) && l.contains("status=")
        });
    }
    // sendmail -bv: address probes that end after RCPT, reported to the sender.
    for rcpt in ["probe@relay.e2e.test", "r550probe@relay.e2e.test"] {
        let out = mx.sendmail(&["-bv", "-f", "user@vmail.e2e.test", rcpt], "");
        assert!(out.status.success(), "{out:?}");
    }
    // sendmail -v: delivered, and the report carries the server's reply.
    let out = mx.sendmail(
        &["-v", "-f", "user@vmail.e2e.test", "verbose@relay.e2e.test"],
        "Subject: verbose\n\nbody\n",
    );
    assert!(out.status.success(), "{out:?}");
    // The bounce notices (four, and one for the message with three recipients) and the
    // three reports reach the virtual mailbox.
    if !wait_until(30, || mx.mailbox().len() >= 8) {
        mx.keep_for_inspection();
        stop(servers);
        panic!("notices missing:\n{}", mx.log());
    }
    stop(servers);
    let log = mx.log();
    assert_quiet(&log, "smtp");
    let mut status: Vec<String> = log
        .lines()
        .filter(|l| l.contains("postfix/smtp[") && l.contains(" to=<"))
        .map(|l| normalize(l, [mx.sink_port, refused]))
        .collect();
    status.sort();
    let mut commands: Vec<String> = std::fs::read_to_string(&transcript)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            l.split(' ')
                .map(|w| if w.starts_with("SIZE=") { "SIZE=N" } else { w })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    commands.sort();
    let notices = e2e::delivered::notice_lines(&mx.mailbox(), &["    host "], |l| {
        l.replace(&format!("]:{}", mx.sink_port), "]:SINK")
    });
    Some(Seen {
        status,
        commands,
        notices,
    })
}

#[test]
fn relay_results_equal_postfix() {
    let Some(postfix) = run(false) else { return };
    let Some(ours) = run(true) else { return };
    assert!(postfix.status.len() >= 6, "{postfix:#?}");
    assert!(
        postfix.status.iter().any(|l| l.contains("said: 550 5.1.1")),
        "{postfix:#?}"
    );
    assert!(
        postfix
            .notices
            .iter()
            .any(|l| l.starts_with("Diagnostic-Code: smtp; 550 5.1.1")),
        "{postfix:#?}"
    );
    assert!(
        postfix
            .notices
            .iter()
            .any(|l| l == "Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as SCRIPTED1"),
        "{postfix:#?}"
    );
    assert!(
        postfix.commands.iter().any(|l| l.contains(" SMTPUTF8")),
        "{postfix:#?}"
    );
    assert!(
        postfix.commands.iter().any(|l| l.contains("ORCPT=")),
        "{postfix:#?}"
    );
    assert!(
        postfix.commands.iter().any(|l| l == "RSET")
            && postfix.commands.iter().any(|l| l.contains("<r550probe@")),
        "{postfix:#?}"
    );
    assert_eq!(ours.status, postfix.status);
    assert_eq!(ours.commands, postfix.commands);
    assert_eq!(ours.notices, postfix.notices);
}

/// The session cases: a 5xx greeting (not final with smtp_skip_5xx_greeting: the
/// fallback relay gets the mail), a server without EHLO (HELO, no PIPELINING), a destination that refuses
/// connections with smtp_fallback_relay, 8-bit mail for a server without 8BITMIME
/// (converted to quoted-printable, no SIZE), XFORWARD to a server that offers it, and the debug_peer_list transcript of every
/// session (`> host[addr]:port: COMMAND`, `< host[addr]:port: reply`, the server
/// features and the PIPELINING buffer lines).
fn run_sessions(ours: bool) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
    let mut mx = instance("t-36-sess", ours)?;
    let (greet, helo, refused, no8bit, xfwd) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    mx.set_main_cf(
        "relay_domains",
        "relay.e2e.test, greet.e2e.test, helo.e2e.test, fallback.e2e.test, no8bit.e2e.test, \
         xfwd.e2e.test",
    );
    mx.set_main_cf("smtp_fallback_relay", "[127.0.0.1]:@SINK_PORT@");
    mx.set_main_cf("debug_peer_list", "127.0.0.1");
    mx.set_main_cf("smtp_send_xforward_command", "yes");
    mx.write(
        "etc/transport",
        &mx.expand(&format!(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\ngreet.e2e.test smtp:[127.0.0.1]:{greet}\n\
             helo.e2e.test smtp:[127.0.0.1]:{helo}\nfallback.e2e.test smtp:[127.0.0.1]:{refused}\n\
             no8bit.e2e.test smtp:[127.0.0.1]:{no8bit}\nxfwd.e2e.test smtp:[127.0.0.1]:{xfwd}\n"
        )),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![
        server(mx.sink_port, &transcript, "normal"),
        server(greet, &transcript, "greet554"),
        server(helo, &transcript, "helo"),
        server(no8bit, &transcript, "no8bit"),
        server(xfwd, &transcript, "xforward"),
    ];
    mx.start();
    let cases = [
        ("ok@relay.e2e.test", "status=sent"),
        ("x@greet.e2e.test", "status=sent"),
        ("y@helo.e2e.test", "status=sent"),
        ("z@fallback.e2e.test", "status=sent"),
        ("x@xfwd.e2e.test", "status=sent"),
    ];
    deliver(&mx, &mut servers, "t36s", &from_user(&cases));
    // 8-bit mail for a server without 8BITMIME: converted to quoted-printable.
    let script = "import smtplib, sys\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
        msg = 'Subject: 8bit\\r\\nMIME-Version: 1.0\\r\\nContent-Type: text/plain; charset=utf-8\\r\\n\
        Content-Transfer-Encoding: 8bit\\r\\n\\r\\nGr\\u00fc\\u00dfe aus K\\u00f6ln, = ok\\r\\n.dot\\r\\n'.encode()\n\
        s.sendmail('user@vmail.e2e.test', ['u@no8bit.e2e.test'], msg, mail_options=['BODY=8BITMIME'])\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args(["-c", script, &mx.smtp_port.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    await_log(&mx, &mut servers, "delivery for u@no8bit", |l| {
        l.contains("to=<u@no8bit.e2e.test>")
    });
    stop(servers);
    let converted: Vec<String> = std::fs::read_to_string(&transcript)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("C: ") || l.contains("no8bit") || l.starts_with("XFORWARD"))
        .map(unvarying)
        .collect();
    let mask = |l: &str| {
        let mut out = l.to_string();
        for (port, name) in [
            (mx.sink_port, "SINK"),
            (greet, "GREET"),
            (helo, "HELO"),
            (refused, "REFUSED"),
            (no8bit, "NO8BIT"),
            (xfwd, "XFWD"),
        ] {
            out = out.replace(&format!("]:{port}"), &format!("]:{name}"));
        }
        out
    };
    let log = mx.log();
    assert_quiet(&log, "smtp");
    let smtp_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("postfix/smtp["))
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .collect();
    let mut status: Vec<String> = smtp_lines
        .iter()
        .filter(|m| m.contains(" to=<") || m.starts_with("connect to ") || m.contains(": host "))
        .map(|m| match m.split_once(": host ") {
            Some((_, rest)) if !m.contains(" to=<") => mask(&format!("host {rest}")),
            _ => mask(&normalize(m, [0, 0])),
        })
        .collect();
    status.sort();
    // The dialogue itself, with the queue IDs the servers echo masked.
    let chat: Vec<String> = smtp_lines
        .iter()
        .filter(|m| {
            m.starts_with("> ")
                || m.starts_with("< ")
                || m.starts_with("server features: ")
                || m.starts_with("Using ESMTP PIPELINING")
        })
        .map(|m| unvarying(&mask(m)))
        .collect();
    Some((status, chat, converted))
}

#[test]
fn sessions_equal_postfix() {
    let Some((postfix_status, postfix_chat, postfix_converted)) = run_sessions(false) else {
        return;
    };
    let Some((status, chat, converted)) = run_sessions(true) else {
        return;
    };
    assert!(
        postfix_converted
            .iter()
            .any(|l| l == "C: Content-Transfer-Encoding: quoted-printable"),
        "{postfix_converted:#?}"
    );
    assert!(
        postfix_converted
            .iter()
            .any(|l| l.starts_with("XFORWARD NAME=")),
        "{postfix_converted:#?}"
    );
    assert_eq!(converted, postfix_converted);
    assert!(
        postfix_status
            .iter()
            .any(|l| l.contains("refused to talk to me: 554")),
        "{postfix_status:#?}"
    );
    assert!(
        postfix_chat.iter().any(|l| l.contains(": HELO "))
            && postfix_chat
                .iter()
                .any(|l| l.starts_with("server features: 0x"))
            && postfix_chat
                .iter()
                .any(|l| l.starts_with("Using ESMTP PIPELINING")),
        "{postfix_chat:#?}"
    );
    assert_eq!(status, postfix_status);
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    assert_eq!(sorted(&chat), sorted(&postfix_chat));
}

/// A scripted LMTP server, on a UNIX-domain socket or TCP: per-recipient replies after
/// the message, one of them a 452 and one a 552 by the address.
const LMTP_SERVER: &str = r#"
import os, socketserver, sys
where = sys.argv[1]
class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def handle(self):
        self.out("220 lmtp.sink.test LMTP ready")
        rcpts = []
        while True:
            raw = self.rfile.readline()
            if not raw: return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ")[0].split(":")[0].upper()
            if verb == "LHLO":
                self.out("250-lmtp.sink.test\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING")
            elif verb == "MAIL":
                rcpts = []; self.out("250 2.1.0 OK")
            elif verb == "RCPT":
                addr = line[line.index("<") + 1:line.index(">")]
                if addr.startswith("r550"): self.out("550 5.1.1 <%s> User doesn't exist: %s" % (addr, addr))
                else: rcpts.append(addr); self.out("250 2.1.5 OK")
            elif verb == "DATA":
                if not rcpts: self.out("503 5.5.1 No valid recipients"); continue
                self.out("354 OK")
                while self.rfile.readline().rstrip(b"\r\n") != b".": pass
                for addr in rcpts:
                    if addr.startswith("q452"): self.out("452 4.2.2 <%s> Mailbox is full" % addr)
                    elif addr.startswith("q552"): self.out("552 5.2.2 <%s> Quota exceeded (mailbox for user is full)" % addr)
                    else: self.out("250 2.0.0 <%s> abcdef Saved" % addr)
            elif verb == "RSET": self.out("250 2.0.0 OK")
            elif verb == "QUIT": self.out("221 2.0.0 Bye"); return
            else: self.out("500 5.5.1 Unknown command")
if where.startswith("/"):
    class S(socketserver.ThreadingUnixStreamServer):
        daemon_threads = True
    s = S(where, H); os.chmod(where, 0o666)
else:
    class S(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
    s = S(("127.0.0.1", int(where)), H)
s.serve_forever()
"#;

/// LMTP over a UNIX-domain socket (`lmtp:unix:/path`) and over TCP
/// (`lmtp:inet:host:port`), with the program installed as lmtp: the status lines of one
/// message with five recipients (accepted, rejected at RCPT, 452 and 552 after the
/// message) equal Postfix's lmtp's.
fn run_lmtp(ours: bool) -> Option<Vec<String>> {
    let name = if ours {
        "t-36-lmtp-ours"
    } else {
        "t-36-lmtp-postfix"
    };
    // ironpost's lmtp is its smtp under that name (the harness installs it so); Postfix's
    // on the Postfix side.
    let daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| ours || *d != "lmtp")
        .collect();
    let mut mx = Instance::with_daemons(name, &daemons)?;
    let port = free_port();
    let socket = mx.dir.join("sink/lmtp.sock");
    mx.set_main_cf("relay_domains", "lmtp.e2e.test, lmtpinet.e2e.test");
    mx.write(
        "etc/transport",
        &format!(
            "lmtp.e2e.test lmtp:unix:{}\nlmtpinet.e2e.test lmtp:inet:127.0.0.1:{port}\n",
            socket.display()
        ),
    );
    let spawn = |where_: &str| {
        Command::new("python3")
            .args(["-c", LMTP_SERVER, where_])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3")
    };
    let mut servers = vec![
        spawn(&socket.display().to_string()),
        spawn(&port.to_string()),
    ];
    wait_until(5, || {
        socket.exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    mx.start();
    let mut want = 0;
    for domain in ["lmtp.e2e.test", "lmtpinet.e2e.test"] {
        let rcpts: Vec<String> = ["ok1", "ok2", "r550x", "q452", "q552"]
            .iter()
            .map(|l| format!("{l}@{domain}"))
            .collect();
        let script = "import smtplib, sys\n\
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
            s.sendmail('user@vmail.e2e.test', sys.argv[2:], 'Subject: lmtp\\r\\n\\r\\nbody\\r\\n')\n\
            s.quit()\n";
        let out = Command::new("python3")
            .args(["-c", script, &mx.smtp_port.to_string()])
            .args(&rcpts)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        want += rcpts.len();
        if !wait_until(30, || {
            mx.log()
                .lines()
                .filter(|l| l.contains("postfix/lmtp[") && l.contains(" to=<"))
                .count()
                >= want
        }) {
            mx.keep_for_inspection();
            servers.iter_mut().for_each(|s| drop(s.kill()));
            panic!("LMTP deliveries missing:\n{}", mx.log());
        }
    }
    stop(servers);
    let log = mx.log();
    assert_quiet(&log, "lmtp");
    let mut status: Vec<String> = log
        .lines()
        .filter(|l| l.contains("postfix/lmtp[") && l.contains(" to=<"))
        .map(|l| normalize(l, [port, 0]).replace(&mx.dir.display().to_string(), "@DIR@"))
        .collect();
    status.sort();
    Some(status)
}

#[test]
fn lmtp_equal_postfix() {
    let Some(postfix) = run_lmtp(false) else {
        return;
    };
    let Some(ours) = run_lmtp(true) else { return };
    assert!(
        postfix.iter().any(|l| l.contains("452 4.2.2")) && postfix.len() == 10,
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}

/// Site failures at the only server (a 421 greeting, a server that hangs up or says
/// nothing after DATA, with smtp_data_init_timeout = 2s) defer the mail with Postfix's
/// texts; the failure goes to the queue manager as the site's status (whether it then
/// defers a second message to the destination without an attempt depends on its timing,
/// so only the first message per destination is compared).
fn run_dead(ours: bool) -> Option<Vec<String>> {
    let mut mx = instance("t-36-dead", ours)?;
    let (hangup, stall) = (free_port(), free_port());
    mx.set_main_cf(
        "relay_domains",
        "dead.e2e.test, hang.e2e.test, stall.e2e.test",
    );
    mx.set_main_cf("smtp_data_init_timeout", "2s");
    mx.write(
        "etc/transport",
        &mx.expand(&format!(
            "dead.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\nhang.e2e.test smtp:[127.0.0.1]:{hangup}\n\
             stall.e2e.test smtp:[127.0.0.1]:{stall}\n"
        )),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![
        server(mx.sink_port, &transcript, "greet421"),
        server(hangup, &transcript, "hangup"),
        server(stall, &transcript, "stall"),
    ];
    mx.start();
    let cases: Vec<(&str, &str, &str)> = [
        "a@dead.e2e.test",
        "b@dead.e2e.test",
        "a@hang.e2e.test",
        "a@stall.e2e.test",
    ]
    .iter()
    .map(|to| ("user@vmail.e2e.test", *to, "status=deferred"))
    .collect();
    deliver(&mx, &mut servers, "t36d", &cases);
    stop(servers);
    let log = mx.log();
    let mut status: Vec<String> = log
        .lines()
        .filter(|l| l.contains(" to=<a@") && l.contains("status=deferred"))
        .map(|l| {
            normalize(l, [mx.sink_port, 0])
                .replace(&format!("]:{hangup}"), "]:HANGUP")
                .replace(&format!("]:{stall}"), "]:STALL")
        })
        .collect();
    status.sort();
    Some(status)
}

#[test]
fn site_failure_equal_postfix() {
    let Some(postfix) = run_dead(false) else {
        return;
    };
    let Some(ours) = run_dead(true) else { return };
    assert!(
        postfix.len() == 3
            && postfix
                .iter()
                .any(|l| l.contains("refused to talk to me: 421"))
            && postfix.iter().any(|l| l.contains("lost connection with"))
            && postfix.iter().any(|l| l.contains("timed out while")),
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}

/// STARTTLS: at level may to a server that offers it (the `Untrusted TLS connection
/// established to ...` line, and `Trusted` with smtp_tls_CAfile), and at level encrypt
/// to one that does not (`TLS is required, but was not offered by host ...`), and a
/// server that hangs up after 220 to STARTTLS (`Cannot start TLS: handshake failure`,
/// the mail deferred, then sent in plaintext once it has waited minimal_backoff_time).
/// Postfix's smtp needs Postfix's tlsmgr for its PRNG seed; ironpost's needs none.
fn run_tls(ours: bool) -> Option<Vec<String>> {
    let mut mx = instance("t-36-tls", ours)?;
    let (tls_port, broken_port) = (free_port(), free_port());
    mx.set_main_cf(
        "relay_domains",
        "tls.e2e.test, ca.e2e.test, enc.e2e.test, broken.e2e.test",
    );
    mx.set_main_cf("smtp_tls_security_level", "may");
    mx.set_main_cf("smtp_tls_loglevel", "1");
    // Deferred mail comes back at once, so that the plaintext retry after a failed
    // handshake (for mail that waited minimal_backoff_time) happens within the test.
    mx.set_main_cf("minimal_backoff_time", "1s");
    mx.set_main_cf("maximal_backoff_time", "2s");
    mx.set_main_cf("queue_run_delay", "1s");
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!(
            "{master}smtpca unix - - n - - smtp -o smtp_tls_CAfile={}\n\
             smtpenc unix - - n - - smtp -o smtp_tls_security_level=encrypt\n",
            cert("ca.pem")
        ),
    );
    mx.write(
        "etc/transport",
        &mx.expand(&format!(
            "tls.e2e.test smtp:[127.0.0.1]:{tls_port}\nca.e2e.test smtpca:[127.0.0.1]:{tls_port}\n\
             enc.e2e.test smtpenc:[127.0.0.1]:@SINK_PORT@\nbroken.e2e.test smtp:[127.0.0.1]:{broken_port}\n"
        )),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![
        server(tls_port, &transcript, "tls"),
        server(mx.sink_port, &transcript, "normal"),
        server(broken_port, &transcript, "tlsbroken"),
    ];
    mx.start();
    let cases = [
        ("a@tls.e2e.test", "status=sent"),
        ("b@ca.e2e.test", "status=sent"),
        ("c@enc.e2e.test", "status=deferred"),
        ("d@broken.e2e.test", "status=sent"),
    ];
    deliver(&mx, &mut servers, "t36t", &from_user(&cases));
    stop(servers);
    let log = mx.log();
    assert_quiet(&log, "smtp");
    let mut lines: Vec<String> = log
        .lines()
        .filter(|l| l.contains("postfix/smtp["))
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .filter(|m| {
            m.contains(" to=<")
                || m.contains("TLS connection established")
                || m.starts_with("SSL_connect error")
                || m.contains(": Cannot start TLS")
        })
        .map(|m| {
            let m = match m.split_once(": Cannot start TLS") {
                Some((_, rest)) if !m.contains(" to=<") => format!("Cannot start TLS{rest}"),
                _ => m.to_string(),
            };
            normalize(&m, [tls_port, mx.sink_port])
                .replace(&format!("]:{tls_port}"), "]:TLS")
                .replace(&format!("]:{}", mx.sink_port), "]:SINK")
                .replace(&format!("]:{broken_port}"), "]:BROKEN")
        })
        .collect();
    // How often deferred mail comes back within the test depends on timing.
    lines.sort();
    lines.dedup();
    Some(lines)
}

#[test]
fn starttls_equal_postfix() {
    let Some(postfix) = run_tls(false) else {
        return;
    };
    let Some(ours) = run_tls(true) else { return };
    assert!(
        postfix
            .iter()
            .any(|l| l.starts_with("Untrusted TLS connection established to"))
            && postfix
                .iter()
                .any(|l| l.contains("TLS is required, but was not offered"))
            && postfix
                .iter()
                .any(|l| l.contains("Cannot start TLS: handshake failure"))
            && postfix
                .iter()
                .any(|l| l.starts_with("to=<d@broken.e2e.test>") && l.contains("status=sent")),
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}

/// Cipher grades and exclusions against a server that offers one suite,
/// ECDHE-RSA-AES256-GCM-SHA384 over TLS 1.2 only: without exclusions the client
/// agrees to it; smtp_tls_mandatory_exclude_ciphers = AES256, or a policy table's
/// exclude=aRSA, leaves it out of the ClientHello and the handshake fails; an unknown
/// grade and a grade whose list leaves no TLS 1.2 suite abort TLS with Postfix's
/// warnings. The status lines, the TLS lines and the cipher list logged at
/// smtp_tls_loglevel 2 equal Postfix's.
fn run_ciphers(ours: bool) -> Option<Vec<String>> {
    let mut mx = instance("t-36-ciphers", ours)?;
    let (port, port2) = (free_port(), free_port());
    mx.set_main_cf(
        "relay_domains",
        "ok.e2e.test, excl.e2e.test, pol.e2e.test, grade.e2e.test, null.e2e.test",
    );
    mx.set_main_cf("smtp_tls_security_level", "encrypt");
    mx.set_main_cf("smtp_tls_loglevel", "1");
    mx.set_main_cf("smtp_tls_policy_maps", "texthash:@DIR@/etc/tls_policy");
    mx.write(
        "etc/tls_policy",
        &format!("[127.0.0.1]:{port2} encrypt exclude=aRSA\n"),
    );
    add_services(
        &mx,
        "smtpexcl unix - - n - - smtp -o smtp_tls_mandatory_exclude_ciphers=AES256 -o smtp_tls_loglevel=2\n\
         smtpgrade unix - - n - - smtp -o smtp_tls_mandatory_ciphers=strong\n\
         smtpnull unix - - n - - smtp -o smtp_tls_mandatory_ciphers=null\n",
    );
    mx.write(
        "etc/transport",
        &format!(
            "ok.e2e.test smtp:[127.0.0.1]:{port}\nexcl.e2e.test smtpexcl:[127.0.0.1]:{port}\n\
             pol.e2e.test smtp:[127.0.0.1]:{port2}\ngrade.e2e.test smtpgrade:[127.0.0.1]:{port}\n\
             null.e2e.test smtpnull:[127.0.0.1]:{port}\n"
        ),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![
        server(port, &transcript, "tls12aes256"),
        server(port2, &transcript, "tls12aes256"),
    ];
    mx.start();
    let cases = [
        ("a@ok.e2e.test", "status=sent"),
        ("b@excl.e2e.test", "status=deferred"),
        ("c@pol.e2e.test", "status=deferred"),
        ("d@grade.e2e.test", "status=deferred"),
        ("e@null.e2e.test", "status=deferred"),
    ];
    deliver(&mx, &mut servers, "t36c", &from_user(&cases));
    stop(servers);
    let mut lines: Vec<String> = mx
        .log()
        .lines()
        .filter(|l| l.contains("postfix/smtp") && !l.contains("TLS library problem"))
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .filter(|m| {
            m.contains(" to=<")
                || m.contains("TLS connection established")
                || m.starts_with("SSL_connect error")
                || m.contains("cipher")
                || m.starts_with("warning: ")
        })
        .map(|m| normalize(m, [port, port2]))
        .collect();
    lines.sort();
    lines.dedup();
    Some(lines)
}

#[test]
fn ciphers_equal_postfix() {
    let Some(postfix) = run_ciphers(false) else {
        return;
    };
    let Some(ours) = run_ciphers(true) else {
        return;
    };
    assert!(
        postfix
            .iter()
            .any(|l| l.contains("with cipher ECDHE-RSA-AES256-GCM-SHA384"))
            && postfix.iter().any(|l| l.contains("TLS cipher list"))
            && postfix
                .iter()
                .filter(|l| l.contains("Cannot start TLS: handshake failure"))
                .count()
                >= 2,
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}

/// A table that fails while the client talks to a server (`SMTP_ERR_DATA`): header
/// checks, body checks, the SASL password table and
/// smtp_discard_ehlo_keyword_address_maps, each a fail: table that answers every
/// lookup with an error. The mail is deferred with "local data error while talking to
/// ..." after the warning that names the table, as with Postfix; so does a failing
/// smtp_reply_filter. The EHLO keyword table that works discards the keywords it lists
/// for the server's address; the reply filter that works turns the server's 250 after
/// the message into a 451.
fn run_data_error(ours: bool) -> Option<Vec<String>> {
    let mut mx = instance("t-36-data-error", ours)?;
    let (port, auth_port) = (free_port(), free_port());
    mx.set_main_cf(
        "relay_domains",
        "hdr.e2e.test, body.e2e.test, pw.e2e.test, ehlo.e2e.test, disc.e2e.test, rf.e2e.test, repl.e2e.test",
    );
    add_services(
        &mx,
        "smtphdr unix - - n - - smtp -o smtp_header_checks=fail:hdr\n\
         smtpbody unix - - n - - smtp -o smtp_body_checks=fail:body\n\
         smtppw unix - - n - - smtp -o smtp_sasl_auth_enable=yes -o smtp_sasl_password_maps=fail:pw\n\
         smtpehlo unix - - n - - smtp -o smtp_discard_ehlo_keyword_address_maps=fail:ehlo\n\
         smtpdisc unix - - n - - smtp -o smtp_discard_ehlo_keyword_address_maps=texthash:@DIR@/etc/ehlo\n\
         smtprf unix - - n - - smtp -o smtp_reply_filter=fail:reply\n\
         smtprepl unix - - n - - smtp -o smtp_reply_filter=regexp:@DIR@/etc/reply\n",
    );
    mx.write(
        "etc/transport",
        &format!(
            "hdr.e2e.test smtphdr:[127.0.0.1]:{port}\nbody.e2e.test smtpbody:[127.0.0.1]:{port}\n\
             pw.e2e.test smtppw:[127.0.0.1]:{auth_port}\nehlo.e2e.test smtpehlo:[127.0.0.1]:{port}\n\
             disc.e2e.test smtpdisc:[127.0.0.1]:{port}\nrf.e2e.test smtprf:[127.0.0.1]:{port}\n\
             repl.e2e.test smtprepl:[127.0.0.1]:{port}\n"
        ),
    );
    mx.write("etc/ehlo", "127.0.0.1 pipelining, 8bitmime\n");
    mx.write(
        "etc/reply",
        "/^250 2\\.0\\.0 Ok: queued as SCRIPTED1$/ 451 4.3.0 Filtered: try again\n",
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![
        server(port, &transcript, "normal"),
        server(auth_port, &transcript, "auth"),
    ];
    mx.start();
    let cases = [
        ("a@hdr.e2e.test", "status=deferred"),
        ("b@body.e2e.test", "status=deferred"),
        ("c@pw.e2e.test", "status=deferred"),
        ("d@ehlo.e2e.test", "status=deferred"),
        ("e@disc.e2e.test", "status=sent"),
        ("f@rf.e2e.test", "status=deferred"),
        ("g@repl.e2e.test", "status=deferred"),
    ];
    deliver(&mx, &mut servers, "t36d", &from_user(&cases));
    stop(servers);
    let mut lines: Vec<String> = mx
        .log()
        .lines()
        .filter(|l| l.contains("postfix/smtp"))
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .filter(|m| {
            m.contains(" to=<")
                || m.starts_with("warning: ")
                || m.starts_with("discarding EHLO")
                || m.contains("replacing server reply")
        })
        .map(|m| {
            // The queue ID of a warning differs from run to run.
            let m = match m.split_once(": ") {
                Some(("warning", rest)) => match rest.split_once(": ") {
                    Some((id, text)) if id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                        format!("warning: QUEUEID: {text}")
                    }
                    _ => m.to_string(),
                },
                _ => m.to_string(),
            };
            // The Received: header looked up names the queue ID and the time.
            let m = match m.split_once("for \"Received: ") {
                Some((head, _)) => format!("{head}for \"Received: ..."),
                None => m,
            };
            normalize(&m, [port, auth_port])
        })
        .collect();
    lines.sort();
    lines.dedup();
    Some(lines)
}

#[test]
fn local_data_error_equal_postfix() {
    let Some(postfix) = run_data_error(false) else {
        return;
    };
    let Some(ours) = run_data_error(true) else {
        return;
    };
    assert!(
        postfix
            .iter()
            .filter(|l| l.contains("status=deferred (local data error while talking to"))
            .count()
            == 5
            && postfix
                .iter()
                .any(|l| l.contains("said: 451 4.3.0 Filtered"))
            && postfix
                .iter()
                .any(|l| l == "discarding EHLO keywords: 8BITMIME PIPELINING"),
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}

/// SASL: PLAIN (chosen over LOGIN) and LOGIN with good credentials, a wrong password
/// (Postfix's deferral text), and smtp_sasl_security_options = noplaintext (no
/// mechanism available); the AUTH dialogue and the results equal Postfix's.
fn run_sasl(ours: bool) -> Option<(Vec<String>, Vec<String>)> {
    let mut mx = instance("t-36-sasl", ours)?;
    let (both, bad, login) = (free_port(), free_port(), free_port());
    mx.set_main_cf(
        "relay_domains",
        "auth.e2e.test, bad.e2e.test, login.e2e.test, noplain.e2e.test",
    );
    mx.set_main_cf("smtp_sasl_auth_enable", "yes");
    mx.set_main_cf("smtp_sasl_password_maps", "texthash:@DIR@/etc/sasl_passwd");
    mx.set_main_cf("smtp_sasl_security_options", "noanonymous");
    mx.write(
        "etc/sasl_passwd",
        &format!(
            "[127.0.0.1]:{both} good:secret\n[127.0.0.1]:{bad} good:wrong\n[127.0.0.1]:{login} good:secret\n"
        ),
    );
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!(
            "{master}smtpnoplain unix - - n - - smtp -o smtp_sasl_security_options=noplaintext\n"
        ),
    );
    mx.write(
        "etc/transport",
        &format!(
            "auth.e2e.test smtp:[127.0.0.1]:{both}\nbad.e2e.test smtp:[127.0.0.1]:{bad}\n\
             login.e2e.test smtp:[127.0.0.1]:{login}\nnoplain.e2e.test smtpnoplain:[127.0.0.1]:{both}\n"
        ),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![
        server(both, &transcript, "auth"),
        server(bad, &transcript, "auth"),
        server(login, &transcript, "authlogin"),
    ];
    mx.start();
    let cases = [
        ("a@auth.e2e.test", "status=sent"),
        ("b@bad.e2e.test", "status=deferred"),
        ("c@login.e2e.test", "status=sent"),
        ("d@noplain.e2e.test", "status=deferred"),
    ];
    deliver(&mx, &mut servers, "t36a", &from_user(&cases));
    stop(servers);
    let log = mx.log();
    let mask = |l: &str| {
        let mut out = l.to_string();
        for (port, name) in [(both, "BOTH"), (bad, "BAD"), (login, "LOGIN")] {
            out = out.replace(&format!("]:{port}"), &format!("]:{name}"));
        }
        out
    };
    let mut status: Vec<String> = log
        .lines()
        .filter(|l| {
            l.contains("postfix/smtp[")
                && (l.contains(" to=<") || l.contains(" warning: ") || l.contains(" fatal: "))
        })
        .map(|l| match l.split_once(" warning: ") {
            Some((_, warning)) => format!("warning: {warning}"),
            None => mask(&normalize(l, [0, 0])),
        })
        .collect();
    status.sort();
    let mut auth: Vec<String> = std::fs::read_to_string(&transcript)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("AUTH"))
        .map(str::to_string)
        .collect();
    auth.sort();
    Some((status, auth))
}

#[test]
fn sasl_equal_postfix() {
    let Some((postfix_status, postfix_auth)) = run_sasl(false) else {
        return;
    };
    let Some((status, auth)) = run_sasl(true) else {
        return;
    };
    assert!(
        postfix_status
            .iter()
            .any(|l| l.contains("SASL authentication failed; server")),
        "{postfix_status:#?}"
    );
    assert_eq!(status, postfix_status);
    assert_eq!(auth, postfix_auth);
}

/// smtp_sender_dependent_authentication with the connection cache on: credentials by
/// the sender's address, by its @domain (a wrong password: deferred) and, for a sender
/// the table lacks, by next hop. A session authenticated for one sender carries no
/// other sender's mail (the cache labels hold the sender): the second sender
/// authenticates anew, while the first sender's next message reuses its session
/// without AUTH. smtp_sasl_mechanism_filter leaves LOGIN of the server's PLAIN and
/// LOGIN. Status lines and the AUTH dialogue equal Postfix's.
fn run_sender_auth(ours: bool) -> Option<(Vec<String>, Vec<String>)> {
    let mut mx = instance("t-36-sender-auth", ours)?;
    let port = free_port();
    mx.set_main_cf("relay_domains", "auth.e2e.test");
    mx.set_main_cf("smtp_sasl_auth_enable", "yes");
    mx.set_main_cf("smtp_sender_dependent_authentication", "yes");
    mx.set_main_cf("smtp_sasl_mechanism_filter", "!plain, static:all");
    mx.set_main_cf("smtp_sasl_password_maps", "texthash:@DIR@/etc/sasl_passwd");
    mx.set_main_cf("smtp_sasl_security_options", "noanonymous");
    // The bare domain of the next hop, as smtp_cache_policy() matches it.
    mx.set_main_cf("smtp_connection_cache_destinations", "127.0.0.1");
    // Long enough that alice's session is still there for her second message.
    mx.set_main_cf("smtp_connection_cache_time_limit", "30s");
    mx.set_main_cf("connection_cache_ttl_limit", "30s");
    mx.write(
        "etc/sasl_passwd",
        &format!(
            "alice@vmail.e2e.test good:secret\n@other.e2e.test other:wrong\n\
             [127.0.0.1]:{port} other:pw2\n"
        ),
    );
    mx.write(
        "etc/transport",
        &format!("auth.e2e.test smtp:[127.0.0.1]:{port}\n"),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![server(port, &transcript, "auth")];
    mx.start();
    let cases = [
        ("alice@vmail.e2e.test", "a1@auth.e2e.test", "status=sent"),
        ("carol@third.e2e.test", "c@auth.e2e.test", "status=sent"),
        ("alice@vmail.e2e.test", "a2@auth.e2e.test", "status=sent"),
        ("bob@other.e2e.test", "b@auth.e2e.test", "status=deferred"),
    ];
    deliver(&mx, &mut servers, "t36s", &cases);
    stop(servers);
    let mut status: Vec<String> = mx
        .log()
        .lines()
        .filter(|l| {
            l.contains("postfix/smtp[") && (l.contains(" to=<") || l.contains(" warning: "))
        })
        .map(|l| match l.split_once(" warning: ") {
            Some((_, warning)) => format!("warning: {warning}"),
            None => normalize(l, [port, 0]),
        })
        .collect();
    status.sort();
    // In order: who authenticated, session by session, and which mail went where.
    let dialogue: Vec<String> = std::fs::read_to_string(&transcript)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("AUTH") || l.starts_with("MAIL"))
        .map(|l| l.split(" SIZE=").next().unwrap_or(l).to_string())
        .collect();
    Some((status, dialogue))
}

#[test]
fn sender_dependent_auth_equal_postfix() {
    let Some((postfix_status, postfix_dialogue)) = run_sender_auth(false) else {
        return;
    };
    let Some((status, dialogue)) = run_sender_auth(true) else {
        return;
    };
    assert!(
        postfix_dialogue
            .iter()
            .filter(|l| l.starts_with("AUTH LOGIN"))
            .count()
            == 3
            && postfix_dialogue
                .iter()
                .filter(|l| l.starts_with("MAIL"))
                .count()
                == 3
            && postfix_status
                .iter()
                .any(|l| l.contains("SASL authentication failed; server")),
        "{postfix_status:#?}\n{postfix_dialogue:#?}"
    );
    assert_eq!(status, postfix_status);
    assert_eq!(dialogue, postfix_dialogue);
}

/// Component swap: Postfix's qmgr driving ironpost's smtp delivers, bounces and defers
/// with the same status lines as with ironpost's qmgr.
fn run_swap(postfix_qmgr: bool) -> Option<Vec<String>> {
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS.to_vec();
    daemons.push("smtp");
    if postfix_qmgr {
        daemons.retain(|d| *d != "qmgr");
    }
    let side = if postfix_qmgr { "pqmgr" } else { "iqmgr" };
    let mut mx = Instance::with_daemons(&format!("t-36-swap-{side}"), &daemons)?;
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![server(mx.sink_port, &transcript, "normal")];
    mx.start();
    let cases = [
        ("user@vmail.e2e.test", "ok@relay.e2e.test", "status=sent"),
        (
            "user@vmail.e2e.test",
            "r550x@relay.e2e.test",
            "status=bounced",
        ),
        (
            "user@vmail.e2e.test",
            "r450x@relay.e2e.test",
            "status=deferred",
        ),
    ];
    deliver(&mx, &mut servers, "t36w", &cases);
    stop(servers);
    let log = mx.log();
    assert_quiet(&log, "smtp");
    let mut status: Vec<String> = log
        .lines()
        .filter(|l| l.contains("postfix/smtp[") && l.contains(" to=<"))
        .map(|l| normalize(l, [mx.sink_port, 0]))
        .collect();
    status.sort();
    Some(status)
}

#[test]
fn postfix_qmgr_drives_ours() {
    let Some(with_postfix_qmgr) = run_swap(true) else {
        return;
    };
    let Some(with_ours) = run_swap(false) else {
        return;
    };
    assert_eq!(with_postfix_qmgr.len(), 3, "{with_postfix_qmgr:#?}");
    assert_eq!(with_postfix_qmgr, with_ours);
}

/// smtp_bind_address: connections come from it; with smtp_bind_address_enforce, an
/// address this machine does not have defers the mail (`server configuration error`)
/// after Postfix's warning.
fn run_bind(ours: bool) -> Option<Vec<String>> {
    let mut mx = instance("t-36-bind", ours)?;
    mx.set_main_cf("relay_domains", "bind.e2e.test, badbind.e2e.test");
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!(
            "{master}smtpbind unix - - n - - smtp -o smtp_bind_address=127.0.0.2\n\
             smtpbad unix - - n - - smtp -o smtp_bind_address=192.0.2.1 \
             -o smtp_bind_address_enforce=yes\n"
        ),
    );
    mx.write(
        "etc/transport",
        &mx.expand(
            "bind.e2e.test smtpbind:[127.0.0.1]:@SINK_PORT@\n\
             badbind.e2e.test smtpbad:[127.0.0.1]:@SINK_PORT@\n",
        ),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![server(mx.sink_port, &transcript, "peer")];
    mx.start();
    let cases = [
        ("user@vmail.e2e.test", "a@bind.e2e.test", "status=sent"),
        (
            "user@vmail.e2e.test",
            "b@badbind.e2e.test",
            "status=deferred",
        ),
    ];
    deliver(&mx, &mut servers, "t36b", &cases);
    stop(servers);
    let log = mx.log();
    let mut seen: Vec<String> = log
        .lines()
        .filter(|l| l.contains("postfix/smtp["))
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .filter(|m| m.contains(" to=<") || m.starts_with("warning: "))
        .map(|m| normalize(m, [mx.sink_port, 0]))
        .chain(
            std::fs::read_to_string(&transcript)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.starts_with("PEER "))
                .map(str::to_string),
        )
        .collect();
    seen.sort();
    Some(seen)
}

#[test]
fn bind_address_equal_postfix() {
    let Some(postfix) = run_bind(false) else {
        return;
    };
    let Some(ours) = run_bind(true) else { return };
    assert!(
        postfix.iter().any(|l| l == "PEER 127.0.0.2")
            && postfix
                .iter()
                .any(|l| l.contains("server configuration error")),
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}

/// Content on the way out: smtp_generic_maps (MAIL FROM, RCPT TO, and the addresses of
/// the message's own From:, To: and Cc: headers, one address mapped to two with a
/// warning), smtp_header_checks (WARN, REPLACE, IGNORE, STRIP, PREPEND, a REPLACE that
/// is not a header), smtp_mime_header_checks for the
/// message's Content-Type: header, smtp_body_checks (REPLACE, STRIP, WARN), and
/// smtp_delivery_status_filter turning the server's 550 5.1.1 into a deferral. The
/// commands and the content the server gets, and the client's log lines, are compared.
fn run_content(ours: bool) -> Option<(Vec<String>, Vec<String>)> {
    let mx = instance("t-36-content", ours)?;
    let mut mx = mx;
    mx.write(
        "etc/generic",
        "user@vmail.e2e.test outside@example.net\n\
         gen@relay.e2e.test mapped@relay.e2e.test\n\
         other@relay.e2e.test first@example.net, second@example.net\n",
    );
    mx.write(
        "etc/hc",
        "/^Subject: warn me/ WARN warned\n\
         /^X-Replace:/ REPLACE X-Replaced: yes\n\
         /^X-Ignore:/ IGNORE\n\
         /^X-Strip:/ STRIP stripped\n\
         /^X-Prepend:/ PREPEND X-New: no\n\
         /^X-Bad-Replace:/ REPLACE not a header\n",
    );
    mx.write("etc/mhc", "/^Content-Type:/ INFO mime header\n");
    mx.write(
        "etc/bc",
        "/^first line/ PREPEND prepended line\n\
         /^replace this line/ REPLACE replaced line\n\
         /^drop this line/ STRIP\n\
         /^warn this line/ WARN body warned\n",
    );
    mx.write("etc/filter", "/^5\\.1\\.1 (.*)/ 4.7.1 filtered: $1\n");
    mx.add_main_cf(
        "smtp_generic_maps = texthash:@DIR@/etc/generic\n\
         smtp_header_checks = regexp:@DIR@/etc/hc\n\
         smtp_mime_header_checks = regexp:@DIR@/etc/mhc\n\
         smtp_body_checks = regexp:@DIR@/etc/bc\n\
         smtp_delivery_status_filter = regexp:@DIR@/etc/filter\n",
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers = vec![server(mx.sink_port, &transcript, "content")];
    mx.start();
    let script = "import smtplib, sys\n\
        msg = ('From: User <user@vmail.e2e.test>\\r\\n'\n\
        'To: gen@relay.e2e.test, other@relay.e2e.test\\r\\n'\n\
        'Cc: \"Some One\" <user@vmail.e2e.test>\\r\\n'\n\
        'Subject: warn me\\r\\nX-Replace: old\\r\\nX-Ignore: gone\\r\\nX-Strip: gone too\\r\\n'\n\
        'X-Prepend: stays\\r\\nX-Bad-Replace: stays\\r\\nMIME-Version: 1.0\\r\\n'\n\
        'Content-Type: text/plain\\r\\n\\r\\n'\n\
        'first line\\r\\nreplace this line\\r\\ndrop this line\\r\\nwarn this line\\r\\n'\n\
        '.leading dot\\r\\nlast line\\r\\n')\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
        s.sendmail('user@vmail.e2e.test', ['gen@relay.e2e.test', 'r550c@relay.e2e.test'], msg)\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args(["-c", script, &mx.smtp_port.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for to in ["gen@relay.e2e.test", "r550c@relay.e2e.test"] {
        let needle = format!("to=<{to}>");
        await_log(&mx, &mut servers, &format!("status for {to}"), |l| {
            l.contains(&needle) && l.contains("status=")
        });
    }
    stop(servers);
    // What the server got, without the lines that differ from run to run.
    let mut skipping = false;
    let wire: Vec<String> = std::fs::read_to_string(&transcript)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            let text = l.strip_prefix("C: ").unwrap_or("");
            if text.starts_with([' ', '\t']) {
                return !skipping;
            }
            skipping = ["Received:", "Date:", "Message-Id:"]
                .iter()
                .any(|h| text.starts_with(h));
            !skipping
        })
        .map(|l| {
            l.split(' ')
                .map(|w| if w.starts_with("SIZE=") { "SIZE=N" } else { w })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    // The client's log lines, without the queue ID.
    let log = mx.log();
    let logged: Vec<String> = log
        .lines()
        .filter(|l| l.contains("postfix/smtp["))
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .map(|m| match m.split_once(": ") {
            Some((id, rest))
                if id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
            {
                rest
            }
            _ => m,
        })
        .map(|m| normalize(m, [mx.sink_port, 0]))
        .collect();
    Some((wire, logged))
}

#[test]
fn content_rewriting_equal_postfix() {
    let Some(postfix) = run_content(false) else {
        return;
    };
    let Some(ours) = run_content(true) else {
        return;
    };
    assert!(
        postfix
            .0
            .iter()
            .any(|l| l == "MAIL FROM:<outside@example.net> SIZE=N")
            && postfix
                .0
                .iter()
                .any(|l| l.starts_with("RCPT TO:<mapped@relay.e2e.test>"))
            && postfix.0.iter().any(|l| l == "C: X-Replaced: yes")
            && postfix.0.iter().any(|l| l == "C: replaced line")
            && postfix.0.iter().any(|l| l == "C: X-New: no"),
        "{postfix:#?}"
    );
    assert!(
        postfix
            .1
            .iter()
            .any(|l| l.starts_with("warning: header Subject: warn me"))
            && postfix
                .1
                .iter()
                .any(|l| l.contains("status=deferred") && l.contains("filtered: ")),
        "{postfix:#?}"
    );
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
}

/// Refusals before the mail transaction: a 421 to EHLO (the site fails at once, no
/// HELO), a 550 to EHLO and to HELO (the mail bounces), a 502 to EHLO and a 450 to HELO
/// (deferred), and a 454 to STARTTLS, at level may (the mail goes on in plaintext in
/// the same session) and at level encrypt (deferred: `TLS is required, but host ...
/// refused to start TLS`). With debug_peer_list the status lines, the `> ` / `< `
/// transcript, the bounce notice and the commands each server received equal Postfix's.
fn run_refusals(ours: bool) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
    let mut mx = instance("t-36-refuse", ours)?;
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let modes = ["ehlo421", "ehlo550", "helo450", "starttls454"];
    mx.set_main_cf(
        "relay_domains",
        "ehlo421.e2e.test, ehlo550.e2e.test, helo450.e2e.test, may.e2e.test, enc.e2e.test",
    );
    mx.set_main_cf("debug_peer_list", "127.0.0.1");
    mx.set_main_cf("smtp_tls_security_level", "may");
    add_services(
        &mx,
        "smtpenc unix - - n - - smtp -o smtp_tls_security_level=encrypt\n",
    );
    let [p421, p550, p450, p454] = ports;
    mx.write(
        "etc/transport",
        &format!(
            "ehlo421.e2e.test smtp:[127.0.0.1]:{p421}\nehlo550.e2e.test smtp:[127.0.0.1]:{p550}\n\
             helo450.e2e.test smtp:[127.0.0.1]:{p450}\nmay.e2e.test smtp:[127.0.0.1]:{p454}\n\
             enc.e2e.test smtpenc:[127.0.0.1]:{p454}\n"
        ),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut servers: Vec<Child> = ports
        .iter()
        .zip(modes)
        .map(|(port, mode)| server(*port, &transcript, mode))
        .collect();
    mx.start();
    let cases = [
        ("a@ehlo421.e2e.test", "status=deferred"),
        ("b@ehlo550.e2e.test", "status=bounced"),
        ("c@helo450.e2e.test", "status=deferred"),
        ("d@may.e2e.test", "status=sent"),
        ("e@enc.e2e.test", "status=deferred"),
    ];
    deliver(&mx, &mut servers, "t36r", &from_user(&cases));
    if !wait_until(30, || !mx.mailbox().is_empty()) {
        mx.keep_for_inspection();
        stop(servers);
        panic!("no bounce notice:\n{}", mx.log());
    }
    stop(servers);
    let mask = |l: &str| {
        let mut out = l.to_string();
        for (port, mode) in ports.iter().zip(modes) {
            out = out.replace(&format!("]:{port}"), &format!("]:{}", mode.to_uppercase()));
        }
        out
    };
    let log = mx.log();
    assert_quiet(&log, "smtp");
    let mut lines: Vec<String> = log
        .lines()
        .filter(|l| l.contains("postfix/smtp[") || l.contains("postfix/smtpenc["))
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .filter(|m| {
            m.contains(" to=<")
                || m.starts_with("> ")
                || m.starts_with("< ")
                || m.contains("refused to talk to me")
                || m.contains("TLS")
        })
        .filter(|m| !m.starts_with("tls_") && !m.contains("_tls_"))
        .map(|m| mask(&normalize(m, [0, 0])))
        .collect();
    lines.sort();
    let notices = e2e::delivered::notice_lines(&mx.mailbox(), &["    host "], mask);
    Some((lines, notices, e2e::client::received(&transcript)))
}

#[test]
fn refusals_equal_postfix() {
    let Some(postfix) = run_refusals(false) else {
        return;
    };
    let Some(ours) = run_refusals(true) else {
        return;
    };
    // Postfix's smtp_helo() words each refusal itself: no "(in reply to ... command)".
    for want in [
        "status=deferred (host 127.0.0.1[127.0.0.1] refused to talk to me: 421 4.7.0",
        "status=bounced (host 127.0.0.1[127.0.0.1] refused to talk to me: 550 5.7.1",
        "status=deferred (host 127.0.0.1[127.0.0.1] refused to talk to me: 450 4.7.1",
        "status=deferred (TLS is required, but host 127.0.0.1[127.0.0.1] refused to start TLS: 454",
        "to=<d@may.e2e.test>, relay=127.0.0.1[127.0.0.1]:STARTTLS454, dsn=2.0.0, status=sent",
        "> 127.0.0.1[127.0.0.1]:EHLO421: QUIT",
    ] {
        assert!(
            postfix.0.iter().any(|l| l.contains(want)),
            "{want}: {postfix:#?}"
        );
    }
    assert!(
        postfix.1.iter().any(|l| l == "Status: 5.7.1")
            && postfix.2.iter().any(|l| l == "starttls454 STARTTLS")
            && postfix.2.iter().any(|l| l.starts_with("RCPT TO:<d@may.")),
        "{postfix:#?}"
    );
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
    assert_eq!(ours.2, postfix.2);
}
