//! LMTP into a real Dovecot (Debian's dovecot-lmtpd), over a UNIX-domain socket and over
//! TCP, differential: the same mail through Postfix's lmtp and through ironpost's. Each
//! side starts its own Dovecot in a private directory (its users in a passwd-file, their
//! maildirs under the directory). A message to a known user, to a user Dovecot does not
//! know (550 at RCPT: bounced), to a user whose mailbox Dovecot cannot write (a
//! temporary error after the message: deferred), and one message to several of them
//! over one connection; lmtp_generic_maps rewrites the sender and lmtp_header_checks
//! warns about one Subject: and replaces another. The client's status and check lines
//! (relay, dsn, status and Dovecot's text, Dovecot's session IDs, the private paths and
//! delays left out), the bounce notices, and what arrived in each maildir are compared.

use e2e::dovecot::Running;
use e2e::{free_port, wait_until};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The private Dovecot: LMTP only, on a UNIX-domain socket and a TCP port.
const DOVECOT_CONF: &str = "\
protocols = lmtp
base_dir = @DIR@/run
state_dir = @DIR@/state
log_path = @DIR@/dovecot.log
instance_name = @NAME@
ssl = no
mail_location = maildir:@DIR@/mail/%n
first_valid_uid = 1
# Dovecot's auth wants a passdb even when only the userdb is asked.
passdb {
  driver = passwd-file
  args = username_format=%n @DIR@/users
}
userdb {
  driver = passwd-file
  args = username_format=%n @DIR@/users
}
service lmtp {
  unix_listener @DIR@/lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = @PORT@
  }
}
";

/// A running Dovecot, stopped when dropped.
struct TestDovecot {
    running: Running,
    port: u16,
}

impl TestDovecot {
    /// Starts one for `name`; Err is why it cannot run here.
    fn start(name: &str) -> Result<TestDovecot, String> {
        if !Path::new("/usr/lib/dovecot/lmtp").exists() {
            return Err("Dovecot's LMTP server is not installed (Debian's dovecot-lmtpd)".into());
        }
        let dir = PathBuf::from(format!(
            "/tmp/ironpost-e2e/{name}-dovecot-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["run", "state", "mail", "mail/carol"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
        }
        // alice's mail is written as nobody; carol's directory is nobody's but not
        // writable, so Dovecot fails to deliver there.
        let chown = |path: &Path| {
            Command::new("chown")
                .arg("nobody:nogroup")
                .arg(path)
                .status()
                .map_err(|e| e.to_string())
        };
        chown(&dir.join("mail"))?;
        chown(&dir.join("mail/carol"))?;
        std::fs::set_permissions(
            dir.join("mail/carol"),
            std::os::unix::fs::PermissionsExt::from_mode(0o500),
        )
        .map_err(|e| e.to_string())?;
        let port = free_port();
        let conf = DOVECOT_CONF
            .replace("@DIR@", &dir.display().to_string())
            .replace("@NAME@", &format!("{name}-{}", std::process::id()))
            .replace("@PORT@", &port.to_string());
        std::fs::write(dir.join("dovecot.conf"), conf).map_err(|e| e.to_string())?;
        let home = dir.join("mail").display().to_string();
        std::fs::write(
            dir.join("users"),
            format!(
                "alice:x:65534:65534::{home}/alice::\n\
                 carol:x:65534:65534::{home}/carol::\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        let running = Running::start(
            dir,
            |dir| {
                dir.join("lmtp").exists()
                    && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            },
            "its LMTP server",
        )?;
        Ok(TestDovecot { running, port })
    }

    /// The LMTP socket.
    fn socket(&self) -> PathBuf {
        self.running.dir.join("lmtp")
    }

    /// The messages in `user`'s maildir (new/), their bodies' last lines sorted.
    fn delivered(&self, user: &str) -> Vec<String> {
        let mut seen: Vec<String> =
            std::fs::read_dir(self.running.dir.join("mail").join(user).join("new"))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .map(|m| {
                    m.lines()
                        .filter(|l| {
                            l.starts_with("Subject:")
                                || l.starts_with("Delivered-To:")
                                || l.starts_with("Return-Path:")
                        })
                        .collect::<Vec<_>>()
                        .join(" | ")
                })
                .collect();
        seen.sort();
        seen
    }
}

/// What one run saw: status lines, notices, alice's messages.
type Seen = (Vec<String>, Vec<String>, Vec<String>);

fn run(ours: bool) -> Option<Seen> {
    let side = if ours { "ours" } else { "postfix" };
    let dovecot = match TestDovecot::start(&format!("t-48-{side}")) {
        Ok(d) => d,
        Err(why) => {
            testkit::skip(why);
            return None;
        }
    };
    let mut mx = e2e::client::instance("t-48", ours, "lmtp")?;
    mx.set_main_cf("transport_maps", "texthash:@DIR@/etc/transport");
    // The lmtp_* twins of the client's content parameters.
    mx.write(
        "etc/generic",
        "user@vmail.e2e.test sender@generic.e2e.test\n",
    );
    mx.write(
        "etc/hc",
        "/^Subject: t48-0$/ WARN lmtp warned\n/^Subject: several/ REPLACE Subject: replaced\n",
    );
    mx.set_main_cf("lmtp_generic_maps", "texthash:@DIR@/etc/generic");
    mx.set_main_cf("lmtp_header_checks", "regexp:@DIR@/etc/hc");
    mx.write(
        "etc/transport",
        &format!(
            "unix.e2e.test lmtp:unix:{}\ntcp.e2e.test lmtp:inet:127.0.0.1:{}\n",
            dovecot.socket().display(),
            dovecot.port
        ),
    );
    mx.start();
    let cases = [
        ("alice@unix.e2e.test", "status=sent"),
        ("alice@tcp.e2e.test", "status=sent"),
        ("bob@unix.e2e.test", "status=bounced"),
        ("bob@tcp.e2e.test", "status=bounced"),
        ("carol@unix.e2e.test", "status=deferred"),
    ];
    for (n, (to, want)) in cases.iter().enumerate() {
        mx.send(mx.smtp_port, "user@vmail.e2e.test", to, &format!("t48-{n}"))
            .unwrap();
        let needle = format!("to=<{to}>");
        if !wait_until(30, || {
            mx.log()
                .lines()
                .any(|l| l.contains(&needle) && l.contains(want))
        }) {
            mx.keep_for_inspection();
            panic!("no {want} for {to}:\n{}", mx.log());
        }
    }
    // One message, one connection, three fates.
    let many = [
        "alice@tcp.e2e.test",
        "bob@tcp.e2e.test",
        "carol@tcp.e2e.test",
    ];
    e2e::client::send_to_many(&mx, "several", &many);
    if !wait_until(30, || {
        let log = mx.log();
        log.lines()
            .filter(|l| l.contains("postfix/lmtp[") && l.contains(" to=<"))
            .count()
            >= cases.len() + many.len()
    }) {
        mx.keep_for_inspection();
        panic!("statuses missing:\n{}", mx.log());
    }
    // Two bounce notices for bob, one for the message to three.
    wait_until(30, || mx.mailbox().len() >= 3);
    let dir = dovecot.running.dir.display().to_string();
    let log = mx.log();
    // Status lines, and the header checks' lines without their queue IDs.
    let mut status: Vec<String> = log
        .lines()
        .filter(|l| l.contains("postfix/lmtp[") && (l.contains(" to=<") || l.contains(": header ")))
        .map(|l| {
            let from = l.find("to=<").or_else(|| {
                let header = l.find(": header ")?;
                l[..header].rfind(": ").map(|at| at + 2)
            });
            normalize(&l[from.unwrap_or(0)..], &dir, dovecot.port)
        })
        .collect();
    status.sort();
    let notices =
        e2e::delivered::notice_lines(&mx.mailbox(), &[], |l| normalize(l, &dir, dovecot.port));
    Some((status, notices, dovecot.delivered("alice")))
}

/// A line without delays, Dovecot's session IDs and time stamps, its directory and
/// port.
fn normalize(line: &str, dir: &str, port: u16) -> String {
    let mut out = line
        .replace(dir, "DOVECOT")
        .replace(&format!(":{port}"), ":PORT");
    if let (Some(a), Some(b)) = (out.find(", delay="), out.find(", dsn=")) {
        out.replace_range(a..b, "");
    }
    // "<alice@...> 0AbCdEf+ZWf/Xg... Saved": the session's ID.
    let words: Vec<String> = out
        .split(' ')
        .map(|w| {
            if w.len() >= 20
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/".contains(&b))
            {
                "ID".to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    out = words.join(" ");
    // "[2026-12-06 13:18:15]" in an internal error.
    let mut from = 0;
    while let Some(a) = out[from..].find("[20").map(|a| from + a) {
        let Some(b) = out[a..].find(']').map(|b| a + b) else {
            break;
        };
        out.replace_range(a..=b, "[TIME]");
        from = a + "[TIME]".len();
    }
    out
}

#[test]
fn lmtp_into_dovecot_equal_postfix() {
    let Some(postfix) = run(false) else { return };
    let Some(ours) = run(true) else { return };
    assert!(
        postfix.0.iter().any(|l| l.contains("status=sent"))
            && postfix
                .0
                .iter()
                .any(|l| l.contains("status=bounced") && l.contains("550"))
            && postfix.0.iter().any(|l| l.contains("status=deferred")),
        "{postfix:#?}"
    );
    assert_eq!(postfix.2.len(), 3, "{postfix:#?}");
    assert!(
        postfix
            .0
            .iter()
            .any(|l| l == "warning: header Subject: t48-0: lmtp warned")
            && postfix
                .2
                .iter()
                .all(|m| m.contains("Return-Path: <sender@generic.e2e.test>"))
            && postfix.2.iter().any(|m| m.contains("Subject: replaced")),
        "{postfix:#?}"
    );
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
    assert_eq!(ours.2, postfix.2);
}
