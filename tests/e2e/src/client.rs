//! What the differential tests of the SMTP and LMTP client share (t-36, t-47, t-48):
//! an instance whose client is Postfix's or ironpost's, and a message to several
//! recipients in one SMTP session.

use crate::{IRONPOST_DAEMONS, Instance};
use std::process::Command;

/// An instance named `name-ours` or `name-postfix` with ironpost's daemons, whose
/// `client` (smtp or lmtp) is ironpost's when `ours` and Postfix's otherwise, whatever
/// the suite's daemon list holds.
#[track_caller]
pub fn instance(name: &str, ours: bool, client: &str) -> Option<Instance> {
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| *d != "smtp" && *d != "lmtp")
        .collect();
    if ours {
        daemons.push(client);
    }
    let side = if ours { "ours" } else { "postfix" };
    Instance::with_daemons(&format!("{name}-{side}"), &daemons)
}

/// Sends one message with subject `subject` from user@vmail.e2e.test to `recipients`
/// over the instance's SMTP port with Python's smtplib; fails the test when smtplib
/// does.
pub fn send_to_many(mx: &Instance, subject: &str, recipients: &[&str]) {
    let script = "import smtplib, sys\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
        s.sendmail('user@vmail.e2e.test', sys.argv[3:], 'Subject: %s\\r\\n\\r\\nbody\\r\\n' % sys.argv[2])\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args(["-c", script, &mx.smtp_port.to_string(), subject])
        .args(recipients)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}
