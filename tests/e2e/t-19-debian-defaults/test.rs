//! ironpost as a Debian user runs it: Debian's default master.cf (chroot `y` for most
//! services), `maillog_file`, with and without a prepared jail.
//!
//! What used to go wrong there, silently: a chrooted trivial-rewrite looked for its
//! transport table by a path that does not exist in the jail, believed the table changed,
//! and restarted forever while every SMTP session hung at MAIL FROM; its log lines were lost
//! because the postlog socket was addressed by a path the jail hides. Also here: the master
//! makes a daemon that keeps ending without serving visible; `postfix reload` with a broken
//! master.cf fails and leaves the running system alone; `postfix start` refuses a queue that
//! mail_owner cannot read, as Postfix's integrity check (postsuper) does.

use e2e::{Instance, wait_until};
use std::os::unix::fs::PermissionsExt;

/// Debian's master.cf (from its postfix package), with smtpd on the instance's port.
fn debian_master_cf(mx: &Instance) {
    let stock = std::fs::read_to_string("/usr/share/postfix/master.cf.dist")
        .expect("Debian's master.cf.dist (apt-get install postfix)");
    let smtp = stock
        .lines()
        .find(|l| l.starts_with("smtp ") && l.contains(" inet "))
        .expect("the smtp inet line")
        .to_string();
    assert!(smtp.split_whitespace().nth(4) == Some("y"), "{smtp}");
    let ours = mx.expand("127.0.0.1:@SMTP_PORT@ inet n - y - - smtpd");
    mx.write("etc/master.cf", &stock.replacen(&smtp, &ours, 1));
}

/// Delivery through chrooted services, then a transport table change noticed in the jail
/// by the chrooted trivial-rewrite, logged, and the new route used.
fn deliver_and_notice_table_change(mut mx: Instance) {
    debian_master_cf(&mx);
    mx.start();
    mx.send_local("t19-first");
    assert!(
        wait_until(20, || mx.mailbox().len() == 1),
        "not delivered:\n{}",
        mx.log()
    );
    let log = mx.log();
    assert!(!log.contains("has changed -- restarting"), "{log}");
    assert!(!log.contains("exited before serving"), "{log}");

    // The table is replaced (a new file renamed over the old one, as editors do): the
    // chrooted trivial-rewrite notices through its open descriptor and says so in the log.
    mx.write("etc/transport.new", "vmail.e2e.test discard:gone\n");
    std::fs::rename(mx.etc().join("transport.new"), mx.etc().join("transport")).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(11));
    mx.send(
        mx.smtp_port,
        "b@example.org",
        "user@vmail.e2e.test",
        "t19-second",
    )
    .expect("the second message accepted");
    mx.wait_log(
        &format!(
            "table texthash:{}/transport has changed -- restarting",
            mx.etc().display()
        ),
        20,
    );
    mx.wait_log("status=sent (gone)", 20);
    assert_eq!(mx.mailbox().len(), 1);
    assert!(!mx.log().contains("exited before serving"), "{}", mx.log());
}

#[test]
fn chroot_without_a_prepared_jail() {
    let Some(mx) = Instance::new("t-19a") else {
        return;
    };
    deliver_and_notice_table_change(mx);
}

#[test]
fn chroot_with_a_prepared_jail() {
    let Some(mx) = Instance::new("t-19b") else {
        return;
    };
    mx.postfix(&["prepare-chroot"]);
    assert!(mx.dir.join("queue/etc/services").exists());
    deliver_and_notice_table_change(mx);
}

#[test]
fn a_daemon_that_keeps_ending_without_serving_is_throttled() {
    let Some(mut mx) = Instance::new("t-19c") else {
        return;
    };
    let quitter = mx.dir.join("libexec/quitter");
    std::fs::write(&quitter, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&quitter, std::fs::Permissions::from_mode(0o755)).unwrap();
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!("{master_cf}quitter unix - - n - - quitter\n"),
    );
    mx.start();
    // One connection that nobody serves: each new daemon leaves at once, normally.
    let socket = mx.dir.join("queue/private/quitter");
    let _client = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    mx.wait_log(
        &format!(
            "warning: {}: 5 processes in a row exited before serving a request -- throttling",
            quitter.display()
        ),
        20,
    );
}

#[test]
fn reload_with_a_broken_master_cf_fails_and_changes_nothing() {
    let Some(mut mx) = Instance::new("t-19d") else {
        return;
    };
    mx.start();
    let master = mx.master_pid().expect("a master");
    let good = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write("etc/master.cf", &format!("{good}bogus line here\n"));
    let reload = mx.command("postfix", &["reload"]);
    assert_eq!(reload.status.code(), Some(1), "{reload:?}");
    // As Postfix's postfix-script: postconf's words on standard error, the script's in
    // the log.
    let line = good.lines().count() + 1;
    assert_eq!(
        String::from_utf8_lossy(&reload.stderr),
        format!(
            "/usr/sbin/postconf: fatal: file {}/master.cf: line {line}: bad field count\n",
            mx.etc().display()
        )
    );
    mx.wait_log("fatal: cannot execute /usr/sbin/postconf!", 5);
    assert!(!mx.log().contains("reload -- version"), "{}", mx.log());
    // The running system keeps serving with the old configuration.
    assert_eq!(mx.master_pid(), Some(master));
    mx.send_local("t19-still-up");
    assert!(wait_until(20, || mx.mailbox().len() == 1), "{}", mx.log());
}

#[test]
fn start_refuses_a_queue_mail_owner_cannot_read() {
    let Some(mx) = Instance::new("t-19e") else {
        return;
    };
    // A first start creates the queue; then a restore leaves two queues owned by root.
    mx.postfix(&["check"]);
    for queue in ["defer", "deferred"] {
        let status = std::process::Command::new("chown")
            .arg("root")
            .arg(mx.dir.join("queue").join(queue))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let start = mx.command("postfix", &["start"]);
    assert_eq!(start.status.code(), Some(1), "{start:?}");
    mx.wait_log(
        "fatal: scan_dir_push: open directory defer: Permission denied",
        5,
    );
    mx.wait_log("fatal: Postfix integrity check failed!", 5);
    assert_eq!(mx.master_pid(), None);
    // Postfix refuses the same queue the same way.
    let postfix = std::process::Command::new("/usr/sbin/postfix")
        .arg("-c")
        .arg(mx.etc())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(postfix.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&postfix.stderr)
            .contains("scan_dir_push: open directory defer: Permission denied")
    );
}
