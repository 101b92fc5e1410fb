//! t-40: the log is an API. The programs people point at a Postfix log read ironpost's
//! log as they read Postfix 3.7's: pflogsumm (Debian's package) reports the same numbers,
//! and fail2ban's postfix filter (Debian's fail2ban, `fail2ban-regex` in each mode) finds
//! the same offenders, the same number of times.
//!
//! The same workload goes through an instance of ironpost's programs and through an
//! instance of Postfix's own (its master started with /usr/sbin/postfix): mail delivered to
//! a mailbox, deferred (nobody listens on the relay's port), bounced (an error: transport,
//! submitted with sendmail) with its notice back to the sender, held or discarded
//! (header_checks HOLD, DISCARD), rejected at RCPT (unknown users, from 127.0.0.5), failed
//! SASL logins through a private Dovecot (from 127.0.0.6 and .8, and an unoffered mechanism
//! from .15), a client that hangs up after EHLO (.7), one that sends unknown commands until
//! smtpd_hard_error_limit (.9), relaying refused (.11), commands pipelined before the EHLO
//! reply (.12) or with DATA (.25, refused by reject_unauth_pipelining), a bounce to two
//! recipients (.26, refused at DATA by reject_multi_recipient_bounce), and through a
//! second, chrooted smtpd resolving through a loopback DNS server (e2e::dns) one client per
//! kind of reject: an RBL listing (.10), a client access REJECT (.14) and a warn_if_reject
//! one (.22), HELO names that are no FQDN (.16), invalid (.17) or not found (.18), senders
//! unqualified (.19) or whose domain is not found (.20), an unqualified recipient (.21), a
//! recipient whose verification probe bounces (.23 while it is under way, .24 after); and a
//! script's fatal error and panic recorded with postlog. So every regex line of every mode
//! of the fail2ban filter finds someone, and each section of pflogsumm's report has
//! something in it but "smtp delivery failures", which reads connect errors in a form
//! Postfix 3.7 no longer logs. Only Debian's fail2ban-regex is run, never the fail2ban
//! service.

use e2e::{Instance, System, dovecot, wait_until};
use std::process::Command;

/// ironpost's delivery agents and bounce service, on top of the default set, so that every
/// line of the workload's log is written by an ironpost program.
const MORE_DAEMONS: [&str; 4] = ["bounce", "error", "virtual", "smtp"];

/// One SMTP client session: `mail FROM TO SUBJECT`, `auth USER PASSWORD`, `errors`, `talk
/// WRITE...` or `ehlo` (EHLO and hang up), from a chosen loopback address. Prints
/// smtplib's error, if any, or for `talk` every reply.
const CLIENT: &str = r#"
import base64, smtplib, socket, sys
port, source, action = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP('127.0.0.1', port, timeout=30, source_address=(source, 0))
if action == 'mail':
    sender, rcpt, subject = sys.argv[4:7]
    msg = 'From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nbody\r\n' % (sender, rcpt, subject)
    try:
        s.sendmail(sender, [rcpt], msg)
    except Exception as e:
        print(e)
    s.quit()
elif action == 'auth':
    # One AUTH PLAIN, where smtplib's login() would go on to try every mechanism.
    s.ehlo('client.e2e.test')
    token = base64.b64encode(('\0%s\0%s' % (sys.argv[4], sys.argv[5])).encode()).decode()
    code, text = s.docmd('AUTH', 'PLAIN ' + token)
    if code != 235:
        print(code, text.decode())
    s.quit()
elif action == 'errors':
    # Unknown commands until smtpd_hard_error_limit ends the session.
    s.ehlo('client.e2e.test')
    try:
        for _ in range(5):
            s.docmd('XYZZY')
    except Exception:
        pass
elif action == 'talk':
    # Each argument is one write of CRLF-ended commands (several, newline-separated,
    # are pipelined), and the replies to all of them are read before the next write.
    for write in sys.argv[4:]:
        commands = write.split('\n')
        s.send(''.join(c + '\r\n' for c in commands))
        for _ in commands:
            code, text = s.getreply()
            print(code, text.decode().replace('\n', ' '))
    s.close()
else:
    s.ehlo('client.e2e.test')
    s.sock.shutdown(socket.SHUT_RDWR)
    s.sock.close()
"#;

fn client(mx: &Instance, source: &str, args: &[&str]) -> String {
    client_at(mx.smtp_port, source, args)
}

fn client_at(port: u16, source: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .args(["-c", CLIENT, &port.to_string(), source])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Where the loopback DNS server listens (other tests use other addresses).
const DNS_ADDR: &str = "127.0.0.140";

/// The DNS server's zone: the block list and the names the restricted listener's
/// clients use that must resolve; everything else is NXDOMAIN.
const ZONE: &str = r#"{
    "10.0.0.127.rbl.e2e.test": [["A", "127.0.0.2"], ["TXT", "listed for testing"]],
    "client.e2e.test": [["A", "192.0.2.1"]],
    "vmail.e2e.test": [["A", "192.0.2.2"]]
}"#;

/// The restrictions of the second, chrooted smtpd (it resolves through the test's DNS
/// server, see queue/etc/resolv.conf): one per kind of reject, each client address
/// meeting one of them (see the workload).
const RESTRICTED: [(&str, &str); 9] = [
    (
        "smtpd_client_restrictions",
        "check_client_access,texthash:@DIR@/etc/clients,warn_if_reject,\
         check_client_access,texthash:@DIR@/etc/warn_clients,reject_rbl_client,rbl.e2e.test",
    ),
    (
        "smtpd_helo_restrictions",
        "reject_invalid_helo_hostname,reject_non_fqdn_helo_hostname,\
         reject_unknown_helo_hostname",
    ),
    (
        "smtpd_sender_restrictions",
        "reject_non_fqdn_sender,reject_unknown_sender_domain",
    ),
    // Before the relay check, which would otherwise refuse the unqualified recipient.
    (
        "smtpd_relay_restrictions",
        "reject_non_fqdn_recipient,permit_mynetworks,defer_unauth_destination",
    ),
    // Address verification for one recipient only (an access table's restriction).
    (
        "smtpd_recipient_restrictions",
        "check_recipient_access,texthash:@DIR@/etc/verified",
    ),
    (
        "smtpd_data_restrictions",
        "reject_unauth_pipelining,reject_multi_recipient_bounce",
    ),
    // A bounced probe refuses for good; the first question, asked once, always finds the
    // probe under way (the answer does not race the probe).
    ("unverified_recipient_reject_code", "550"),
    ("address_verify_poll_count", "1"),
    // Dovecot's socket is outside the jail.
    ("smtpd_sasl_auth_enable", "no"),
];

/// The instance's settings for the workload; `restricted` is the second smtpd's port.
fn configure(mx: &Instance, dovecot: &dovecot::TestDovecot, restricted: u16) {
    mx.write("etc/clients", "127.0.0.14 REJECT\n");
    mx.write("etc/warn_clients", "127.0.0.22 REJECT\n");
    mx.write(
        "etc/verified",
        "x@bounce.e2e.test reject_unverified_recipient\n",
    );
    e2e::dns::resolve_in_jail(mx, DNS_ADDR);
    let options: String = RESTRICTED
        .iter()
        .map(|(name, value)| format!(" -o {name}={}", mx.expand(value)))
        .collect();
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!("{master_cf}127.0.0.1:{restricted} inet n - y - - smtpd{options}\n"),
    );
    // Only the clients named in the workload relay (none does).
    mx.set_main_cf("mynetworks", "127.0.0.1/32");
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             bounce.e2e.test error:5.1.1 mailbox unavailable\n",
        ),
    );
    mx.write(
        "etc/header_checks",
        "/^Subject: hold-me/ HOLD\n/^Subject: discard-me/ DISCARD\n",
    );
    mx.set_main_cf("relay_domains", "relay.e2e.test, bounce.e2e.test");
    mx.set_main_cf("header_checks", "regexp:@DIR@/etc/header_checks");
    mx.set_main_cf("smtpd_hard_error_limit", "3");
    mx.set_main_cf("smtpd_sasl_auth_enable", "yes");
    mx.set_main_cf("smtpd_sasl_type", "dovecot");
    mx.set_main_cf("smtpd_sasl_path", &dovecot.socket().display().to_string());
}

/// The workload, waiting until the log shows every message's fate.
fn workload(mx: &Instance, restricted: u16, system: System) {
    let me = "user@vmail.e2e.test";
    let mut errors = Vec::new();
    for n in 0..3 {
        errors.push(client(
            mx,
            "127.0.0.1",
            &["mail", me, me, &format!("delivered {n}")],
        ));
    }
    for n in 0..2 {
        errors.push(client(
            mx,
            "127.0.0.1",
            &["mail", me, "r@relay.e2e.test", &format!("later {n}")],
        ));
    }
    // Submitted locally: smtpd refuses an error: transport's recipients at RCPT (Postfix's
    // does; ironpost's smtpd does not yet), and the bounce must come from the agent.
    let out = mx.sendmail(
        &["-f", me, "x@bounce.e2e.test"],
        "Subject: bounced\n\nbody\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    errors.push(client(mx, "127.0.0.1", &["mail", me, me, "hold-me"]));
    errors.push(client(mx, "127.0.0.1", &["mail", me, me, "discard-me"]));
    assert!(
        errors.iter().all(String::is_empty),
        "{errors:?}\n{}",
        mx.log()
    );
    for who in ["nosuch", "nobody-here"] {
        let rcpt = format!("{who}@vmail.e2e.test");
        let error = client(mx, "127.0.0.5", &["mail", me, &rcpt, "rejected"]);
        assert!(error.contains("550"), "{error}");
    }
    // Two addresses: Dovecot delays the answers to one address more after each failure,
    // until smtpd gives up on it.
    for (source, password) in [
        ("127.0.0.6", "wrong"),
        ("127.0.0.6", "worse"),
        ("127.0.0.8", "bad"),
    ] {
        let error = client(mx, source, &["auth", "alice", password]);
        assert!(error.contains("535"), "{error}");
    }
    client(mx, "127.0.0.7", &["ehlo"]);
    client(mx, "127.0.0.9", &["errors"]);
    let ehlo = "EHLO client.e2e.test";
    let from = "MAIL FROM:<user@vmail.e2e.test>";
    let to = "RCPT TO:<user@vmail.e2e.test>";
    // Relaying refused, commands sent before the EHLO reply, an unoffered mechanism.
    for (source, writes, reply) in [
        (
            "127.0.0.11",
            [ehlo, from, "RCPT TO:<x@elsewhere.example>"],
            "454 4.7.1 <x@elsewhere.example>: Relay access denied",
        ),
        (
            "127.0.0.12",
            [&format!("{ehlo}\n{from}"), to, "RSET"],
            "250 2.1.5 Ok",
        ),
        (
            "127.0.0.15",
            [ehlo, "AUTH DIGEST-MD5", "NOOP"],
            "535 5.7.8 Error: authentication failed: Invalid authentication mechanism",
        ),
    ] {
        let replies = client(mx, source, &[&["talk"], &writes[..], &["QUIT"]].concat());
        assert!(replies.contains(reply), "{source}: {replies}");
    }
    // Through the restricted smtpd, one reject each, at RCPT (smtpd_delay_reject).
    for (source, helo, sender, rcpt, reply) in [
        (
            "127.0.0.10",
            ehlo,
            from,
            to,
            "554 5.7.1 Service unavailable",
        ),
        (
            "127.0.0.14",
            ehlo,
            from,
            to,
            "554 5.7.1 <unknown[127.0.0.14]>",
        ),
        ("127.0.0.16", "EHLO nofqdn", from, to, "504 5.5.2 <nofqdn>"),
        (
            "127.0.0.17",
            "EHLO bad..name",
            from,
            to,
            "501 5.5.2 <bad..name>",
        ),
        (
            "127.0.0.18",
            "EHLO nosuch.e2e.test",
            from,
            to,
            "450 4.7.1 <nosuch.e2e.test>",
        ),
        (
            "127.0.0.19",
            ehlo,
            "MAIL FROM:<x@nofqdn>",
            to,
            "504 5.5.2 <x@nofqdn>",
        ),
        (
            "127.0.0.20",
            ehlo,
            "MAIL FROM:<x@nosuch.e2e.test>",
            to,
            "450 4.1.8 <x@nosuch.e2e.test>",
        ),
        (
            "127.0.0.21",
            ehlo,
            from,
            "RCPT TO:<user@nofqdn>",
            "504 5.5.2 <user@nofqdn>",
        ),
        // warn_if_reject: logged, not refused.
        ("127.0.0.22", ehlo, from, to, "250 2.1.5 Ok"),
    ] {
        let replies = client_at(restricted, source, &["talk", helo, sender, rcpt, "QUIT"]);
        assert!(replies.contains(reply), "{source}: {replies}");
    }
    // DATA pipelined with the message (.25), refused.
    let talk = ["talk", ehlo, from, to, "DATA\nSubject: early", "QUIT"];
    let replies = client_at(restricted, "127.0.0.25", &talk);
    let improper = "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command \
                    pipelining";
    assert!(replies.contains(improper), "{replies}");
    // A bounce to two recipients (.26): its 550 at DATA is what fail2ban's "Data command
    // rejected" finds.
    let talk = ["talk", ehlo, "MAIL FROM:<>", to, to, "DATA", "QUIT"];
    let replies = client_at(restricted, "127.0.0.26", &talk);
    let bounce = "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce";
    assert!(replies.contains(bounce), "{replies}");
    // A recipient whose verification probe bounces: in progress (.23), then undeliverable
    // once the probe's result is in (.24).
    let rcpt = "RCPT TO:<x@bounce.e2e.test>";
    let talk = ["talk", ehlo, from, rcpt, "QUIT"];
    let replies = client_at(restricted, "127.0.0.23", &talk);
    let in_progress = "450 4.1.1 <x@bounce.e2e.test>: Recipient address rejected: \
                       unverified address: Address verification in progress";
    assert!(replies.contains(in_progress), "{replies}");
    let probed = wait_until(30, || mx.log().contains("status=undeliverable"));
    assert!(probed, "no probe result:\n{}", mx.log());
    let replies = client_at(restricted, "127.0.0.24", &talk);
    let undeliverable = "550 5.1.1 <x@bounce.e2e.test>: Recipient address rejected: \
                         undeliverable address: mailbox unavailable";
    assert!(replies.contains(undeliverable), "{replies}");
    // A script's fatal error and panic, as postlog(1) records them: each system's own.
    for (severity, text) in [
        ("fatal", "t40 cannot go on"),
        ("panic", "t40 impossible state"),
    ] {
        let args = ["-t", "postfix/t40", "-p", severity, text];
        match system {
            System::Ironpost => mx.command("postlog", &args),
            System::Postfix => mx.run_with_input("/usr/sbin/postlog", &args, b""),
        };
    }
    // Delivered: three and the bounce notice; deferred: two; bounced: one; held: one.
    let done = wait_until(60, || {
        let log = mx.log();
        log.matches("status=sent").count() >= 4
            && log.matches("status=deferred").count() >= 2
            && log.contains("status=bounced")
            && log.contains(": hold: header Subject: hold-me")
            && log.contains(": discard: header Subject: discard-me")
            && log.contains("lost connection after EHLO from unknown[127.0.0.7]")
            && log.contains("too many errors after UNKNOWN from unknown[127.0.0.9]")
            && log.contains("panic: t40 impossible state")
            && log.contains("disconnect from unknown[127.0.0.22]")
    });
    if !done {
        mx.keep_for_inspection();
        panic!("the workload did not finish:\n{}", mx.log());
    }
    // Nothing more is coming (the next deferred-queue run is minutes away).
    std::thread::sleep(std::time::Duration::from_secs(2));
}

/// Both logs after the workload, ironpost's first.
fn logs(
    name: &str,
) -> Option<(
    Instance,
    Instance,
    [dovecot::TestDovecot; 2],
    e2e::dns::DnsServer,
)> {
    for program in ["/usr/sbin/pflogsumm", "/usr/bin/fail2ban-regex"] {
        if !e2e::have(program) {
            testkit::skip(format!(
                "{program} is not installed (Debian's pflogsumm, fail2ban)"
            ));
            return None;
        }
    }
    // One Dovecot each, so that the failures of the first run do not slow the second.
    let dovecots = match (dovecot::TestDovecot::start(), dovecot::TestDovecot::start()) {
        (Ok(a), Ok(b)) => [a, b],
        (Err(reason), _) | (_, Err(reason)) => {
            testkit::skip(reason);
            return None;
        }
    };
    let daemons: Vec<&str> = e2e::IRONPOST_DAEMONS
        .into_iter()
        .chain(MORE_DAEMONS)
        .collect();
    let mut ours = Instance::with_daemons(&format!("{name}-ip"), &daemons)?;
    let theirs = Instance::with_daemons(&format!("{name}-pf"), &[])?;
    let restricted = [e2e::free_port(), e2e::free_port()];
    configure(&ours, &dovecots[0], restricted[0]);
    configure(&theirs, &dovecots[1], restricted[1]);
    let queries = ours.dir.join("log/dns-queries");
    let dns = e2e::dns::DnsServer::start(DNS_ADDR, ZONE, &queries)?;
    ours.start();
    workload(&ours, restricted[0], System::Ironpost);
    theirs.start_postfix();
    workload(&theirs, restricted[1], System::Postfix);
    Some((ours, theirs, dovecots, dns))
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// pflogsumm's report without what differs between any two runs of the same workload:
/// the per-hour and per-day tables, times and durations, the relay's port, the instance's
/// directory and the version; without the warnings postfix-script logs about the test's
/// set-up (its daemon directory of symbolic links, its jail), not the workload; and with
/// the lines of each section sorted, as pflogsumm lists equal counts in Perl's hash order,
/// which changes from run to run. Every other line, each section's counts, stays.
fn pflogsumm(mx: &Instance) -> String {
    let log = mx.dir.join("log/maillog").display().to_string();
    let report = run(
        "/usr/sbin/pflogsumm",
        &["--verbose-msg-detail", "--smtpd-stats", &log],
    );
    let dir = mx.dir.display().to_string();
    let port = format!(":{}:", mx.sink_port);
    let mut sections: Vec<Vec<String>> = vec![Vec::new()];
    // Inside a per-hour or per-day table: its title, whether its rows have begun, and
    // the sums of its count columns (which hour a count falls in is the clock's doing,
    // the sums are the workload's).
    let mut table: Option<(String, bool, Vec<u64>)> = None;
    let mut set_up = false;
    for line in report.lines() {
        if line.starts_with("Per-Hour") || line.starts_with("Per-Day") {
            table = Some((line.trim().to_string(), false, Vec::new()));
            continue;
        }
        if let Some((title, rows, sums)) = table.as_mut() {
            let hour = line.split_whitespace().next().is_some_and(|first| {
                first.len() == 9 && first.chars().filter(char::is_ascii_digit).count() == 8
            });
            if hour {
                let counts = line
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|t| t.parse().ok());
                for (at, count) in counts.enumerate() {
                    match sums.get_mut(at) {
                        Some(sum) => *sum += count,
                        None => sums.push(count),
                    }
                }
            }
            // A table ends at the blank line after its rows.
            if line.is_empty() && *rows {
                if !sums.is_empty() {
                    let sums: Vec<String> = sums.iter().map(u64::to_string).collect();
                    sections.push(vec![format!("{title}, summed: {}", sums.join(" "))]);
                    sections.push(Vec::new());
                }
                table = None;
            } else {
                *rows |= !line.is_empty();
            }
            continue;
        }
        // postfix-script's group of warnings: its total line and the deeper lines under it.
        if line.starts_with("  postfix-script (total:") {
            set_up = true;
            continue;
        }
        if set_up && line.starts_with("    ") {
            continue;
        }
        set_up = false;
        if line.contains("connect time") {
            continue;
        }
        if line.is_empty() {
            sections.push(Vec::new());
            continue;
        }
        let line = line.replace(&dir, "DIR").replace(&port, ":PORT:");
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let duration = |i: usize| {
            let t = tokens[i];
            let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
            t.split(':').count() == 3 && t.split(':').all(digits)
                || t.strip_suffix('s').is_some_and(digits)
                || t.split_once('.')
                    .is_some_and(|(a, b)| digits(a) && digits(b))
                    && tokens.get(i + 1) == Some(&"s")
        };
        let mut words: Vec<&str> = (0..tokens.len())
            .map(|i| if duration(i) { "T" } else { tokens[i] })
            .collect();
        if let Some(at) = words.iter().position(|w| *w == "version") {
            words.truncate(at + 1);
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        sections
            .last_mut()
            .unwrap()
            .push(format!("{indent}{}", words.join(" ")));
    }
    let mut out = String::new();
    for lines in sections.into_iter().filter(|lines| !lines.is_empty()) {
        // A section's title and its underline stay at its head.
        let head = match lines.get(1) {
            Some(line) if line.chars().all(|c| c == '-') => 2,
            _ => 0,
        };
        let (title, rows) = lines.split_at(head);
        for line in title.iter().cloned().chain(sorted(rows)) {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// Where a report line's text sits: its indentation, or for a line that opens with a
/// count, where the count ends (pflogsumm right-aligns counts of any width).
fn depth(line: &str) -> usize {
    let indent = line.len() - line.trim_start().len();
    let first = line.split_whitespace().next().unwrap_or("");
    if first.chars().all(|c| c.is_ascii_digit()) {
        indent + first.len()
    } else {
        indent
    }
}

/// A section's lines, each with the deeper lines under it (a reject reason's clients),
/// in sorted order at every level, each line then without its indentation.
fn sorted(lines: &[String]) -> Vec<String> {
    let Some(top) = lines.iter().map(|l| depth(l)).min() else {
        return Vec::new();
    };
    let mut units: Vec<Vec<String>> = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let end = (at + 1..lines.len())
            .find(|&i| depth(&lines[i]) <= top)
            .unwrap_or(lines.len());
        let mut unit = vec![lines[at].split_whitespace().collect::<Vec<_>>().join(" ")];
        unit.extend(
            sorted(&lines[at + 1..end])
                .into_iter()
                .map(|l| format!("  {l}")),
        );
        units.push(unit);
        at = end;
    }
    units.sort();
    units.concat()
}

#[test]
fn pflogsumm_and_fail2ban_read_ironpost_s_log_as_postfix_s() {
    let Some((ours, theirs, _dovecot, _dns)) = logs("t-40") else {
        return;
    };
    let (a, b) = (pflogsumm(&ours), pflogsumm(&theirs));
    if a != b {
        ours.keep_for_inspection();
        theirs.keep_for_inspection();
    }
    assert_eq!(a, b, "pflogsumm differs");
    // Each section has something to compare: the totals, the connections, each detail
    // section's groups and the warnings, fatal errors and panics.
    for needle in [
        "12 received",
        "4 delivered",
        "2 deferred (2 deferrals)",
        "1 bounced",
        "15 rejected (75%)",
        "1 reject warnings",
        "1 held",
        "1 discarded (5%)",
        "30 connections",
        "22 hosts/domains",
        "Per-Hour Traffic Summary, summed: 12 4 2 1 18",
        "Per-Hour SMTPD Connection Summary, summed: 30",
        "4 3187 0 T s T s vmail.e2e.test",
        "6 2055 vmail.e2e.test",
        "2 T T T 127.0.0.6",
        "6 user@vmail.e2e.test",
        "smtp (total: 2)",
        "none (total: 1)",
        "1 127.0.0.22",
        "header (total: 1)",
        "1 Subject: discard-me from localhost[127.0.0.1]; from=<user@vmail.e2e.test> \
         to=<user@vmail.e2e.test> proto=ESMTP helo=<[127.0.0.1]>",
        "smtpd (total: 5)",
        "DATA",
        "1 127.0.0.25",
        "1 127.0.0.26",
        "1 t40 cannot go on",
        "1 t40 impossible state",
    ] {
        assert!(
            a.lines().any(|l| l.trim() == needle),
            "no {needle:?} in\n{a}"
        );
    }

    for mode in [
        "normal",
        "auth",
        "rbl",
        "more",
        "ddos",
        "extra",
        "aggressive",
        "errors",
    ] {
        let filter = format!("/etc/fail2ban/filter.d/postfix.conf[mode={mode}]");
        let offenders = |mx: &Instance| {
            let log = mx.dir.join("log/maillog").display().to_string();
            let mut ips: Vec<String> = run("/usr/bin/fail2ban-regex", &["-o", "ip", &log, &filter])
                .lines()
                .map(String::from)
                .collect();
            ips.sort();
            ips
        };
        let (a, b) = (offenders(&ours), offenders(&theirs));
        if a != b {
            ours.keep_for_inspection();
            theirs.keep_for_inspection();
        }
        assert_eq!(a, b, "fail2ban mode {mode}");
        // Who each mode finds (the last byte of 127.0.0.x), once per matching line, so that
        // every regex line of every mode finds someone. normal's first line: the RBL
        // listing (.10), relaying (.11), a client access reject (.14), the HELO that is no
        // FQDN (.16) and the one not found (.18), the sender domain not found (.20), the
        // undeliverable address (.24), the multi-recipient bounce (.26) and the unknown
        // users (.5); its second: pipelining before the EHLO reply (.12) and with DATA
        // (.25), and the error limit (.9). Not the invalid HELO (.17, a 501), the
        // unqualified sender and recipient (.19, .21: "address", not "hostname"), the
        // reject warning (.22) nor the verification in progress (.23). rbl: the listed
        // client. auth: the failed logins (.6, .8) but not the mechanism Dovecot does not
        // offer (.15), which only auth2 (aggressive) counts. ddos: the sessions with failed
        // logins (auth=0/1) and the hang-up (.7). errors: .9.
        let reject = [10, 11, 12, 14, 16, 18, 20, 24, 25, 26, 5, 5, 9];
        let auth = [6, 6, 8];
        let ddos = [15, 6, 6, 7, 8];
        let expected: Vec<u8> = match mode {
            "normal" | "more" => reject.to_vec(),
            "rbl" => vec![10],
            "auth" => auth.to_vec(),
            "ddos" => ddos.to_vec(),
            "extra" => [&reject[..], &auth].concat(),
            "aggressive" => [&reject[..], &auth, &[15], &ddos].concat(),
            "errors" => vec![9],
            _ => unreachable!(),
        };
        let mut expected: Vec<String> = expected
            .into_iter()
            .map(|n| format!("127.0.0.{n}"))
            .collect();
        expected.sort();
        assert_eq!(a, expected, "fail2ban mode {mode}");
    }
}
