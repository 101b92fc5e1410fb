//! Surrogate tables (Postfix's `util/dict_surrogate.c`): a table that a daemon cannot open
//! is an error, not the end of the daemon. The same main.cf on ironpost and on Postfix
//! 3.7: alias_maps names a hash table whose .db was never built (a forgotten
//! `newaliases`), and smtpd_recipient_restrictions a check_recipient_access table that
//! does not exist. Each daemon logs `error: open database ...` once and keeps running;
//! each lookup logs `... is unavailable. ...`; local defers the aliased recipient, smtpd
//! answers 451 4.3.0 for the recipient. Compared: local's and smtpd's log lines (queue
//! IDs, delays and ports replaced), smtpd's reply, and that the master has nothing to say
//! (no daemon stopped, none throttled).

#[allow(dead_code)]
#[path = "../t-23-qmgr/harness.rs"]
mod harness;

use e2e::{Instance, System};
use harness::{USER, lines_of};

/// What one run produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    local: Vec<String>,
    smtpd: Vec<String>,
    reply: String,
    master: Vec<String>,
}

/// An instance named `name` (with the system's suffix) whose alias_maps names a hash
/// table that was never built; ironpost's daemons or Postfix's.
fn instance(system: System, name: &str) -> Option<Instance> {
    let mx = match system {
        System::Ironpost => Instance::new(&format!("{name}-ours"))?,
        System::Postfix => Instance::with_daemons(&format!("{name}-postfix"), &[])?,
    };
    mx.set_main_cf("alias_maps", "hash:@DIR@/etc/aliases");
    Some(mx)
}

fn start(mx: &mut Instance, system: System) {
    match system {
        System::Ironpost => mx.start(),
        System::Postfix => mx.start_postfix(),
    }
}

fn run(system: System) -> Option<Outcome> {
    let mut mx = instance(system, "t-56")?;
    mx.set_main_cf("alias_database", "hash:@DIR@/etc/aliases");
    mx.write("etc/aliases", "staff: nobody\n");
    mx.set_main_cf("mail_spool_directory", "@DIR@/spool");
    std::fs::create_dir_all(mx.dir.join("spool")).unwrap();
    std::os::unix::fs::chown(mx.dir.join("spool"), Some(0), Some(0)).unwrap();
    std::fs::set_permissions(
        mx.dir.join("spool"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    mx.set_main_cf(
        "smtpd_recipient_restrictions",
        "check_recipient_access hash:@DIR@/etc/missing, permit_mynetworks, reject_unauth_destination",
    );
    start(&mut mx, system);

    let out = mx.sendmail(&["-f", USER, "staff"], "Subject: t56\n\nbody\n");
    assert!(out.status.success(), "sendmail failed");
    mx.wait_log("status=deferred", 30);

    let reply = match mx.send(mx.smtp_port, USER, USER, "t56") {
        Ok(()) => panic!("smtpd accepted a recipient behind a missing table"),
        Err(text) => text.lines().last().unwrap_or("").to_string(),
    };
    mx.wait_log("NOQUEUE: reject", 30);
    mx.wait_log("]: disconnect from", 30);
    // Both daemons keep running: the master has no complaint.
    let master: Vec<String> = lines_of(&mx, &["master"])
        .into_iter()
        .filter(|l| !l.contains("daemon started") && !l.contains("reload"))
        .collect();
    let outcome = Outcome {
        local: lines_of(&mx, &["local"]),
        smtpd: lines_of(&mx, &["smtpd"]),
        reply,
        master,
    };
    postfix_stop(&mx, system);
    Some(outcome)
}

fn postfix_stop(mx: &Instance, system: System) {
    mx.postfix_of(system, &["stop"]);
}

#[test]
fn missing_tables_are_surrogates_as_in_postfix() {
    let Some(ours) = run(System::Ironpost) else {
        return;
    };
    let Some(postfix) = run(System::Postfix) else {
        return;
    };
    assert!(
        postfix.local.iter().any(|l| l.contains("is unavailable.")),
        "the control shows no surrogate: {postfix:#?}"
    );
    assert_eq!(ours.local, postfix.local, "local's log lines differ");
    assert_eq!(ours.smtpd, postfix.smtpd, "smtpd's log lines differ");
    assert_eq!(ours.reply, postfix.reply, "smtpd's reply differs");
    assert_eq!(ours.master, postfix.master, "the master's lines differ");
}

/// With `daemon_table_open_error_is_fatal = yes` local stops at the missing table, as
/// before surrogates: its `fatal:` line, and the master throttles it.
fn fatal_open(system: System) -> Option<Vec<String>> {
    let mut mx = instance(system, "t-56-fatal")?;
    mx.set_main_cf("daemon_table_open_error_is_fatal", "yes");
    start(&mut mx, system);
    let out = mx.sendmail(&["-f", USER, "nobody"], "Subject: t56\n\nbody\n");
    assert!(out.status.success(), "sendmail failed");
    mx.wait_log("bad command startup -- throttling", 30);
    let local = lines_of(&mx, &["local"]);
    postfix_stop(&mx, system);
    Some(local)
}

#[test]
fn daemon_table_open_error_is_fatal_as_in_postfix() {
    let Some(ours) = fatal_open(System::Ironpost) else {
        return;
    };
    let Some(postfix) = fatal_open(System::Postfix) else {
        return;
    };
    assert_eq!(
        postfix,
        ["postfix/local: fatal: open database DIR/etc/aliases.db: No such file or directory"]
    );
    assert_eq!(ours, postfix);
}
