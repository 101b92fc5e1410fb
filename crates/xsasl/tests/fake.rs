//! xsasl against scripted auth servers: the handshake's failures with Postfix's
//! warnings, the bounds on what a server may send, timeouts, request ids, the `temp`
//! flag, reconnection after the server closes the connection, and `inet:` endpoints.
//! No Dovecot needed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use xsasl::{Dovecot, Endpoint, Session, SessionArgs, Step, Tls};

const HANDSHAKE: &str = "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n\
                         MECH\tSECRET\tprivate\nSPID\t1\nCUID\t1\nCOOKIE\tc\nDONE\n";

/// Log capture is process-wide: tests that look at warnings take turns.
static LOG: Mutex<()> = Mutex::new(());

fn scratch_socket() -> PathBuf {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "xsasl-fake-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A socket file, removed when the test is done with it.
struct Socket(PathBuf);

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A server on a fresh socket running `script` for each of its connections in turn
/// (connection number, reader, writer); the socket goes with the [`Socket`].
fn serve(
    script: impl Fn(usize, &mut BufReader<UnixStream>, &mut UnixStream) + Send + 'static,
) -> (Endpoint, Socket) {
    let path = scratch_socket();
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let mut writer = conn.unwrap();
            let mut reader = BufReader::new(writer.try_clone().unwrap());
            script(n, &mut reader, &mut writer);
        }
    });
    let mut endpoint = Endpoint::new(&path.display().to_string(), None);
    endpoint.timeout = Duration::from_millis(500);
    (endpoint, Socket(path))
}

fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line.trim_end_matches('\n').to_string()
}

/// Reads what the client sends until it closes: a server that closed first could fail
/// the client's handshake write (a warning of its own) before the client reads.
fn drain(reader: &mut impl std::io::Read) {
    let _ = std::io::copy(reader, &mut std::io::sink());
}

fn session(options: &str) -> Session {
    Session::new(&SessionArgs {
        client_addr: "192.0.2.1",
        server_addr: "192.0.2.2",
        service: "smtp",
        security_options: options,
        tls: Tls::Secured,
    })
    .unwrap()
}

/// The warnings logged while `f` runs.
fn warnings(f: impl FnOnce()) -> Vec<String> {
    let _turn = LOG.lock().unwrap_or_else(|e| e.into_inner());
    let capture = log::Capture::default();
    log::retain_sinks(|_| false);
    log::add_sink(Box::new(capture.clone()));
    f();
    log::retain_sinks(|_| false);
    capture.lines()
}

fn handshake_then(
    reply: impl Fn(&str) -> Vec<String> + Send + 'static,
) -> (Endpoint, Socket, std::sync::mpsc::Receiver<String>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (endpoint, socket) = serve(move |_, reader, writer| {
        writer.write_all(HANDSHAKE.as_bytes()).unwrap();
        read_line(reader);
        read_line(reader);
        loop {
            let line = read_line(reader);
            if line.is_empty() {
                return;
            }
            let _ = tx.send(line.clone());
            for answer in reply(&line) {
                writer.write_all(format!("{answer}\n").as_bytes()).unwrap();
            }
        }
    });
    (endpoint, socket, rx)
}

#[test]
fn handshake_failures_have_postfixs_warnings() {
    for (server, warning) in [
        (
            "VERSION\t2\t0\n",
            Some("warning: SASL: Protocol version mismatch (2 vs. 1)"),
        ),
        (
            "VERSION\tx\n",
            Some("warning: SASL: Protocol version error"),
        ),
        (
            "VERSION\t1\t2\nSPID\t9\n",
            Some(
                "warning: SASL: Connected to wrong auth socket (auth-master instead of auth-client)",
            ),
        ),
        // The server goes before DONE: no warning, as in Postfix.
        ("VERSION\t1\t2\nMECH\tPLAIN\n", None),
    ] {
        let (endpoint, _socket) = serve(move |_, reader, writer| {
            let _ = writer.write_all(server.as_bytes());
            drain(reader);
        });
        let lines = warnings(|| {
            let mut dovecot = Dovecot::new(endpoint);
            assert!(dovecot.mechanisms().is_none(), "{server:?}");
        });
        assert_eq!(
            lines,
            warning.into_iter().map(String::from).collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_missing_server_is_logged_as_postfix_does() {
    let path = scratch_socket().display().to_string();
    let lines = warnings(|| {
        let mut dovecot = Dovecot::new(Endpoint::new(&path, None));
        let mut s = session("noanonymous");
        assert_eq!(s.mechanisms(&mut dovecot), None);
    });
    assert_eq!(
        lines,
        [format!(
            "warning: SASL: Connect to Dovecot auth socket '{path}' failed: No such file or directory"
        )]
    );
}

#[test]
fn what_a_server_sends_is_bounded() {
    let many: String = (0..100).map(|i| format!("MECH\tM{i}\n")).collect();
    let (too_many, _a) = serve(move |_, r, w| {
        let _ = w.write_all(format!("VERSION\t1\t2\n{many}DONE\n").as_bytes());
        drain(r);
    });
    let (long, _b) = serve(|_, r, w| {
        let _ = w.write_all(format!("VERSION\t1\t2\nMECH\t{}", "A".repeat(100_000)).as_bytes());
        drain(r);
    });
    let (endless, _c) = serve(|_, _, w| {
        let _ = w.write_all("VERSION\t1\t2\n".as_bytes());
        while w.write_all(b"NOISE\n").is_ok() {}
    });
    let lines = warnings(|| {
        for endpoint in [too_many, long, endless] {
            assert!(Dovecot::new(endpoint).mechanisms().is_none());
        }
    });
    assert_eq!(
        lines,
        [
            "warning: SASL: more than 64 mechanisms from the auth server",
            "warning: SASL: no DONE after 512 lines from the auth server"
        ]
    );
}

#[test]
fn mechanisms_keep_the_servers_order_without_private_ones() {
    let (endpoint, _socket, _rx) = handshake_then(|_| vec![]);
    let mut dovecot = Dovecot::new(endpoint);
    assert_eq!(
        session("noanonymous").mechanisms(&mut dovecot).as_deref(),
        Some("PLAIN LOGIN")
    );
    assert_eq!(session("noplaintext").mechanisms(&mut dovecot), None);
    assert_eq!(
        Session::new(&SessionArgs {
            client_addr: "",
            server_addr: "",
            service: "smtp",
            security_options: "noanonymous, bogus",
            tls: Tls::None,
        })
        .unwrap_err(),
        "unknown xsasl_dovecot_server_create value \"bogus\" in \"noanonymous, bogus\""
    );
}

#[test]
fn requests_carry_the_session_and_replies_are_matched_by_id() {
    let (endpoint, _socket, rx) = handshake_then(|line| {
        let id = line.split('\t').nth(1).unwrap().to_string();
        vec![
            "OK\t999\tuser=other".to_string(),
            "NEWCOMMAND\tx".to_string(),
            format!("FAIL\t{id}\tuser=bob\treason=Bad\tpassword\ttemp"),
        ]
    });
    let mut dovecot = Dovecot::new(endpoint);
    let mut s = session("noanonymous");
    s.mechanisms(&mut dovecot);
    assert_eq!(
        s.first(&mut dovecot, "plain", Some("=")),
        Step::Fail {
            reason: "Bad".into(),
            temporary: true
        }
    );
    assert_eq!(s.username(), Some("bob"));
    assert_eq!(
        rx.recv().unwrap(),
        "AUTH\t1\tplain\tservice=smtp\tnologin\tlip=192.0.2.2\trip=192.0.2.1\tsecured\tresp=="
    );
}

#[test]
fn a_silent_server_times_out_as_a_temporary_failure() {
    let (endpoint, _socket, _rx) = handshake_then(|_| vec![]);
    let mut dovecot = Dovecot::new(endpoint);
    let mut s = session("noanonymous");
    s.mechanisms(&mut dovecot);
    let started = std::time::Instant::now();
    assert_eq!(
        s.first(&mut dovecot, "PLAIN", Some("AGEAYg==")),
        Step::Fail {
            reason: "Connection lost to authentication server".into(),
            temporary: true
        }
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_closed_connection_is_reopened_for_the_next_request() {
    // The first connection ends right after its handshake; Postfix's write then fails
    // and it reconnects once. The second connection answers.
    let (endpoint, _socket) = serve(|n, reader, writer| {
        writer.write_all(HANDSHAKE.as_bytes()).unwrap();
        read_line(reader);
        read_line(reader);
        if n == 0 {
            return;
        }
        let line = read_line(reader);
        let id = line.split('\t').nth(1).unwrap().to_string();
        writer
            .write_all(format!("OK\t{id}\tuser=alice\n").as_bytes())
            .unwrap();
    });
    let mut dovecot = Dovecot::new(endpoint);
    let mut s = session("noanonymous");
    s.mechanisms(&mut dovecot);
    std::thread::sleep(Duration::from_millis(200));
    let step = s.first(&mut dovecot, "PLAIN", Some("AGFsaWNlAHNlY3JldA=="));
    // The first write may still succeed into the dead connection (then its read sees
    // the end and the request fails as temporary, and the next one reconnects).
    let step = match step {
        Step::Fail {
            temporary: true, ..
        } => s.first(&mut dovecot, "PLAIN", Some("AA==")),
        other => other,
    };
    assert_eq!(step, Step::Done("alice".into()));
}

#[test]
fn inet_endpoints() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut w, _) = listener.accept().unwrap();
        let mut r = BufReader::new(w.try_clone().unwrap());
        w.write_all(HANDSHAKE.as_bytes()).unwrap();
        read_line(&mut r);
        read_line(&mut r);
        let line = read_line(&mut r);
        let id = line.split('\t').nth(1).unwrap().to_string();
        w.write_all(format!("CONT\t{id}\tVXNlcm5hbWU6\n").as_bytes())
            .unwrap();
        read_line(&mut r);
        w.write_all(format!("OK\t{id}\tuser=al\x01ice\n").as_bytes())
            .unwrap();
    });
    let mut dovecot = Dovecot::new(Endpoint::new(&format!("inet:127.0.0.1:{port}"), None));
    let mut s = session("noanonymous");
    assert_eq!(s.mechanisms(&mut dovecot).as_deref(), Some("PLAIN LOGIN"));
    assert_eq!(
        s.first(&mut dovecot, "LOGIN", None),
        Step::Continue("VXNlcm5hbWU6".into())
    );
    assert_eq!(
        s.next(&mut dovecot, "YWxpY2U="),
        Step::Done("al?ice".into())
    );
}
