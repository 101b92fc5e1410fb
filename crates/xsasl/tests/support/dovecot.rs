//! A private Dovecot for the tests: auth only, from `tests/support/dovecot.conf`, in its
//! own directory under the system's temporary directory, started with `dovecot -F` and
//! stopped (SIGTERM to its master, which ends its children) when dropped. It needs
//! Debian's dovecot-core and root; without them [`TestDovecot::start`] says why, for
//! `testkit::skip`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const DOVECOT: &str = "/usr/sbin/dovecot";

/// A running test Dovecot.
pub struct TestDovecot {
    dir: PathBuf,
    child: Option<Child>,
}

impl TestDovecot {
    /// Starts one; `Err` is the reason it cannot run here.
    pub fn start() -> Result<TestDovecot, String> {
        if !Path::new(DOVECOT).exists() {
            return Err(format!(
                "{DOVECOT} is not installed (Debian's dovecot-core)"
            ));
        }
        if sys::geteuid() != 0 {
            return Err("Dovecot's master must run as root".into());
        }
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "xsasl-dovecot-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["run", "state"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
        }
        let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
        let conf = std::fs::read_to_string(support.join("dovecot.conf"))
            .map_err(|e| e.to_string())?
            .replace("@DIR@", &dir.display().to_string());
        std::fs::write(dir.join("dovecot.conf"), conf).map_err(|e| e.to_string())?;
        std::fs::copy(support.join("passwd"), dir.join("passwd")).map_err(|e| e.to_string())?;
        let mut dovecot = TestDovecot { dir, child: None };
        dovecot.run()?;
        Ok(dovecot)
    }

    fn run(&mut self) -> Result<(), String> {
        let _ = std::fs::remove_file(self.socket());
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("{DOVECOT}: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.socket().exists() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default();
                return Err(format!("Dovecot did not create its auth socket: {log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// The auth socket (smtpd_sasl_path).
    pub fn socket(&self) -> PathBuf {
        self.dir.join("auth")
    }

    /// Stops the server: its socket goes and every connection is closed. The auth
    /// process can outlive its master for a while and keep answering on connections it
    /// has, so it and its siblings are killed by their ids too.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let children = children_of(child.id());
            let _ = sys::process::kill(child.id(), libc::SIGTERM);
            for pid in children {
                let _ = sys::process::kill(pid, libc::SIGKILL);
            }
            let _ = child.wait();
        }
        // The master removes its listeners on the way out; make sure a restart is seen.
        let _ = std::fs::remove_file(self.socket());
    }

    /// Starts the server again after [`TestDovecot::stop`].
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.run()
    }
}

/// The processes whose parent is `parent`, from /proc.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // "pid (comm) state ppid ...": comm may hold spaces, so count from its ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            ppid == Some(parent)
        })
        .collect()
}

impl Drop for TestDovecot {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
