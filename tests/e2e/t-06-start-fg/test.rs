//! `postfix start-fg` with `maillog_file = /dev/stdout`: the whole system's log on standard
//! output, for containers and systemd.

use e2e::{Instance, program, wait_until};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

#[test]
fn start_fg_logs_to_stdout() {
    let Some(mx) = Instance::new("t-06") else {
        return;
    };
    mx.add_main_cf("maillog_file = /dev/stdout\nmaillog_file_prefixes = /dev/stdout, @DIR@\n");
    let mut child = Command::new(program("postfix"))
        .arg("-c")
        .arg(mx.etc())
        .arg("start-fg")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let output = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let collected = Arc::clone(&output);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            collected
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let text = || output.lock().unwrap().clone();
    assert!(
        wait_until(10, || text().contains("daemon started -- version")),
        "{}",
        text()
    );
    mx.send_local("t06");
    assert!(
        wait_until(20, || text().contains("relay=virtual")),
        "{}",
        text()
    );
    assert!(text().contains("postfix/postfix-script["));
    assert!(text().contains("starting the Postfix mail system"));
    mx.postfix(&["stop"]);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(text().contains("terminating on signal 15"), "{}", text());
    assert!(!status.success() || status.code() == Some(0));
}
