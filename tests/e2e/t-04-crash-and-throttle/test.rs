//! Crashes and broken commands: a daemon killed by SIGSEGV is logged by the master and the
//! next client gets a new process; a daemon that dies before serving, or a command that
//! does not exist, gets the service throttled with Postfix's warnings.

use e2e::{Instance, free_port, wait_until};

#[test]
fn crash_is_logged_and_next_client_served() {
    let Some(mut mx) = Instance::new("t-04") else {
        return;
    };
    mx.start();
    mx.send_local("t04-first");
    assert!(wait_until(5, || !mx.daemons("smtpd").is_empty()));
    let victim = mx.daemons("smtpd")[0];
    assert!(
        std::process::Command::new("kill")
            .args(["-SEGV", &victim.to_string()])
            .status()
            .unwrap()
            .success()
    );
    mx.wait_log(
        &format!(
            "warning: process {}/libexec/smtpd pid {victim} killed by signal 11",
            mx.dir.display()
        ),
        5,
    );
    mx.send_local("t04-second");
    assert!(wait_until(5, || mx
        .daemons("smtpd")
        .iter()
        .any(|p| *p != victim)));
    assert!(
        !mx.log().contains("smtpd: bad command startup"),
        "a served daemon's crash is no start-up failure"
    );
}

#[test]
fn startup_failures_throttle_the_service() {
    let Some(mut mx) = Instance::new("t-04b") else {
        return;
    };
    std::os::unix::fs::symlink("/bin/false", mx.dir.join("libexec/false")).unwrap();
    let (dies, missing) = (free_port(), free_port());
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap()
        + &format!(
            "127.0.0.1:{dies} inet n - n - - false\n127.0.0.1:{missing} inet n - n - - nosuch\n"
        );
    mx.write("etc/master.cf", &master_cf);
    mx.start();
    for port in [dies, missing] {
        let _ = std::net::TcpStream::connect(("127.0.0.1", port));
    }
    let libexec = mx.dir.join("libexec").display().to_string();
    mx.wait_log(
        &format!("warning: {libexec}/false: bad command startup -- throttling"),
        10,
    );
    mx.wait_log(
        &format!("fatal: master_spawn: exec {libexec}/nosuch: No such file or directory"),
        10,
    );
    mx.wait_log(
        &format!("warning: {libexec}/nosuch: bad command startup -- throttling"),
        10,
    );
    let log = mx.log();
    assert!(
        log.contains(&format!("warning: process {libexec}/false pid ")),
        "{log}"
    );
    assert!(log.contains(" exit status 1"), "{log}");
    // While throttled, no new process is started for more connections.
    let before = log.matches("bad command startup").count();
    let _ = std::net::TcpStream::connect(("127.0.0.1", dies));
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(mx.log().matches(&format!("{libexec}/false pid")).count(), 1);
    assert_eq!(mx.log().matches("bad command startup").count(), before);
}
