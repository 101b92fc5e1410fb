//! The Debugging Howto (Postfix's DEBUG_README), walked end to end on an instance made of
//! ironpost's programs alone: the harness's links to Postfix's daemons are removed from the
//! daemon directory, so a service that still needed one would fail. Each test does what the
//! Howto tells a person to do, in the Howto's order, with the commands typed as the person
//! types them (a shell with the instance's commands first on PATH and MAIL_CONFIG naming
//! its configuration), and the output it gets is the output docs/DEBUG_README.md shows
//! (`e2e::howto_doc`).

use e2e::howto_doc::{self, Context};
use e2e::{Instance, program, wait_until};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

/// The user whose virtual mailbox receives the delivery reports.
const USER: &str = "user@vmail.e2e.test";

/// Commands a person types, installed in the instance's command directory.
const COMMANDS: [&str; 6] = [
    "postconf",
    "postfix",
    "postlog",
    "postalias",
    "postmap",
    "postcat",
];

/// An instance with no Postfix program in it, its commands in `@DIR@/sbin`.
fn ironpost_only(name: &str) -> Option<Instance> {
    let mx = Instance::new(name)?;
    let libexec = mx.dir.join("libexec");
    for entry in std::fs::read_dir(&libexec).unwrap().flatten() {
        if entry.file_type().unwrap().is_symlink() {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    // The default master.cf needs nothing else: every command it names is ironpost's.
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    for line in master_cf.lines() {
        if line.starts_with(['#', ' ', '\t']) || line.trim().is_empty() {
            continue;
        }
        let command = line.split_whitespace().nth(7).expect("a command");
        assert!(
            libexec.join(command).exists(),
            "master.cf needs {command}, which ironpost does not have:\n{line}"
        );
    }
    mx.install_commands();
    for name in COMMANDS {
        std::fs::copy(program(name), mx.dir.join("sbin").join(name)).unwrap();
    }
    Some(mx)
}

/// What a shell prints for `line` typed at its prompt (standard output and error
/// together), and whether the command succeeded.
fn typed(mx: &Instance, line: &str) -> (bool, String) {
    let line = mx.expand(line);
    let path = format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        mx.dir.join("sbin").display()
    );
    let out = Command::new("sh")
        .args(["-c", &format!("exec 2>&1; {line}")])
        .env("PATH", path)
        .env("MAIL_CONFIG", mx.etc())
        .current_dir(&mx.dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The line typed at a prompt and what it printed, as the document shows a session.
fn session(mx: &Instance, line: &str) -> String {
    let (_, out) = typed(mx, line);
    format!("# {}\n{out}", mx.expand(line))
}

/// The Howto's search for trouble.
const GREP: &str = "grep -E '(warning|error|fatal|panic):' @DIR@/log/maillog";

/// The lines of the log that the Howto's grep finds.
fn trouble(mx: &Instance) -> Vec<String> {
    typed(mx, GREP).1.lines().map(String::from).collect()
}

/// The log lines that contain `needle`.
fn lines_with(mx: &Instance, needle: &str) -> Vec<String> {
    mx.log()
        .lines()
        .filter(|l| l.contains(needle))
        .map(String::from)
        .collect()
}

/// Waits until the log has `count` lines containing `needle`.
#[track_caller]
fn wait_count(mx: &Instance, needle: &str, count: usize, secs: u64) {
    if !wait_until(secs, || mx.log().matches(needle).count() >= count) {
        mx.keep_for_inspection();
        panic!(
            "fewer than {count} \"{needle}\" after {secs}s; log:\n{}",
            mx.log()
        );
    }
}

fn context(mx: &Instance) -> Context {
    Context::of(mx)
}

/// Skips the test (see testkit::skip) unless every tool is installed.
#[track_caller]
fn tools(names: &[&str]) -> bool {
    let missing: Vec<&str> = names.iter().copied().filter(|t| !e2e::have(t)).collect();
    if missing.is_empty() {
        return true;
    }
    testkit::skip(format!(
        "needs {} (apt-get install {})",
        missing.join(", "),
        missing.join(" ")
    ));
    false
}

// ---------------------------------------------------------------------------------------
// "Look for obvious signs of trouble"

/// A forgotten `newaliases`: the alias database does not exist. The Howto's grep finds the
/// cause first; the consequences (local's warnings for each lookup of the table it could
/// not open, as Postfix 3.7's local logs them; the mail is deferred, the daemon keeps
/// running) come after it. Fixing what the first line names (here `newaliases`) lets the
/// mail go.
#[test]
fn t1_obvious_signs_the_first_line_is_the_cause() {
    let Some(mut mx) = ironpost_only("t-54-signs") else {
        return;
    };
    mx.set_main_cf("alias_maps", "hash:@DIR@/etc/aliases");
    mx.set_main_cf("alias_database", "hash:@DIR@/etc/aliases");
    mx.write("etc/aliases", "staff: nobody\n");
    mail_spool(&mx);
    mx.start();
    let (ok, out) = typed(
        &mx,
        &format!("echo 'Subject: t54' | sendmail -f {USER} staff"),
    );
    assert!(ok, "{out}");
    mx.wait_log("status=deferred (alias database unavailable)", 30);
    let found = trouble(&mx);
    assert!(
        found[0].contains("postfix/local[")
            && found[0].contains(": error: open database ")
            && found[0].contains("/etc/aliases.db: No such file or directory"),
        "the first line should name the missing database:\n{}",
        found.join("\n")
    );
    // The consequences follow: local carries on with the table marked unavailable, and
    // each lookup says so; no daemon stopped, so the master has nothing to say.
    assert!(
        found.len() > 2
            && found[1].contains("/etc/aliases is unavailable. open database ")
            && found[2].contains("/etc/aliases: lookup of 'staff' failed"),
        "{}",
        found.join("\n")
    );
    assert!(
        !found.iter().any(|l| l.contains("postfix/master[")),
        "{}",
        found.join("\n")
    );
    howto_doc::check(
        "grep-trouble",
        &context(&mx),
        &session(&mx, &format!("{GREP} | head -3")),
    );

    // The fix the first line points at; the next try delivers.
    let (ok, out) = typed(&mx, "newaliases");
    assert!(ok, "{out}");
    let (ok, out) = typed(&mx, "postfix reload");
    assert!(ok, "{out}");
    // The mail waits in the deferred queue now. A flush request sent while the reload
    // replaces the queue manager may go unanswered: ask again until the message goes.
    let sent = wait_until(90, || {
        let (ok, out) = typed(&mx, "postqueue -f");
        assert!(ok, "{out}");
        wait_until(5, || mx.log().contains("status=sent"))
    });
    if !sent {
        mx.keep_for_inspection();
        panic!("the deferred mail was not delivered:\n{}", mx.log());
    }
}

/// fatal: a bad setting stops the daemon at start-up, and the master's complaints about the
/// dead process follow the line that names the setting.
#[test]
fn t1_fatal_stops_the_process_and_comes_first() {
    let Some(mut mx) = ironpost_only("t-54-fatal") else {
        return;
    };
    mx.set_main_cf("smtpd_recipient_limit", "1OO");
    mx.start();
    // The client finds no SMTP server: smtpd exits before its greeting.
    assert!(
        mx.send(mx.smtp_port, USER, USER, "t54-fatal").is_err(),
        "{}",
        mx.log()
    );
    mx.wait_log("bad command startup -- throttling", 20);
    let found = trouble(&mx);
    assert!(
        found[0].contains("postfix/smtpd[")
            && found[0].contains("fatal: bad numerical configuration: smtpd_recipient_limit = 1OO"),
        "{}",
        found.join("\n")
    );
    assert!(
        found[1..]
            .iter()
            .any(|l| l.contains("postfix/master[") && l.contains("exit status 1")),
        "{}",
        found.join("\n")
    );
    howto_doc::check("grep-fatal", &context(&mx), &session(&mx, GREP));
}

/// error: a process goes on after one, and the 13th of its life ends it. smtpd reads
/// debug_peer_list at start-up; each file it names and cannot open is an error.
#[test]
fn t1_the_thirteenth_error_ends_the_process() {
    let Some(mut mx) = ironpost_only("t-54-errors") else {
        return;
    };
    let files: Vec<String> = (1..=13).map(|k| format!("@DIR@/etc/missing-{k}")).collect();
    mx.set_main_cf("debug_peer_list", &files.join(" "));
    mx.start();
    let _ = mx.send(mx.smtp_port, USER, USER, "t54-errors");
    mx.wait_log("fatal: too many errors - program terminated", 20);
    let found = trouble(&mx);
    // The first smtpd's lines (the master starts others after it dies).
    let first = found
        .iter()
        .find_map(|l| l.split("postfix/smtpd[").nth(1))
        .and_then(|rest| rest.split(']').next())
        .expect("an smtpd line");
    let smtpd: Vec<&String> = found
        .iter()
        .filter(|l| l.contains(&format!("postfix/smtpd[{first}]")))
        .collect();
    let errors = smtpd
        .iter()
        .take_while(|l| l.contains("]: error: open file "))
        .count();
    assert_eq!(errors, 13, "{}", found.join("\n"));
    assert!(
        smtpd[errors].contains("]: fatal: too many errors - program terminated"),
        "{}",
        found.join("\n")
    );
}

/// panic: a software error; the process aborts (the master sees signal 6). The panic is
/// provoked with ironpost's test hook, which only import_environment passes to a daemon.
#[test]
fn t1_panic_aborts_the_process() {
    let Some(mut mx) = ironpost_only("t-54-panic") else {
        return;
    };
    mx.set_main_cf(
        "import_environment",
        "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE \
         POSTLOG_HOSTNAME IRONPOST_TEST_PANIC=smtpd:1",
    );
    mx.start();
    let _ = mx.send(mx.smtp_port, USER, USER, "t54-panic");
    mx.wait_log("killed by signal 6", 30);
    let found = trouble(&mx);
    assert!(
        found[0].contains("postfix/smtpd[") && found[0].contains("]: panic: "),
        "{}",
        found.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// "The text assumes ... /etc/postfix. You can use the command postconf config_directory"

#[test]
fn t2_postconf_config_directory() {
    let Some(mx) = ironpost_only("t-54-postconf") else {
        return;
    };
    let (ok, out) = typed(&mx, "postconf config_directory");
    assert!(ok, "{out}");
    assert_eq!(out, format!("config_directory = {}\n", mx.etc().display()));
    howto_doc::check(
        "postconf-config-directory",
        &context(&mx),
        &session(&mx, "postconf config_directory"),
    );
}

// ---------------------------------------------------------------------------------------
// "Debugging Postfix from inside": sendmail -bv (what would happen) and sendmail -v (what
// happened), for a local user, an alias, a .forward file, a command and a remote server.

/// The five kinds of recipient, in this order.
const RECIPIENTS: [&str; 5] = [
    "nobody@mail.e2e.test",
    "staff@mail.e2e.test",
    "postfix@mail.e2e.test",
    "cmd@mail.e2e.test",
    "far@relay.e2e.test",
];

/// mail_spool_directory in the instance, sticky and writable by all as a spool is.
fn mail_spool(mx: &Instance) {
    mx.set_main_cf("mail_spool_directory", "@DIR@/spool");
    world_writable(mx, "spool");
}

/// A directory of the instance that anyone may write in (mode 1777).
fn world_writable(mx: &Instance, dir: &str) {
    std::fs::create_dir_all(mx.dir.join(dir)).unwrap();
    std::fs::set_permissions(mx.dir.join(dir), std::fs::Permissions::from_mode(0o1777)).unwrap();
}

/// An instance that delivers the five kinds: nobody's mailbox in a spool directory of its
/// own, the alias staff (nobody), postfix's .forward (to the virtual user), the alias cmd
/// (a command writing a file) and relay.e2e.test (smtp-sink on loopback).
fn five_kinds(name: &str) -> Option<Instance> {
    let mut mx = ironpost_only(name)?;
    mail_spool(&mx);
    std::fs::create_dir_all(mx.dir.join("forward")).unwrap();
    world_writable(&mx, "out");
    mx.set_main_cf("alias_maps", "hash:@DIR@/etc/aliases");
    mx.set_main_cf("alias_database", "hash:@DIR@/etc/aliases");
    mx.set_main_cf("forward_path", "@DIR@/forward/${user}.forward");
    mx.write(
        "etc/aliases",
        &mx.expand("staff: nobody\ncmd: \"|/bin/sh -c 'cat > @DIR@/out/cmd.txt'\"\n"),
    );
    mx.write("forward/postfix.forward", &format!("{USER}\n"));
    let (ok, out) = typed(&mx, "newaliases");
    assert!(ok, "newaliases: {out}");
    mx.start_sink();
    mx.start();
    Some(mx)
}

/// The delivery reports in the user's mailbox.
fn reports(mx: &Instance) -> Vec<String> {
    mx.mailbox()
        .into_iter()
        .filter(|m| m.contains("multipart/report"))
        .collect()
}

/// A report as the document shows it: its per-recipient paragraphs (human-readable and
/// machine-readable) in the order of RECIPIENTS, since the agents append them in whatever
/// order they finish; the rest as it came.
fn in_recipient_order(report: &str) -> String {
    let mut out = String::new();
    let mut paragraphs: Vec<String> = Vec::new();
    let flush = |paragraphs: &mut Vec<String>, out: &mut String| {
        paragraphs.sort_by_key(|p| {
            let original = original_recipient(p);
            RECIPIENTS.iter().position(|r| *r == original)
        });
        for p in paragraphs.drain(..) {
            out.push_str(&p);
        }
    };
    for paragraph in report.split_inclusive("\n\n") {
        // In the text part only a recipient's paragraph starts with "<".
        let per_recipient =
            paragraph.starts_with('<') || paragraph.starts_with("Final-Recipient: ");
        if per_recipient {
            paragraphs.push(paragraph.to_string());
        } else {
            flush(&mut paragraphs, &mut out);
            out.push_str(paragraph);
        }
    }
    flush(&mut paragraphs, &mut out);
    out
}

/// The address a report paragraph is about, as sendmail was given it.
fn original_recipient(paragraph: &str) -> &str {
    fn between<'a>(text: &'a str, open: &str, close: char) -> Option<&'a str> {
        let at = text.find(open)? + open.len();
        text[at..].split(close).next()
    }
    between(paragraph, "Original-Recipient: rfc822;", '\n')
        .or_else(|| between(paragraph, "(expanded from <", '>'))
        .or_else(|| between(paragraph, "<", '>'))
        .unwrap_or("")
}

/// Runs `sendmail FLAG` for the five recipients and returns the session and the report.
fn report_for(mx: &Instance, flag: &str) -> (String, String) {
    let line = format!(
        "echo 'Subject: test' | sendmail -f {USER} {flag} {}",
        RECIPIENTS.join(" ")
    );
    let (ok, out) = typed(mx, &line);
    assert!(ok, "{out}");
    assert_eq!(
        out,
        format!("Mail Delivery Status Report will be mailed to <{USER}>.\n")
    );
    if !wait_until(60, || !reports(mx).is_empty()) {
        mx.keep_for_inspection();
        panic!("no report:\n{}", mx.log());
    }
    let report = reports(mx).remove(0);
    (session(mx, &line), in_recipient_order(&report))
}

/// `sendmail FLAG` for the five kinds on a new instance: the report must contain each of
/// `needles`, and the session and the report are the document's `sendmailFLAG` and
/// `sendmailFLAG-report` blocks.
fn walk_report(name: &str, flag: &str, needles: &[&str]) -> Option<Instance> {
    let mx = five_kinds(name)?;
    let (session, report) = report_for(&mx, flag);
    for needle in needles {
        assert!(report.contains(needle), "no {needle:?} in:\n{report}");
    }
    let context = context(&mx);
    howto_doc::check(&format!("sendmail{flag}"), &context, &session);
    howto_doc::check(&format!("sendmail{flag}-report"), &context, &report);
    Some(mx)
}

#[test]
fn t3_sendmail_bv_reports_what_would_happen() {
    let needles = [
        "Subject: Mail Delivery Status Report",
        "Enclosed is the mail delivery report that you requested.",
        "<nobody@mail.e2e.test>: delivery via local: delivers to mailbox",
        "<nobody@mail.e2e.test> (expanded from <staff@mail.e2e.test>): delivery via",
        "(expanded from <postfix@mail.e2e.test>)",
        "forwards to user@vmail.e2e.test",
        "delivers to command: /bin/sh -c",
        "<far@relay.e2e.test>: delivery via 127.0.0.1[127.0.0.1]:",
        "Action: deliverable",
    ];
    let Some(mx) = walk_report("t-54-bv", "-bv", &needles) else {
        return;
    };
    // Nothing was delivered.
    assert!(!mx.dir.join("out/cmd.txt").exists());
    assert!(!mx.dir.join("spool/nobody").exists());
    assert_eq!(mx.mailbox().len(), 1, "only the report");
}

#[test]
fn t3_sendmail_v_delivers_and_reports() {
    let needles = [
        "Enclosed is the mail delivery report that you requested.",
        "<nobody@mail.e2e.test>: delivery via local: delivered to mailbox",
        "<postfix@mail.e2e.test>: delivery via local: forwarded as ",
        "delivered to command: /bin/sh -c",
        "Action: delivered",
        "Action: relayed",
        "250 2.0.0 Ok",
    ];
    let Some(mx) = walk_report("t-54-v", "-v", &needles) else {
        return;
    };
    assert!(wait_until(20, || mx.dir.join("out/cmd.txt").exists()));
    assert!(mx.dir.join("spool/nobody").exists());
}

// ---------------------------------------------------------------------------------------
// "Try turning off chroot operation in master.cf"

fn smtpd_chroot(mx: &Instance, flag: &str) {
    let new = format!("127.0.0.1:@SMTP_PORT@ inet n - {flag} - - smtpd");
    mx.replace_master_cf_line(|l| l.contains(" inet "), &new);
}

/// An unprepared jail breaks the SMTP server (it cannot look its client up); postfix check
/// says so and what to do; chroot off plus `postfix reload` repairs it, and so does chroot
/// on again with `postfix prepare-chroot`.
#[test]
fn t4_chroot_unprepared_then_turned_off() {
    let Some(mut mx) = ironpost_only("t-54-chroot") else {
        return;
    };
    smtpd_chroot(&mx, "y");
    // postfix check writes its warnings to the log (and to a terminal, when there is one).
    let check = session(&mx, "postfix check") + &session(&mx, GREP);
    assert!(
        check.contains("runs chrooted in") && check.contains("postfix prepare-chroot"),
        "postfix check should point at the jail:\n{check}"
    );
    howto_doc::check("chroot-check", &context(&mx), &check);
    mx.start();
    mx.send_local("t54-jail");
    // Inside an empty jail smtpd cannot look the client up.
    mx.wait_log("connect from unknown[127.0.0.1]", 20);

    smtpd_chroot(&mx, "n");
    howto_doc::check(
        "chroot-off",
        &context(&mx),
        &session(&mx, "grep -e ' inet ' @DIR@/etc/master.cf"),
    );
    let (ok, out) = typed(&mx, "postfix reload");
    assert!(ok, "{out}");
    mx.wait_log("reload -- version", 10);
    mx.send_local("t54-nojail");
    mx.wait_log("connect from localhost[127.0.0.1]", 20);

    // Or chroot on again, with the jail prepared as postfix check said.
    smtpd_chroot(&mx, "y");
    for line in ["postfix prepare-chroot", "postfix reload"] {
        let (ok, out) = typed(&mx, line);
        assert!(ok, "{line}: {out}");
    }
    wait_count(&mx, "reload -- version", 2, 10);
    mx.send_local("t54-prepared");
    wait_count(&mx, "connect from localhost[127.0.0.1]", 2, 20);
    // postfix check has nothing more to say about the jail.
    let complaints = || mx.log().matches("runs chrooted in").count();
    let before = complaints();
    let (ok, out) = typed(&mx, "postfix check");
    assert!(ok, "{out}");
    assert_eq!(complaints(), before, "{}", mx.log());
}

// ---------------------------------------------------------------------------------------
// "Verbose logging for specific SMTP connections"

#[test]
fn t5_debug_peer_list_makes_loopback_sessions_verbose() {
    let Some(mut mx) = ironpost_only("t-54-peer") else {
        return;
    };
    mx.start_sink();
    mx.start();
    mx.send(mx.smtp_port, USER, "far@relay.e2e.test", "t54-quiet")
        .unwrap();
    mx.wait_log("status=sent", 30);
    assert!(!mx.log().contains(": < localhost[127.0.0.1]: "), "not yet");

    let mut typed_lines = String::new();
    for line in [
        "postconf -e 'debug_peer_list = 127.0.0.1'",
        "postfix reload",
    ] {
        let (ok, out) = typed(&mx, line);
        assert!(ok, "{out}");
        typed_lines.push_str(&format!("# {line}\n{out}"));
    }
    howto_doc::check("debug-peer-list", &context(&mx), &typed_lines);
    mx.wait_log("reload -- version", 10);
    mx.send(mx.smtp_port, USER, "far@relay.e2e.test", "t54-verbose")
        .unwrap();
    wait_count(&mx, "status=sent", 2, 30);
    let inbound = lines_with(&mx, "postfix/smtpd[")
        .into_iter()
        .filter(|l| {
            l.contains(": < localhost[127.0.0.1]: ") || l.contains(": > localhost[127.0.0.1]: ")
        })
        .collect::<Vec<_>>();
    assert!(
        inbound
            .iter()
            .any(|l| l.contains(&format!("< localhost[127.0.0.1]: mail FROM:<{USER}>"))),
        "{}",
        mx.log()
    );
    let peer = format!("127.0.0.1[127.0.0.1]:{}", mx.sink_port);
    let outbound = lines_with(&mx, "postfix/smtp[")
        .into_iter()
        .filter(|l| l.contains(&format!(": < {peer}: ")) || l.contains(&format!(": > {peer}: ")))
        .collect::<Vec<_>>();
    assert!(
        outbound
            .iter()
            .any(|l| l.contains(&format!("> {peer}: MAIL FROM:<{USER}>"))),
        "{}",
        mx.log()
    );
    let context = context(&mx);
    howto_doc::check("debug-peer-smtpd", &context, &(inbound.join("\n") + "\n"));
    howto_doc::check("debug-peer-smtp", &context, &(outbound.join("\n") + "\n"));
}

// ---------------------------------------------------------------------------------------
// "Record the SMTP session with a network sniffer"

/// The TCP payloads of a pcap file (Ethernet or Linux "cooked" capture of IPv4), as
/// (source port, bytes) in capture order: read here, apart from tcpdump, so that the test
/// checks the file itself.
fn tcp_payloads(pcap: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let u32le = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    assert_eq!(u32le(&pcap[0..4]), 0xa1b2_c3d4, "a little-endian pcap file");
    let link = u32le(&pcap[20..24]);
    let link_header = match link {
        1 => 14,   // Ethernet
        113 => 16, // Linux cooked
        other => panic!("link type {other}"),
    };
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32le(&pcap[at + 8..at + 12]) as usize;
        let packet = &pcap[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        let ip = &packet[link_header..];
        if ip[0] >> 4 != 4 || ip[9] != 6 {
            continue;
        }
        let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
        let tcp = &ip[(ip[0] & 0xf) as usize * 4..total];
        let payload = &tcp[(tcp[12] >> 4) as usize * 4..];
        if !payload.is_empty() {
            out.push((u16::from_be_bytes([tcp[0], tcp[1]]), payload.to_vec()));
        }
    }
    out
}

#[test]
fn t6_tcpdump_records_the_dialogue() {
    let Some(mut mx) = ironpost_only("t-54-tcpdump") else {
        return;
    };
    if !tools(&["tcpdump"]) {
        return;
    }
    mx.start();
    let file = mx.dir.join("smtp.pcap");
    let mut tcpdump = Command::new("tcpdump")
        .args([
            "-w",
            &file.display().to_string(),
            "-s",
            "0",
            "-i",
            "lo",
            "port",
        ])
        .arg(mx.smtp_port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // tcpdump says "listening on lo" once it captures.
    let mut stderr = std::io::BufReader::new(tcpdump.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).unwrap();
    assert!(first.contains("listening on lo"), "{first}");
    mx.send_local("t54-sniffed");
    mx.wait_log("relay=virtual", 30);
    // Ctrl-C, once the capture has caught up (tcpdump reads the kernel's buffer in blocks).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let _ = Command::new("kill")
        .args(["-INT", &tcpdump.id().to_string()])
        .status();
    tcpdump.wait().unwrap();
    let pcap = std::fs::read(&file).unwrap();
    let mut dialogue = String::new();
    for (port, bytes) in tcp_payloads(&pcap) {
        let who = if port == mx.smtp_port { "S: " } else { "C: " };
        for line in String::from_utf8_lossy(&bytes).split_inclusive("\r\n") {
            dialogue.push_str(who);
            dialogue.push_str(line.trim_end_matches("\r\n"));
            dialogue.push('\n');
        }
    }
    for needle in [
        "S: 220 mail.e2e.test ESMTP",
        // Python's smtplib, the client here, writes its commands in lower case.
        "C: mail FROM:<a@example.org>",
        "C: rcpt TO:<user@vmail.e2e.test>",
        "C: Subject: t54-sniffed",
        "S: 250 2.0.0 Ok: queued as ",
        "S: 221 2.0.0 Bye",
    ] {
        assert!(dialogue.contains(needle), "no {needle:?} in\n{dialogue}");
    }
    howto_doc::check("tcpdump-dialogue", &context(&mx), &dialogue);
}

// ---------------------------------------------------------------------------------------
// "Making Postfix daemon programs more verbose"

/// The daemons the Howto names for -v, as master.cf's first words select their lines.
const VERBOSE: [(&str, &str); 6] = [
    ("127.0.0.1:", "smtpd"),
    ("cleanup ", "cleanup"),
    ("rewrite ", "trivial-rewrite"),
    ("qmgr ", "qmgr"),
    ("local ", "local"),
    ("smtp      unix", "smtp"),
];

/// How many log lines each of the VERBOSE daemons wrote.
fn counts(mx: &Instance) -> Vec<usize> {
    VERBOSE
        .iter()
        .map(|(_, name)| mx.log().matches(&format!("postfix/{name}[")).count())
        .collect()
}

/// One message through every VERBOSE daemon: in over SMTP, to a local user and to the
/// relay.
fn one_round(mx: &Instance, marker: &str, sent: usize) {
    let script = "import smtplib, sys\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
        s.sendmail('user@vmail.e2e.test', ['nobody@mail.e2e.test', 'far@relay.e2e.test'], 'Subject: %s\\r\\n\\r\\nbody\\r\\n' % sys.argv[2])\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args(["-c", script, &mx.smtp_port.to_string(), marker])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_count(mx, "status=sent", sent, 30);
    wait_count(mx, ": removed", sent / 2, 30);
}

/// The pid of the smtpd that logged `line`.
fn smtpd_pid(line: &str) -> &str {
    let after = line.split("smtpd[").nth(1).expect("an smtpd line");
    after.split(']').next().unwrap()
}

/// The first lines of the first SMTP session after the reload, from the connection to the
/// client's EHLO: what smtpd -v adds before the dialogue.
fn verbose_session_start(mx: &Instance) -> String {
    let log = mx.log();
    let reloaded = log.rfind("reload -- version").expect("a reload");
    let lines: Vec<&str> = log[reloaded..].lines().collect();
    let first = lines
        .iter()
        .position(|l| l.contains("postfix/smtpd[") && l.ends_with("]: connection established"))
        .unwrap_or_else(|| panic!("no verbose smtpd session:\n{log}"));
    let pid = smtpd_pid(lines[first]);
    let own = format!("postfix/smtpd[{pid}]: ");
    let mut shown = String::new();
    for line in lines[first..].iter().filter(|l| l.contains(&own)) {
        shown.push_str(line);
        shown.push('\n');
        if line.contains(": < localhost[127.0.0.1]: ehlo ") {
            break;
        }
    }
    shown
}

#[test]
fn t7_v_in_master_cf_makes_each_daemon_log_more() {
    let Some(mut mx) = ironpost_only("t-54-verbose") else {
        return;
    };
    mail_spool(&mx);
    mx.start_sink();
    mx.start();
    one_round(&mx, "t54-quiet", 2);
    let before = counts(&mx);

    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    for (start, name) in VERBOSE {
        let line = master_cf
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start} line"));
        assert!(line.ends_with(name), "{line}");
        mx.replace_master_cf_line(|l| l == line, &format!("{line} -v"));
    }
    howto_doc::check("master-cf-v", &context(&mx), &flagged_lines(&mx, "-v"));
    let (ok, out) = typed(&mx, "postfix reload");
    assert!(ok, "{out}");
    mx.wait_log("reload -- version", 10);
    // qmgr and trivial-rewrite are restarted by the reload; the others start per need.
    one_round(&mx, "t54-verbose", 4);
    howto_doc::check("verbose-smtpd", &context(&mx), &verbose_session_start(&mx));
    let after = counts(&mx);
    for (k, (_, name)) in VERBOSE.iter().enumerate() {
        let quiet = before[k];
        let verbose = after[k] - before[k];
        assert!(
            verbose > quiet + 5,
            "{name}: {quiet} lines quiet, {verbose} with -v\n{}",
            mx.log()
        );
    }
}

// ---------------------------------------------------------------------------------------
// "Manually tracing a Postfix daemon process"

#[test]
fn t8_strace_and_ltrace_attach_to_a_daemon() {
    let Some(mut mx) = ironpost_only("t-54-trace") else {
        return;
    };
    if !tools(&["strace", "ltrace"]) {
        return;
    }
    mx.start();
    assert!(wait_until(10, || !mx.daemons("qmgr").is_empty()));
    let pid = mx.daemons("qmgr")[0];
    for (tracer, wanted) in [("strace", "poll("), ("ltrace", "(")] {
        // The tracer's output goes to a file, read while mail keeps qmgr busy: a tracer
        // that reads a large program's symbols first may take seconds to attach.
        let file = mx.dir.join(format!("{tracer}.out"));
        let line = format!("exec timeout 20 {tracer} -p {pid} 2>{}", file.display());
        let mut child = Command::new("sh").args(["-c", &line]).spawn().unwrap();
        let text = || std::fs::read_to_string(&file).unwrap_or_default();
        let mut round = 0;
        let shown = wait_until(18, || {
            round += 1;
            if round % 10 == 1 {
                mx.send_local(&format!("t54-{tracer}-{round}"));
            }
            text().lines().count() > 3 && text().contains(wanted)
        });
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let _ = child.wait();
        assert!(shown, "{tracer} -p {pid} showed little:\n{}", text());
        if tracer == "strace" {
            // What follows the first line depends on what qmgr was doing.
            let first = text().lines().next().unwrap_or_default().to_string();
            howto_doc::check(
                "strace-manual",
                &context(&mx),
                &format!("# strace -p {pid}\n{first}\n[...]\n"),
            );
        }
    }
    // The traced daemon lives on.
    assert!(mx.daemons("qmgr").contains(&pid), "{}", mx.log());
}

// ---------------------------------------------------------------------------------------
// "Automatically tracing a Postfix daemon process" and the debugger recipes: -D on the
// SMTP server and a debugger_command, as the Howto gives them.

/// Adds -D to the SMTP server and sets debugger_command; the system is then started.
fn smtpd_with_debugger(name: &str, command: &str) -> Option<Instance> {
    let mut mx = ironpost_only(name)?;
    mx.replace_master_cf_line(
        |l| l.contains(" inet "),
        "127.0.0.1:@SMTP_PORT@ inet n - n - - smtpd -D",
    );
    mx.add_main_cf(&debugger_setting(command));
    mx.start();
    Some(mx)
}

/// The main.cf text that sets debugger_command to `command`, as the document shows it.
fn debugger_setting(command: &str) -> String {
    format!("debugger_command =\n    {command}\n")
}

/// The recipe as the document shows it (block `tag`): the main.cf lines the test writes.
fn recipe_is_shown(tag: &str, command: &str) {
    howto_doc::check(tag, &Context::default(), &debugger_setting(command));
}

/// The master.cf lines that end in `flag`, as `grep` shows them.
fn flagged_lines(mx: &Instance, flag: &str) -> String {
    session(mx, &format!("grep -e ' {flag}$' @DIR@/etc/master.cf"))
}

/// The Howto pipes the tracer to logger; with maillog_file the log is postlogd's, and
/// postlog is the command that writes to it.
const STRACE_TO_LOG: &str = "PATH=/bin:/usr/bin:$command_directory; (strace -p $process_id 2>&1 | postlog -t strace) & sleep 5";

#[test]
fn t9_strace_to_the_log() {
    if !tools(&["strace"]) {
        return;
    }
    let Some(mx) = smtpd_with_debugger("t-54-strace-log", STRACE_TO_LOG) else {
        return;
    };
    mx.send_local("t54-strace");
    mx.wait_log("relay=virtual", 40);
    let smtpd = lines_with(&mx, "postfix/smtpd[");
    let running = smtpd
        .iter()
        .find(|l| l.contains("]: running: PATH=/bin:/usr/bin:"))
        .unwrap_or_else(|| panic!("no running: line\n{}", mx.log()));
    let pid = smtpd_pid(running);
    let traced = lines_with(&mx, "strace[");
    assert!(
        traced
            .iter()
            .any(|l| l.contains(&format!("strace: Process {pid} attached"))),
        "{}",
        mx.log()
    );
    assert!(
        traced
            .iter()
            .any(|l| l.contains("ehlo") || l.contains("mail FROM")),
        "the trace shows the session's reads:\n{}",
        traced.join("\n")
    );
    let (ok, shown) = typed(&mx, "postconf debugger_command");
    assert!(ok, "{shown}");
    howto_doc::check("master-cf-D", &context(&mx), &flagged_lines(&mx, "-D"));
    howto_doc::check(
        "debugger-strace",
        &context(&mx),
        &session(&mx, "postconf debugger_command"),
    );
}

/// The Howto's non-interactive gdb recipe, word for word, as main.cf continues it.
const GDB_STACK_TRACE: &str = "PATH=/bin:/usr/bin:/usr/local/bin; export PATH; (echo cont; echo\n    \
     where; sleep 8640000) | gdb $daemon_directory/$process_name\n    \
     $process_id 2>&1\n    \
     >$config_directory/$process_name.$process_id.log & sleep 5";

/// The Howto's gdb-in-screen recipe, word for word.
const GDB_IN_SCREEN: &str = "PATH=/bin:/usr/bin:/sbin:/usr/sbin; export PATH; HOME=/root;\n    \
     export HOME; screen -e^tt -dmS $process_name gdb\n    \
     $daemon_directory/$process_name $process_id & sleep 2";

/// The non-interactive gdb recipe, word for word: a crash of the daemon (SIGSEGV, sent
/// here) leaves `where`'s stack trace, with ironpost's function names, in
/// $config_directory/$process_name.$process_id.log.
#[test]
fn t9_gdb_leaves_a_stack_trace_after_a_crash() {
    recipe_is_shown("recipe-gdb", GDB_STACK_TRACE);
    if !tools(&["gdb"]) {
        return;
    }
    let Some(mx) = smtpd_with_debugger("t-54-gdb", GDB_STACK_TRACE) else {
        return;
    };
    // A session that stays open, so that the daemon is there to crash.
    let mut client = std::net::TcpStream::connect(("127.0.0.1", mx.smtp_port)).unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut greeting = [0u8; 64];
    let n = std::io::Read::read(&mut client, &mut greeting).unwrap();
    assert!(greeting[..n].starts_with(b"220 "), "{:?}", &greeting[..n]);
    let pid = mx.daemons("smtpd")[0];
    let file = mx.etc().join(format!("smtpd.{pid}.log"));
    assert!(file.exists(), "no {}", file.display());
    let _ = Command::new("kill")
        .args(["-SEGV", &pid.to_string()])
        .status();
    let stack = || std::fs::read_to_string(&file).unwrap_or_default();
    // gdb writes the frames as it finds them: the whole stack is there once the
    // outermost of the program's own frames is.
    if !wait_until(30, || stack().contains("smtpd::main ()")) {
        mx.keep_for_inspection();
        panic!("no stack trace in {}:\n{}", file.display(), stack());
    }
    let text = stack();
    assert!(text.contains("SIGSEGV"), "{text}");
    assert!(
        text.contains("smtpd::main") && text.contains("server::"),
        "the stack trace names ironpost's functions:\n{text}"
    );
    howto_doc::check(
        "gdb-stack",
        &context(&mx),
        &format!(
            "# cat {}\n{}",
            file.display(),
            stable_frames(&text, &STABLE_FRAMES)
        ),
    );
}

/// The frames of smtpd's stack shown, outermost last: ironpost's own, which an
/// unoptimised build (the tests' profiles, dev and debugging) keeps; the standard
/// library's and the C library's vary with the toolchain and the system.
const STABLE_FRAMES: [&str; 3] = ["smtpd::serve", "server::single::serve", "smtpd::main"];

/// gdb's report of the signal and the frames of `stable`, each without its number,
/// address, arguments and line number; `[...]` marks the lines left out.
fn stable_frames(gdb: &str, stable: &[&str]) -> String {
    // A frame that gdb wraps continues on lines that start with blanks.
    let mut joined: Vec<String> = Vec::new();
    for line in gdb.lines() {
        match joined.last_mut() {
            Some(last) if line.starts_with(' ') => last.push_str(line),
            _ => joined.push(line.to_string()),
        }
    }
    let mut out = String::from("[...]\n");
    for line in &joined {
        let line = line.trim_start_matches("(gdb) ");
        let shown = if line.starts_with("Program received signal") {
            Some(line.to_string())
        } else if line.starts_with('#') {
            let function = line
                .split_once(" in ")
                .map_or(line.split_whitespace().nth(1).unwrap_or(""), |(_, f)| f);
            let name = function.split(['<', ' ', '(']).next().unwrap_or("");
            let file = line
                .rsplit_once(" at ")
                .map(|(_, at)| at.split(':').next().unwrap_or(at).to_string());
            stable.contains(&name).then(|| match file {
                Some(file) => format!("#.. in {name} (...) at {file}"),
                None => format!("#.. in {name} (...)"),
            })
        } else {
            None
        };
        match shown {
            Some(shown) => out.push_str(&format!("{shown}\n")),
            None if !out.ends_with("[...]\n") => out.push_str("[...]\n"),
            None => {}
        }
    }
    out
}

/// screen's start time of a session, `(12/06/26 17:10:54)`, as the document shows it: the
/// time is left to e2e::howto_doc, the date is fixed here.
fn screen_date_normalised(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('(') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let b = rest.as_bytes();
        let date = b.len() >= 9
            && [0, 1, 3, 4, 6, 7].iter().all(|i| b[*i].is_ascii_digit())
            && b[2] == b'/'
            && b[5] == b'/'
            && b[8] == b' ';
        if date {
            out.push_str("01/01/24");
            rest = &rest[8..];
        }
    }
    out.push_str(rest);
    out
}

/// The screen sessions whose gdb was started on daemon `pid` (the recipe's last word),
/// quit when dropped: an assertion that fails mid-test must not leave a gdb attached
/// and a detached screen behind.
struct QuitScreens(u32);

impl Drop for QuitScreens {
    fn drop(&mut self) {
        for gdb in e2e::processes().into_iter().filter(|p| p.argv0 == "gdb") {
            let argv = std::fs::read(format!("/proc/{}/cmdline", gdb.pid)).unwrap_or_default();
            let on_daemon = argv
                .split(|b| *b == 0)
                .rfind(|a| !a.is_empty())
                .is_some_and(|last| last == self.0.to_string().as_bytes());
            if !on_daemon {
                continue;
            }
            // The recipe's session is "-S $process_name": screen's pid and that name.
            let _ = Command::new("screen")
                .args(["-S", &format!("{}.smtpd", gdb.ppid), "-X", "quit"])
                .env("HOME", "/root")
                .output();
            if wait_until(10, || {
                !std::path::Path::new(&format!("/proc/{}", gdb.pid)).exists()
            }) {
                continue;
            }
            // A gdb that outlived its session: ending it detaches it from the daemon.
            let _ = Command::new("kill")
                .args(["-KILL", &gdb.pid.to_string()])
                .output();
        }
    }
}

/// The screen recipe: gdb runs attached in a detached screen session named after the
/// daemon; `screen -r` (here `screen -X stuff`, which types into it) continues the daemon.
#[test]
fn t9_gdb_in_screen_attaches() {
    recipe_is_shown("recipe-gdb-screen", GDB_IN_SCREEN);
    if !tools(&["gdb", "screen"]) {
        return;
    }
    let Some(mx) = smtpd_with_debugger("t-54-screen", GDB_IN_SCREEN) else {
        return;
    };
    let port = mx.smtp_port;
    let client = std::thread::spawn(move || {
        let script = "import smtplib, sys\n\
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60)\n\
            s.sendmail('a@example.org', ['user@vmail.e2e.test'], 'Subject: t54-screen\\r\\n\\r\\nbody\\r\\n')\n\
            s.quit()\n";
        Command::new("python3")
            .args(["-c", script, &port.to_string()])
            .output()
            .unwrap()
    });
    assert!(wait_until(20, || !mx.daemons("smtpd").is_empty()));
    let pid = mx.daemons("smtpd")[0];
    let _quit = QuitScreens(pid);
    // gdb has the daemon stopped: its tracer is a gdb.
    let tracer = || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("TracerPid:").map(|v| v.trim().to_string()))
            .unwrap_or_default()
    };
    assert!(
        wait_until(30, || tracer() != "0" && !tracer().is_empty()),
        "nothing attached to smtpd {pid}\n{}",
        mx.log()
    );
    let gdb = tracer();
    let comm = std::fs::read_to_string(format!("/proc/{gdb}/comm")).unwrap_or_default();
    assert_eq!(comm.trim(), "gdb");
    // The screen session that runs this gdb.
    let session_pid = e2e::processes()
        .into_iter()
        .find(|p| p.pid.to_string() == gdb)
        .map(|p| p.ppid)
        .unwrap();
    let name = format!("{session_pid}.smtpd");
    let screen = |args: &[&str]| {
        Command::new("screen")
            .args(["-S", &name])
            .args(args)
            .env("HOME", "/root")
            .output()
            .unwrap()
    };
    // Typed at the gdb prompt: continue (gdb may still be reading its symbols).
    assert!(wait_until(30, || {
        screen(&["-X", "stuff", "continue\n"]);
        std::thread::sleep(std::time::Duration::from_millis(500));
        mx.log().contains("t54-screen") || mx.log().contains("relay=virtual")
    }));
    mx.wait_log("relay=virtual", 30);
    let sent = client.join().unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let listed = session(&mx, &format!("HOME=/root screen -ls {name}"));
    howto_doc::check(
        "gdb-screen-ls",
        &context(&mx).with(session_pid, "1001"),
        &screen_date_normalised(&listed),
    );
}

// ---------------------------------------------------------------------------------------
// "Unreasonable behavior": the same programs without optimisation.

/// `scripts/install --debugging` builds the debugging profile (opt-level 0) and installs
/// it: its programs keep the tiny generic functions an optimiser inlines away.
#[test]
fn t10_install_debugging_builds_without_optimisation() {
    if !tools(&["nm"]) {
        return;
    }
    let stage = std::path::PathBuf::from(format!(
        "/tmp/ironpost-e2e/t-54-install-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&stage);
    let top = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new(format!("{top}/scripts/install"))
        .args(["--debugging", &stage.display().to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("ironpost (debugging build) installed"));
    // As typed for a real installation: the root is /.
    let stage_root = stage.display().to_string();
    howto_doc::check(
        "install-debugging",
        &Context::default(),
        &format!(
            "# scripts/install --debugging /\n{}",
            said.replace(&format!("under {stage_root}:"), "under /:")
        ),
    );
    let smtpd = stage.join("usr/libexec/ironpost/smtpd");
    let symbols = Command::new("nm")
        .args(["-C"])
        .arg(&smtpd)
        .output()
        .unwrap();
    let symbols = String::from_utf8_lossy(&symbols.stdout);
    // An optimised build (the release profile) inlines these away: none is left.
    assert!(
        symbols.contains("core::option::Option<T>::is_some")
            && symbols.contains("as core::convert::Into<U>>::into"),
        "{} looks optimised",
        smtpd.display()
    );
    let _ = std::fs::remove_dir_all(&stage);
}
