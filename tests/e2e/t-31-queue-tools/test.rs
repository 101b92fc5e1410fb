//! t-31: the queue tools (postqueue with showq, postcat, postsuper, qshape) against
//! Postfix 3.7's on the same queue contents.
//!
//! A queue is built by Postfix itself (a private instance of Postfix's master and daemons):
//! messages deferred by a relay that refuses connections (so each has a defer log with its
//! reason), then, with the system stopped, one moved to incoming/, one to active/, one to
//! hold/, one marked force-expired, one left in maildrop/ by Postfix's postdrop, and the
//! arrival times of some moved back (minutes, an hour, days) so that qshape's buckets fill.
//! A second queue is built the same way by ironpost's daemons (cleanup, qmgr...), for
//! Postfix's tools and ours on files ironpost wrote. Each comparison runs Postfix's tool and
//! ours on two copies of the same queue, each with a main.cf of its own, and compares
//! standard output, standard error, exit status and, for postsuper, the queue left behind.

use std::os::unix::fs::PermissionsExt;

mod fixture;

use fixture::{Fixture, Run};

/// postqueue -p and -j with the mail system down: root's path through showq run directly
/// (Postfix's postqueue with Postfix's showq, ours with ours), and ours through our showq
/// daemon in a running system.
fn listings(fx: &Fixture) {
    for args in [&["-p"][..], &["-j"]] {
        let (pf, ours) = fx.both(Run::Postqueue, args, b"");
        assert_eq!(ours, pf, "postqueue {args:?}");
        assert!(
            pf.stdout.contains("Requests.") || pf.stdout.contains("\"queue_id\""),
            "{}",
            pf.stdout
        );
    }
}

#[test]
fn postqueue_lists_a_postfix_queue_as_postfix_does() {
    let Some(fx) = Fixture::build("t-31-postqueue", false) else {
        return;
    };
    listings(&fx);
    let listing = fx.both(Run::Postqueue, &["-p"], b"").0.stdout;
    // The markers: active, hold, force-expired; reasons from the defer logs.
    for mark in ["*  ", "! ", "# ", "Connection refused)"] {
        assert!(listing.contains(mark), "{mark}: {listing}");
    }
    // Long queue IDs change the columns.
    let (pf, ours) = fx.both_fresh_with(
        Run::Postqueue,
        &["-p"],
        b"",
        "enable_long_queue_ids = yes\n",
    );
    assert_eq!(ours, pf);
    assert!(pf.stdout.starts_with("----Queue ID-----"), "{}", pf.stdout);
    // Flush requests with the system down, bad arguments, usage: Postfix's messages and
    // exit statuses.
    let id = fx.ids()[0].clone();
    let long = "x".repeat(150);
    let cases: [&[&str]; 11] = [
        &["-f"],
        &["-i", &id],
        &["-i", "bad.id"],
        &["-i", &long],
        &["-s", "example.com"],
        &["-s", "[192.0.2.1]"],
        &["-s", "bad..site"],
        &["-s", "[bad]"],
        &[],
        &["-p", "-f"],
        &["-p", "extra"],
    ];
    for args in cases {
        let (pf, ours) = fx.both(Run::Postqueue, args, b"");
        assert_eq!(ours, pf, "postqueue {args:?}");
    }
    let (pf, ours) = fx.both_fresh_with(
        Run::Postqueue,
        &["-s", "example.com"],
        b"",
        "fast_flush_domains = example.com\n",
    );
    assert_eq!(ours, pf);
    assert!(pf.stderr.contains("mail system is down"), "{}", pf.stderr);
    // Through the service: a running system with our showq gives the same listing (without
    // the "mail system is down" warning).
    let live = fx.live_listing();
    assert_eq!(live, listing);
}

#[test]
fn postqueue_lists_an_ironpost_queue_as_postfix_does() {
    let Some(fx) = Fixture::build("t-31-postqueue-ip", true) else {
        return;
    };
    listings(&fx);
}

/// Every postcat flag on every queue file, Postfix's and ours.
fn postcat_all(fx: &Fixture) {
    let files = fx.queue_files();
    assert!(files.len() >= 7, "{files:?}");
    let flag_sets: [&[&str]; 14] = [
        &["-s", "97"],
        &["-s", "5", "-o"],
        &[],
        &["-e"],
        &["-h"],
        &["-b"],
        &["-eh"],
        &["-eb"],
        &["-hb"],
        &["-o"],
        &["-d", "-e"],
        &["-v"],
        &["-r", "-o"],
        &["-v", "-o", "-d"],
    ];
    for file in &files {
        for flags in flag_sets {
            let mut args: Vec<&str> = flags.to_vec();
            args.push(file.as_str());
            let (pf, ours) = fx.both(Run::Postcat, &args, b"");
            if flags.contains(&"-v") {
                // Postfix's library logs its own work with -v (name_mask, mynetworks):
                // the records are what counts.
                assert_eq!(
                    (ours.status, &ours.stdout),
                    (pf.status, &pf.stdout),
                    "postcat {args:?}"
                );
            } else {
                assert_eq!(ours, pf, "postcat {args:?}");
            }
        }
    }
    // -q by queue ID, standard input, a start offset, something that is no queue file.
    let ids = fx.ids();
    let (pf, ours) = fx.both(Run::Postcat, &["-q", &ids[0], &ids[1]], b"");
    assert_eq!(ours, pf);
    assert!(pf.stdout.contains("*** ENVELOPE RECORDS"));
    let (pf, ours) = fx.both(Run::Postcat, &["-q", "NOSUCHID"], b"");
    assert_eq!(ours, pf);
    let bytes = std::fs::read(&files[0]).unwrap();
    for args in [&[][..], &["-o"], &["-s", "30"]] {
        let (pf, ours) = fx.both(Run::Postcat, args, &bytes);
        assert_eq!(ours, pf, "postcat {args:?} < file");
    }
    let (pf, ours) = fx.both(Run::Postcat, &[], b"hello world\n");
    assert_eq!(ours, pf);
    assert!(pf.stderr.contains("input is not a valid queue file"));
}

#[test]
fn postcat_prints_postfix_queue_files_as_postfix_does() {
    let Some(fx) = Fixture::build("t-31-postcat", false) else {
        return;
    };
    postcat_all(&fx);
}

#[test]
fn postcat_prints_ironpost_queue_files_as_postfix_does() {
    let Some(fx) = Fixture::build("t-31-postcat-ip", true) else {
        return;
    };
    postcat_all(&fx);
}

#[test]
fn postsuper_operations_leave_the_queue_as_postfix_s_do() {
    let Some(fx) = Fixture::build("t-31-postsuper", false) else {
        return;
    };
    postsuper_all(&fx);
}

#[test]
fn postsuper_works_on_an_ironpost_queue_as_postfix_s_does() {
    let Some(fx) = Fixture::build("t-31-postsuper-ip", true) else {
        return;
    };
    postsuper_all(&fx);
}

/// Every postsuper operation, Postfix's and ours, each on fresh copies of the queue.
fn postsuper_all(fx: &Fixture) {
    let ids = fx.ids();
    let id = |i: usize| ids[i].as_str();
    let stdin_ids = format!("{}\n{}\nbad.id\nNOSUCHID\n", id(0), id(1));
    let cases: Vec<(Vec<&str>, &[u8])> = vec![
        (vec!["-d", id(0)], b""),
        (vec!["-d", "ALL"], b""),
        (vec!["-d", "ALL", "deferred"], b""),
        (vec!["-d", "-"], stdin_ids.as_bytes()),
        (vec!["-h", id(0)], b""),
        (vec!["-h", "ALL"], b""),
        (vec!["-H", "ALL"], b""),
        (vec!["-H", id(3)], b""),
        (vec!["-r", id(1)], b""),
        (vec!["-r", "ALL"], b""),
        (vec!["-e", id(0)], b""),
        (vec!["-e", "ALL"], b""),
        (vec!["-f", "ALL"], b""),
        (vec!["-f", id(3)], b""),
        (vec!["-h", "-"], stdin_ids.as_bytes()),
        (vec!["-d", id(0), "-h", id(1), "-H", id(1)], b""),
        (vec!["-s"], b""),
        (vec!["-p"], b""),
        (vec!["-S"], b""),
        (vec![], b""),
        (vec!["-d", "NOSUCHID"], b""),
        (vec!["-z"], b""),
    ];
    for (args, input) in cases {
        let (pf, ours) = fx.both_fresh(Run::Postsuper, &args, input);
        assert_eq!(ours, pf, "postsuper {args:?}");
    }
    // The log records, through maillog_file (no postlogd runs: both write the file).
    fx.prepare_maillog();
    let (pf, ours) = fx.both_fresh_with(
        Run::Postsuper,
        &["-d", &ids[0], "-h", &ids[2], "-r", &ids[1]],
        b"",
        "maillog_file = @CFG@/maillog\nmaillog_file_prefixes = @CFG@\n",
    );
    assert_eq!(ours, pf);
    let (pf_log, our_log) = (fx.maillog('A'), fx.maillog('B'));
    assert_eq!(our_log, pf_log);
    assert!(
        pf_log.contains(&format!("postfix/postsuper: {}: removed", ids[0])),
        "{pf_log:?}"
    );
    // A changed hash depth: -s moves files to their new places.
    let (pf, ours) = fx.both_fresh_with(Run::Postsuper, &["-s"], b"", "hash_queue_depth = 2\n");
    assert_eq!(ours, pf, "postsuper -s with a deeper hash");
    assert!(
        pf.tree.iter().any(|p| p.matches('/').count() == 3),
        "{:?}",
        pf.tree
    );
}

#[test]
fn qshape_counts_as_postfix_s_script_does() {
    let Some(fx) = Fixture::build("t-31-qshape", false) else {
        return;
    };
    qshape_all(&fx);
}

#[test]
fn qshape_counts_an_ironpost_queue_as_postfix_s_script_does() {
    let Some(fx) = Fixture::build("t-31-qshape-ip", true) else {
        return;
    };
    qshape_all(&fx);
}

/// qshape's options and queue choices, the script's and ours.
fn qshape_all(fx: &Fixture) {
    let cases: [&[&str]; 13] = [
        &[],
        &["deferred", "hold", "incoming", "active"],
        &["-s", "deferred", "hold", "incoming", "active"],
        &["-p", "deferred", "hold", "incoming", "active"],
        &["-p", "-m", "1", "deferred", "hold"],
        &["-b", "5", "deferred", "hold", "incoming"],
        &["-t", "1", "-b", "12", "deferred", "hold", "incoming"],
        &["-l", "-t", "30", "deferred", "hold", "incoming", "active"],
        &["-w", "120", "deferred", "hold"],
        &["-w", "40", "deferred"],
        &["maildrop"],
        &["-s", "maildrop"],
        &["-s", "-p", "-m", "1", "-l", "deferred", "hold", "active"],
    ];
    for args in cases {
        let (pf, ours) = fx.both(Run::Qshape, args, b"");
        assert_eq!(ours, pf, "qshape {args:?}");
    }
    // On a terminal: the screen cleared and the top domains redrawn every -N messages.
    for args in [
        &["-N", "2", "-n", "3", "deferred", "hold"][..],
        &["deferred"],
    ] {
        let (pf, ours) = fx.both(Run::QshapeTty, args, b"");
        assert_eq!(ours, pf, "qshape {args:?} on a terminal");
        assert!(pf.stdout.contains("\x1b["), "{}", pf.stdout);
    }
    // Absolute queue paths need no configuration.
    let deferred = fx.queue_dir_a().join("deferred").display().to_string();
    let (pf, ours) = fx.both(Run::Qshape, &[deferred.as_str()], b"");
    assert_eq!(ours, pf);
    assert!(pf.stdout.contains("TOTAL"), "{}", pf.stdout);
}

/// postlock and postkick, Postfix's and ours, on the same folder and configuration: locks
/// held while the command runs, the command's status, the errors and their statuses.
#[test]
fn postlock_and_postkick_behave_as_postfix_s() {
    if !e2e::mixed_system_possible() {
        return;
    }
    let dir = std::path::PathBuf::from(format!(
        "/tmp/ironpost-e2e/t-31-postlock-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("q/public")).unwrap();
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "compatibility_level = 3.6\nqueue_directory = {}/q\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("box"), "mail\n").unwrap();
    let folder = dir.join("box").display().to_string();
    let missing = dir.join("nonexist/x").display().to_string();
    let cases: [(&str, Vec<&str>); 6] = [
        (
            "postlock",
            vec![
                "-l",
                "fcntl,dotlock",
                &folder,
                "sh",
                "-c",
                "test -f $0.lock; exit 3",
                &folder,
            ],
        ),
        ("postlock", vec![&missing, "true"]),
        ("postlock", vec![&folder, "nonexist-command"]),
        ("postlock", vec!["-l", "bogus", &folder, "true"]),
        ("postkick", vec!["public", "nosuch", "W"]),
        ("postkick", vec!["public"]),
    ];
    for (tool, args) in cases {
        let run = |path: std::path::PathBuf| {
            let out = std::process::Command::new(&path)
                .args(&args)
                .env("MAIL_CONFIG", &dir)
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr)
                    .replace(&path.display().to_string(), "PROGRAM"),
            )
        };
        let ours = run(e2e::program(tool));
        let postfix = run(std::path::Path::new("/usr/sbin").join(tool));
        assert_eq!(ours, postfix, "{tool} {args:?}");
    }
    assert!(!dir.join("box.lock").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// ironpost's default configuration directory, as our programs report it.
const DEFAULT_CONFIG_DIR: &str = "/etc/ironpost";

/// Waits until the log has `n` lines with `needle`.
fn wait_count(mx: &e2e::Instance, needle: &str, n: usize) {
    if !e2e::wait_until(60, || mx.log().matches(needle).count() >= n) {
        mx.keep_for_inspection();
        panic!("fewer than {n} {needle}; log:\n{}", mx.log());
    }
}

/// Runs `program ARGS` as nobody (real and effective), with MAIL_CONFIG naming `mx`.
fn as_nobody(
    mx: &e2e::Instance,
    program: &std::path::Path,
    args: &[&str],
) -> (Option<i32>, String, String) {
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(program)
        .args(args)
        .env("MAIL_CONFIG", mx.etc())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running system with our showq and our postqueue installed set-gid: a user's
/// `postqueue -p` and `sendmail -bp` through the service, the access lists as Postfix's
/// postqueue applies them, and `postqueue -f`, `-i id` and `-s site` delivering deferred
/// mail once the relay is back.
#[test]
fn postqueue_flushes_and_lists_in_a_running_system() {
    let mut daemons: Vec<&str> = e2e::IRONPOST_DAEMONS.to_vec();
    daemons.push("showq");
    let Some(mut mx) = e2e::Instance::with_daemons("t-31-live", &daemons) else {
        return;
    };
    mx.install_commands();
    // Ours, set-gid postdrop as installed, in place of the link to Postfix's.
    let postqueue = mx.dir.join("sbin/postqueue");
    let _ = std::fs::remove_file(&postqueue);
    std::fs::copy(e2e::program("postqueue"), &postqueue).unwrap();
    let chown = std::process::Command::new("chown")
        .arg("root:postdrop")
        .arg(&postqueue)
        .status()
        .unwrap();
    assert!(chown.success());
    std::fs::set_permissions(&postqueue, std::fs::Permissions::from_mode(0o2755)).unwrap();
    mx.add_main_cf("fast_flush_domains = relay.e2e.test\n");
    // Chrooted, as Debian's master.cf has it: the queue is all showq reads.
    mx.replace_master_cf_line(
        |l| l.starts_with("showq "),
        "showq     unix  n       -       y       -       -       showq",
    );
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             other.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n",
        ),
    );
    mx.start();
    let sendmail = mx.dir.join("sbin/sendmail");
    let submit = |rcpt: &str| {
        let message = format!("Subject: {rcpt}\n\nbody\n");
        let out = mx.run_with_input(&sendmail, &["-f", "a@e2e.test", rcpt], message.as_bytes());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // For -i, -s and -f, in that order; all deferred while the relay is away.
    for rcpt in [
        "one@other.e2e.test",
        "site@relay.e2e.test",
        "all@other.e2e.test",
    ] {
        submit(rcpt);
    }
    wait_count(&mx, "status=deferred", 3);

    // The listing through the service; sendmail -bp is the same listing.
    let out = std::process::Command::new(&postqueue)
        .arg("-p")
        .env("MAIL_CONFIG", mx.etc())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), ""),
        "{stdout}"
    );
    assert!(
        stdout.contains("site@relay.e2e.test") && stdout.ends_with("in 3 Requests.\n"),
        "{stdout}"
    );
    let out = std::process::Command::new(&sendmail)
        .arg("-bp")
        .env("MAIL_CONFIG", mx.etc())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), stdout);
    // The showq that answered runs in the jail.
    let jailed = mx.daemons("showq").into_iter().all(|pid| {
        std::fs::read_link(format!("/proc/{pid}/root")).ok() == Some(mx.dir.join("queue"))
    });
    assert!(jailed && !mx.daemons("showq").is_empty());
    // Postfix's postqueue reads our showq's stream as ours does.
    let out = std::process::Command::new("/usr/sbin/postqueue")
        .arg("-p")
        .env("MAIL_CONFIG", mx.etc())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), stdout);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    // The relay comes back: each request delivers its message now, and only that.
    mx.start_sink();
    let flush = |args: &[&str]| {
        let out = std::process::Command::new(&postqueue)
            .args(args)
            .env("MAIL_CONFIG", mx.etc())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postqueue {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let id = fixture::queue_file_for(&mx.dir.join("queue/deferred"), "one@other.e2e.test")
        .expect("the deferred message");
    flush(&["-i", &id]);
    wait_count(&mx, "to=<one@other.e2e.test>, relay=127.0.0.1", 1);
    wait_count(&mx, "status=sent", 1);
    flush(&["-s", "relay.e2e.test"]);
    wait_count(&mx, "to=<site@relay.e2e.test>, relay=127.0.0.1", 1);
    wait_count(&mx, "status=sent", 2);
    flush(&["-f"]);
    wait_count(&mx, "status=sent", 3);

    // A user may not name a configuration directory that the default main.cf does not
    // list: refused before anything else, as by Postfix's postqueue (whose default
    // directory is /etc/postfix).
    for args in [&["-p"][..], &["-f"]] {
        let ours = as_nobody(&mx, &postqueue, args);
        let postfix = as_nobody(&mx, std::path::Path::new("/usr/sbin/postqueue"), args);
        let ours = (
            ours.0,
            ours.1,
            ours.2.replace(DEFAULT_CONFIG_DIR, "/etc/postfix"),
        );
        assert_eq!(ours, postfix, "postqueue {args:?}");
        assert_eq!(ours.0, Some(69));
    }
}

/// mailq on an empty queue, with the commands the other e2e tests install (Postfix's
/// postqueue) and our showq in the daemon directory: what the suite would see with showq
/// among the ironpost daemons.
#[test]
fn an_empty_queue_through_our_showq_is_empty_for_postfix_s_postqueue() {
    let mut daemons: Vec<&str> = e2e::IRONPOST_DAEMONS.to_vec();
    daemons.push("showq");
    let Some(mut mx) = e2e::Instance::with_daemons("t-31-empty", &daemons) else {
        return;
    };
    mx.install_commands();
    mx.start();
    let out = std::process::Command::new(mx.dir.join("sbin/sendmail"))
        .arg("-bp")
        .env("MAIL_CONFIG", mx.etc())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Mail queue is empty\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(out.status.success());
}
