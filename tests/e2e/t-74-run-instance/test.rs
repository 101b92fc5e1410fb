//! t-74: scripts/run-instance as README.md tells a user to run it. The script installs
//! the programs under DIR/root, writes DIR/etc and runs the master in the foreground; one
//! message sent with Python's smtplib to its SMTP port must land in the instance's Maildir,
//! the daemon directory must hold only ironpost's programs (no symlink into Debian's
//! /usr/lib/postfix, which the script once borrowed daemons from), and "postfix stop"
//! must leave no process of the instance behind.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The script's instance, stopped (and its leftovers killed) when the test ends, pass or
/// fail, so that a failure does not leave a master listening.
struct Running {
    dir: PathBuf,
    script: Child,
}

impl Running {
    fn postfix(&self, args: &[&str]) -> std::process::ExitStatus {
        Command::new(self.dir.join("root/usr/sbin/postfix"))
            .arg("-c")
            .arg(self.dir.join("etc"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
    }

    /// The output so far: the script's messages and, after the start, the maillog.
    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.with_extension("out")).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.dir.join("root/usr/sbin/postfix").exists() {
            let _ = self.postfix(&["stop"]);
        }
        // The script is its own process group leader: nothing it started survives this.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.script.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.script.wait();
        for pid in processes_under(&self.dir) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// The processes whose program is a file under `dir` (the installed master and daemons).
fn processes_under(dir: &Path) -> Vec<u32> {
    e2e::processes()
        .into_iter()
        .filter(|p| Path::new(&p.exe).starts_with(dir))
        .map(|p| p.pid)
        .collect()
}

/// The symlinks in the daemon directory that point into Debian's Postfix.
fn borrowed_daemons(libexec: &Path) -> Vec<String> {
    std::fs::read_dir(libexec)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let target = std::fs::read_link(e.path()).ok()?;
            target
                .starts_with("/usr/lib/postfix")
                .then(|| format!("{} -> {}", e.path().display(), target.display()))
        })
        .collect()
}

/// Sends one message with Python's smtplib, as a user's script would.
fn send(port: u16, subject: &str) -> Result<(), String> {
    let program = format!(
        "import smtplib\n\
         from email.message import EmailMessage\n\
         m = EmailMessage()\n\
         m['From'] = 'sender@localhost'\n\
         m['To'] = 'user@localhost'\n\
         m['Subject'] = '{subject}'\n\
         m.set_content('hello from t-74')\n\
         with smtplib.SMTP('127.0.0.1', {port}, timeout=30) as s:\n\
         \x20   s.send_message(m)\n"
    );
    let out = Command::new("python3")
        .args(["-c", &program])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn run_instance_delivers_with_ironposts_daemons_only() {
    if !testkit::require_root() {
        return;
    }
    if Command::new("python3").arg("-V").output().is_err() {
        testkit::skip("needs python3 (its smtplib is the client)");
        return;
    }
    let dir = PathBuf::from(format!("/tmp/ironpost-e2e/t74-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // An instance made by the old script: a borrowed daemon it must now remove.
    let libexec = dir.join("root/usr/libexec/ironpost");
    std::fs::create_dir_all(&libexec).unwrap();
    std::os::unix::fs::symlink(
        "/usr/lib/postfix/sbin/postscreen",
        libexec.join("postscreen"),
    )
    .unwrap();
    let port = e2e::free_port();
    let script = format!("{}/../../scripts/run-instance", env!("CARGO_MANIFEST_DIR"));
    let out = std::fs::File::create(dir.with_extension("out")).unwrap();
    let child = Command::new(script)
        .arg(&dir)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .process_group(0)
        .spawn()
        .unwrap();
    let mut running = Running { dir, script: child };

    // The script first builds and installs the release programs: that can take a while.
    let started = e2e::wait_until(1800, || {
        running.output().contains("daemon started -- version")
            || running.script.try_wait().unwrap().is_some()
    });
    let output = running.output();
    assert!(
        started && output.contains("daemon started -- version"),
        "the instance did not start:\n{output}"
    );
    let borrowed = borrowed_daemons(&libexec);
    assert!(
        borrowed.is_empty(),
        "the daemon directory borrows Postfix's programs:\n{}",
        borrowed.join("\n")
    );
    assert!(libexec.join("smtpd").is_file() && libexec.join("tlsmgr").is_file());

    send(port, "t-74 run-instance").unwrap();
    let new = running.dir.join("mail/inbox/new");
    let delivered = e2e::wait_until(60, || {
        std::fs::read_dir(&new).is_ok_and(|mut d| d.next().is_some())
    });
    assert!(
        delivered,
        "nothing in {}:\n{}",
        new.display(),
        running.output()
    );
    let file = std::fs::read_dir(&new).unwrap().flatten().next().unwrap();
    let message = std::fs::read_to_string(file.path()).unwrap();
    assert!(
        message.contains("Subject: t-74 run-instance\n"),
        "{message}"
    );
    assert!(message.contains("hello from t-74"), "{message}");

    // Every process the instance ran is ironpost's, from DIR/root.
    let ours = processes_under(&running.dir);
    assert!(
        ours.len() >= 2,
        "no master and daemons from {}",
        running.dir.display()
    );

    assert!(running.postfix(&["stop"]).success());
    let ended = e2e::wait_until(30, || running.script.try_wait().unwrap().is_some());
    assert!(
        ended,
        "run-instance still runs after postfix stop:\n{}",
        running.output()
    );
    let left = e2e::wait_until(10, || processes_under(&running.dir).is_empty());
    assert!(
        left,
        "processes left after postfix stop: {:?}",
        processes_under(&running.dir)
    );
    // Passed: nothing to keep for inspection.
    let dir = running.dir.clone();
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(dir.with_extension("out"));
}
