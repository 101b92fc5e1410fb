//! The event skeleton under the real master: one process serves many clients at once,
//! each with its own timer; a `pass` endpoint hands over a connection with attributes;
//! after a reload the old process drains (finishes its clients, accepts no new ones) and
//! exits. The daemon is event-echo (tests/e2e/src/bin), a test service on the skeleton.

use e2e::{Instance, free_port, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

struct Client {
    out: TcpStream,
    input: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let out = TcpStream::connect(("127.0.0.1", port)).unwrap();
        out.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let input = BufReader::new(out.try_clone().unwrap());
        Client { out, input }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.input.read_line(&mut line).unwrap();
        line.trim_end().to_string()
    }

    /// Sends a line and returns (pid, reply text).
    fn echo(&mut self, text: &str) -> (String, String) {
        writeln!(self.out, "{text}").unwrap();
        let reply = self.line();
        let (pid, rest) = reply.split_once(' ').unwrap_or(("", ""));
        (pid.to_string(), rest.to_string())
    }
}

fn instance(name: &str) -> Option<Instance> {
    let mx = Instance::new(name)?;
    std::fs::copy(
        env!("CARGO_BIN_EXE_event-echo"),
        mx.dir.join("libexec/event-echo"),
    )
    .unwrap();
    Some(mx)
}

fn add_service(mx: &Instance, line: &str) {
    let path = mx.etc().join("master.cf");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(line);
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

#[test]
fn one_process_serves_clients_concurrently_with_timers() {
    let Some(mut mx) = instance("t-16-concurrent") else {
        return;
    };
    let port = free_port();
    add_service(&mx, &format!("127.0.0.1:{port} inet n - n - 1 event-echo"));
    mx.start();
    let mut first = Client::connect(port);
    let mut second = Client::connect(port);
    let (pid1, text1) = first.echo("one");
    let (pid2, text2) = second.echo("two");
    let (pid3, text3) = first.echo("three");
    assert_eq!(
        (text1.as_str(), text2.as_str(), text3.as_str()),
        ("echo one", "echo two", "echo three")
    );
    assert_eq!(pid1, pid2, "both clients in one process");
    assert_eq!(pid1, pid3);
    // A silent client runs into its own timer while the others go on.
    let mut silent = Client::connect(port);
    let (pid4, _) = second.echo("four");
    assert_eq!(pid4, pid1);
    assert_eq!(silent.line(), "timeout");
    writeln!(first.out, "quit").unwrap();
    writeln!(second.out, "quit").unwrap();
    mx.postfix(&["stop"]);
}

#[test]
fn pass_endpoint_hands_over_a_connection_and_attributes() {
    let Some(mut mx) = instance("t-16-pass") else {
        return;
    };
    add_service(&mx, "echo-pass pass - - n - 1 event-echo");
    mx.start();
    let socket = mx.dir.join("queue/private/echo-pass");
    assert!(wait_until(5, || socket.exists()));
    // What postscreen does: connect to the pass endpoint, send the client's socket, then
    // the attributes (attr_print0: name, value, ..., empty name).
    let script = "import socket, sys\n\
        mine, theirs = socket.socketpair()\n\
        s = socket.socket(socket.AF_UNIX)\n\
        s.connect(sys.argv[1])\n\
        socket.send_fds(s, [b'\\0'], [theirs.fileno()])\n\
        s.sendall(b'client_address\\0' + b'192.0.2.7\\0' + b'client_port\\0' + b'4711\\0' + b'\\0')\n\
        s.close(); theirs.close()\n\
        f = mine.makefile('rb')\n\
        print(f.readline().decode().strip())\n\
        mine.sendall(b'hello\\n')\n\
        print(f.readline().decode().strip())\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&socket)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lines[0].ends_with(" passed client_address=192.0.2.7 client_port=4711"),
        "{}",
        lines[0]
    );
    assert!(lines[1].ends_with(" echo hello"), "{}", lines[1]);
    mx.postfix(&["stop"]);
}

#[test]
fn old_process_drains_after_reload() {
    let Some(mut mx) = instance("t-16-drain") else {
        return;
    };
    let port = free_port();
    add_service(
        &mx,
        &format!("127.0.0.1:{port} inet n - n - 1 event-echo drain"),
    );
    mx.start();
    let mut old_client = Client::connect(port);
    let (old_pid, _) = old_client.echo("before");
    // Changing the service makes the master let go of the old process.
    mx.replace_master_cf_line(
        |l| l.contains("event-echo drain"),
        &format!("127.0.0.1:{port} inet n - n - 1 event-echo drain -o max_idle=99s"),
    );
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 10);
    std::thread::sleep(Duration::from_millis(500));
    // The old process still serves its client...
    let (pid, text) = old_client.echo("after reload");
    assert_eq!(
        (pid.as_str(), text.as_str()),
        (old_pid.as_str(), "echo after reload")
    );
    // ...while new clients go to a new process.
    let mut new_client = Client::connect(port);
    let (new_pid, _) = new_client.echo("new");
    assert_ne!(new_pid, old_pid);
    // When its last client leaves, the old process exits.
    writeln!(old_client.out, "quit").unwrap();
    let proc_dir = format!("/proc/{old_pid}");
    assert!(
        wait_until(10, || !std::path::Path::new(&proc_dir).exists()),
        "the old process stays after its last client"
    );
    writeln!(new_client.out, "quit").unwrap();
    mx.postfix(&["stop"]);
}
