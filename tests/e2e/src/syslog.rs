//! An instance that logs to syslog, for the tests that need a syslog-written mail log
//! (t-65, t-66). This host has no syslog daemon and no /dev/log, and a test must not make
//! one for the whole machine. So the instance's commands run through `unshare --mount` and
//! a script (PRIVATE_DEV) that mounts a private /dev in which /dev/log is the test's own
//! datagram socket; the master started there stays in that namespace with all its daemons,
//! and so do the programs a daemon starts. The test's receiver ([`Syslogd`]) plays the
//! syslog daemon: it keeps each datagram as it came (`log/datagrams`) and writes the mail
//! log as rsyslog writes /var/log/mail.log, twice: `log/maillog` in the traditional format
//! (the datagram's timestamp, the host name, the rest), which is the file the harness's
//! `log()` reads, and `log/maillog-rfc3339` with the RFC 3339 stamps of rsyslog's
//! RSYSLOG_FileFormat (`2026-12-06T17:02:03.123456+00:00 host rest`).
//!
//! Postfix counterpart: none (the test harness's stand-in for rsyslog and /dev/log).

use crate::Instance;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Run by `unshare --mount --propagation private sh PRIVATE_DEV @DIR@ command...`: a /dev
/// with what the daemons, sh, strace and logger use, plus `log`, bound to the socket the
/// test serves at @DIR@/log/dev-log. The new /dev is built aside (an empty directory on the
/// host, a tmpfs only in the namespace) and moved over /dev once complete.
pub const PRIVATE_DEV: &str = r#"set -e
dir=$1
shift
dev=$dir/private-dev
mkdir -p "$dev"
mount -t tmpfs -o mode=755 private-dev "$dev"
for node in null zero full random urandom tty ptmx; do
    touch "$dev/$node"
    mount --bind "/dev/$node" "$dev/$node"
done
for sub in pts shm; do
    mkdir "$dev/$sub"
    mount --rbind "/dev/$sub" "$dev/$sub"
done
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"
touch "$dev/log"
mount --bind "$dir/log/dev-log" "$dev/log"
mount --move "$dev" /dev
exec "$@"
"#;

/// The test's syslog daemon: a thread that receives datagrams on @DIR@/log/dev-log until
/// dropped.
pub struct Syslogd {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Syslogd {
    /// Starts receiving on @DIR@/log/dev-log.
    pub fn start(mx: &Instance) -> Syslogd {
        let path = mx.dir.join("log/dev-log");
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).unwrap();
        // Daemons connect after dropping to the postfix user, as to a real /dev/log.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let raw = mx.dir.join("log/datagrams");
        let file = mx.dir.join("log/maillog");
        let rfc3339 = mx.dir.join("log/maillog-rfc3339");
        let (year, offset) = year_and_offset();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        let host = host.trim().split('.').next().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            let append = |path: &std::path::Path, line: &str| {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap();
                f.write_all(line.as_bytes()).unwrap();
            };
            // After the stop, what is already queued is still taken.
            loop {
                let n = match socket.recv(&mut buf) {
                    Ok(n) => n,
                    Err(_) if stopped.load(Ordering::Relaxed) => break,
                    Err(_) => continue,
                };
                let datagram = String::from_utf8_lossy(&buf[..n]).into_owned();
                append(&raw, &format!("{}\n", datagram.replace('\n', "\\n")));
                // `<pri>Mmm dd HH:MM:SS rest` becomes `Mmm dd HH:MM:SS host rest`.
                let line = match datagram.split_once('>') {
                    Some((_, rest)) if rest.len() > 16 && rest.is_char_boundary(15) => {
                        format!("{} {host} {}", &rest[..15], &rest[16..])
                    }
                    _ => datagram.clone(),
                };
                append(&file, &format!("{}\n", line.trim_end_matches('\n')));
                // rsyslog's RFC 3339 stamp: the date and time the datagram carries (the
                // sender's local time), the year and the fraction of the second it
                // arrived, and the local offset.
                let line = match datagram.split_once('>') {
                    Some((_, rest)) if rest.len() > 16 && rest.is_char_boundary(15) => {
                        let micros = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.subsec_micros());
                        let stamp = rfc3339_stamp(&rest[..15], &year, micros, &offset);
                        format!("{stamp} {host} {}", &rest[16..])
                    }
                    _ => datagram.clone(),
                };
                append(&rfc3339, &format!("{}\n", line.trim_end_matches('\n')));
            }
        });
        Syslogd {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Syslogd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An instance logging to syslog, its commands run in a private mount namespace whose
/// /dev/log is the receiver's. Fields drop in order: the instance stops (and logs its
/// last records) before the receiver goes.
pub struct Syslogged {
    /// The instance.
    pub mx: Instance,
    _syslogd: Syslogd,
}

/// Whether this host can make private mount namespaces; the test is skipped otherwise.
pub fn namespaces_possible() -> bool {
    let ok = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        testkit::skip("needs unshare --mount (util-linux, CAP_SYS_ADMIN)");
    }
    ok
}

/// A stopped instance of `daemons` (ironpost's, or none: Postfix 3.7's alone) that logs to
/// syslog with `facility`.
pub fn syslogged(name: &str, daemons: &[&str], facility: &str) -> Option<Syslogged> {
    if !namespaces_possible() {
        return None;
    }
    let mut mx = Instance::with_daemons(name, daemons)?;
    mx.set_main_cf("maillog_file", "");
    mx.set_main_cf("syslog_facility", facility);
    mx.write("private-dev.sh", PRIVATE_DEV);
    mx.run_through(&[
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "@DIR@/private-dev.sh",
        "@DIR@",
    ]);
    let syslogd = Syslogd::start(&mx);
    Some(Syslogged {
        mx,
        _syslogd: syslogd,
    })
}

/// The datagrams received so far.
pub fn datagrams(mx: &Instance) -> Vec<String> {
    std::fs::read_to_string(mx.dir.join("log/datagrams"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// This year and the local offset from UTC (`+00:00`), as `date` gives them.
fn year_and_offset() -> (String, String) {
    let out = Command::new("date").arg("+%Y %:z").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (year, offset) = text.split_once(' ').unwrap_or(("1970", "+00:00"));
    (year.to_string(), offset.to_string())
}

/// `Mmm dd HH:MM:SS` as `YYYY-MM-DDTHH:MM:SS.micros+HH:MM`.
fn rfc3339_stamp(stamp: &str, year: &str, micros: u32, offset: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS
        .iter()
        .position(|m| stamp.starts_with(m))
        .map_or(1, |m| m + 1);
    let day: u32 = stamp[4..6].trim().parse().unwrap_or(1);
    format!(
        "{year}-{month:02}-{day:02}T{}.{micros:06}{offset}",
        &stamp[7..15]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_stamps() {
        assert_eq!(
            super::rfc3339_stamp("Dec  6 17:02:03", "2026", 123456, "+00:00"),
            "2026-12-06T17:02:03.123456+00:00"
        );
    }
}
