//! chroot (DEBUG_README "Try turning off chroot operation"): a chrooted smtpd without a
//! prepared jail cannot resolve the client (`unknown[127.0.0.1]`); `postfix check` points at
//! the jail; preparing the jail, or turning chroot off and reloading, makes it work; and
//! `postfix check` reports jail files that differ from the system's.

use e2e::Instance;

fn chroot_smtpd(mx: &Instance, flag: &str) {
    let new = format!("127.0.0.1:@SMTP_PORT@ inet n - {flag} - - smtpd");
    mx.replace_master_cf_line(|l| l.contains(" inet "), &new);
}

#[test]
fn unprepared_jail_then_prepared_then_off() {
    let Some(mut mx) = Instance::new("t-05") else {
        return;
    };
    chroot_smtpd(&mx, "y");
    let check = mx.command("postfix", &["check"]);
    let warnings = String::from_utf8_lossy(&check.stderr).into_owned() + &mx.log();
    assert!(
        warnings.contains("runs chrooted in") && warnings.contains("postfix prepare-chroot"),
        "postfix check should point at the jail:\n{warnings}"
    );
    mx.start();
    mx.send_local("t05-jail");
    mx.wait_log("connect from unknown[127.0.0.1]", 10);

    // Prepare the jail: the chrooted smtpd now resolves 127.0.0.1 from etc/hosts.
    mx.postfix(&["prepare-chroot"]);
    assert!(mx.dir.join("queue/etc/hosts").exists());
    mx.postfix(&["reload"]);
    mx.send_local("t05-prepared");
    mx.wait_log("connect from localhost[127.0.0.1]", 10);

    // A jail copy that differs from the system's is reported.
    std::fs::write(mx.dir.join("queue/etc/hosts"), "# stale\n").unwrap();
    let check = mx.command("postfix", &["check"]);
    assert!(check.status.success());
    mx.wait_log(
        &format!("{}/queue/etc/hosts and /etc/hosts differ", mx.dir.display()),
        5,
    );
}

#[test]
fn turning_chroot_off_fixes_it() {
    let Some(mut mx) = Instance::new("t-05b") else {
        return;
    };
    chroot_smtpd(&mx, "y");
    mx.start();
    mx.send_local("t05-on");
    mx.wait_log("connect from unknown[127.0.0.1]", 10);
    chroot_smtpd(&mx, "n");
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 5);
    mx.send_local("t05-off");
    mx.wait_log("connect from localhost[127.0.0.1]", 10);
}
