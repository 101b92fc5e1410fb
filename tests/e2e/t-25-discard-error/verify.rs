//! Asking the address verification service about an address, as smtpd's
//! reject_unverified_recipient does: the first query starts a probe (a message with
//! `DEL_REQ_FLAG_MTA_VRFY` that the delivery agent answers instead of delivering), later
//! ones read the answer the agent gave. Shared by t-25 and t-26.

use e2e::{Instance, wait_until};

/// The verify service's answer to a query for `address`: (recipient status, text).
/// The status is `DEL_RCPT_STAT_*`: 0 deliverable, 1 deferred, 2 bounced, 3 unknown yet.
pub fn query(mx: &Instance, address: &str) -> (i32, String) {
    // The attribute protocol's null-terminated form, spoken by Python.
    let script = "import socket, sys\n\
        s = socket.socket(socket.AF_UNIX)\n\
        s.connect(sys.argv[1])\n\
        def attrs():\n\
        \x20   out, buf = {}, b''\n\
        \x20   while not buf.endswith(b'\\0\\0') or buf.count(b'\\0') % 2 == 0:\n\
        \x20       chunk = s.recv(4096)\n\
        \x20       if not chunk: break\n\
        \x20       buf += chunk\n\
        \x20   parts = buf[:-1].split(b'\\0')\n\
        \x20   return dict(zip(parts[0::2], parts[1::2]))\n\
        attrs()\n\
        s.sendall(b'request\\0query\\0address\\0' + sys.argv[2].encode() + b'\\0\\0')\n\
        r = attrs()\n\
        print(r[b'recipient_status'].decode())\n\
        print(r[b'reason'].decode())\n";
    let socket = mx.dir.join("queue/private/verify");
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&socket)
        .arg(address)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "verify query: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let status = lines.next().and_then(|s| s.parse().ok()).unwrap_or(-1);
    (status, lines.next().unwrap_or("").to_string())
}

/// Queries `address` until the probe's answer is in (60 s at most): the answer.
pub fn settled(mx: &Instance, address: &str) -> (i32, String) {
    let mut answer = query(mx, address);
    if !wait_until(60, || {
        answer = query(mx, address);
        answer.0 != 3
    }) {
        mx.keep_for_inspection();
        panic!("no verify answer for {address}: {answer:?}\n{}", mx.log());
    }
    answer
}
