//! A private Dovecot (auth only) for the tests of smtpd's AUTH (t-24) and of the SASL
//! faults posttriage names (t-57), from crates/xsasl's test configuration and password
//! file (user alice, password secret), in its own directory; stopped when dropped.
//! Missing Dovecot or root: [`TestDovecot::start`] says why, for testkit::skip.
//! [`Running`] runs any configuration (t-48's LMTP server too).
//!
//! Postfix counterpart: none (test support).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

const DOVECOT: &str = "/usr/sbin/dovecot";

/// A running test Dovecot.
pub struct TestDovecot {
    running: Running,
}

impl TestDovecot {
    /// Starts one; `Err` is the reason it cannot run here.
    pub fn start() -> Result<TestDovecot, String> {
        if !Path::new(DOVECOT).exists() {
            return Err(format!(
                "{DOVECOT} is not installed (Debian's dovecot-core)"
            ));
        }
        let support =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/xsasl/tests/support");
        // One per test: the tests of this file run in parallel.
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = PathBuf::from(format!(
            "/tmp/ironpost-e2e/dovecot-auth-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["run", "state"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
        }
        let conf = std::fs::read_to_string(support.join("dovecot.conf"))
            .map_err(|e| e.to_string())?
            .replace("@DIR@", &dir.display().to_string());
        std::fs::write(dir.join("dovecot.conf"), conf).map_err(|e| e.to_string())?;
        std::fs::copy(support.join("passwd"), dir.join("passwd")).map_err(|e| e.to_string())?;
        let running = Running::start(dir, |dir| dir.join("auth").exists(), "its auth socket")?;
        Ok(TestDovecot { running })
    }

    /// The auth socket (smtpd_sasl_path).
    pub fn socket(&self) -> PathBuf {
        self.running.dir.join("auth")
    }
}

/// Dovecot's master on `dir/dovecot.conf`, in the foreground; stopped, and its directory
/// removed, when dropped.
pub struct Running {
    /// The directory of its configuration, sockets and state.
    pub dir: PathBuf,
    child: Child,
}

impl Running {
    /// Starts Dovecot and waits until `ready(dir)`; `Err` names `what` did not come up,
    /// with Dovecot's log.
    pub fn start(
        dir: PathBuf,
        ready: impl Fn(&Path) -> bool,
        what: &str,
    ) -> Result<Running, String> {
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{DOVECOT}: {e}"))?;
        let running = Running { dir, child };
        if !crate::wait_until(20, || ready(&running.dir)) {
            let log = std::fs::read_to_string(running.dir.join("dovecot.log")).unwrap_or_default();
            return Err(format!(
                "Dovecot did not create {what} (root needed?): {log}"
            ));
        }
        Ok(running)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SIGTERM: Dovecot's master ends its auth processes itself.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
