//! Crash reports: what a daemon leaves behind when it panics, gets a fatal signal or hits
//! the watchdog, in `$data_directory/crash/<service>.<pid>.<time>`.
//!
//! Postfix has no counterpart (a Postfix daemon leaves a core file, when the system keeps
//! one, and the master's "killed by signal" line); docs/CRASH_REPORTS.md describes the
//! format. The server skeletons call [`enable`] with the report directory and a header
//! worked out at start-up (program, service, version, configuration fingerprint); from
//! then on this module keeps the process's last log records in a ring and what it is
//! working on (the [`work`] API), both in fixed static buffers of atomics.
//!
//! A report is written by [`report`] from a panic, `msg_panic!`, the watchdog's SIGALRM
//! handler, or the handler of a fatal signal. The writer may therefore only make
//! async-signal-safe calls (`sys::crash`): it formats into stack buffers and never takes
//! a lock or allocates. The backtrace, which needs both (the unwinder and the symbol
//! tables), is made by a copy of the process forked without fork handlers: if the crash
//! left the allocator locked, only that copy hangs, and it is killed after a few
//! seconds, so the daemon still dies of its own signal and the report still has
//! everything else. The report ends with "end of report" once complete.

use std::os::fd::{IntoRawFd, RawFd};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicUsize, Ordering};

/// Bytes of recent log records kept for the report.
const RING_SIZE: usize = 8192;
/// Bytes of the current work description.
const WORK_SIZE: usize = 256;
/// Seconds the backtrace copy may take; below the watchdog's last-resort five seconds, so
/// a watchdog report never turns the daemon's exit into a SIGALRM death.
const BACKTRACE_LIMIT: u32 = 4;

static RING: [AtomicU8; RING_SIZE] = [const { AtomicU8::new(0) }; RING_SIZE];
/// Bytes ever written to the ring; the next byte goes to `RING_POS % RING_SIZE`.
static RING_POS: AtomicUsize = AtomicUsize::new(0);
static WORK: [AtomicU8; WORK_SIZE] = [const { AtomicU8::new(0) }; WORK_SIZE];
/// Length of the work description; 0 = none.
static WORK_LEN: AtomicUsize = AtomicUsize::new(0);
/// The report directory, opened before any chroot; -1 = reports are off.
static DIR: AtomicI32 = AtomicI32::new(-1);
/// The report header and the file name's service part, fixed at [`enable`].
static HEADER: OnceLock<Vec<u8>> = OnceLock::new();
static SERVICE: OnceLock<Vec<u8>> = OnceLock::new();
/// One report per process: a panic's abort must not write a second one.
static REPORTED: AtomicBool = AtomicBool::new(false);
/// The report directory's owner (mail_owner), who gets the reports a daemon running as
/// root writes, so that `postfix check` finds data_directory all mail_owner's.
static DIR_OWNER: OnceLock<(u32, u32)> = OnceLock::new();

/// Turns crash reports on: `dir` is opened now (before a chroot hides it), `service`
/// names the files, `header` is copied into every report. Installs the fatal-signal
/// handlers. Returns an error text when the directory cannot be opened.
pub fn enable(dir: &Path, service: &str, header: String) -> Result<(), String> {
    let handle = std::fs::File::open(dir).map_err(|e| format!("open {}: {}", dir.display(), e))?;
    if let Ok(meta) = handle.metadata() {
        use std::os::unix::fs::MetadataExt;
        let _ = DIR_OWNER.set((meta.uid(), meta.gid()));
    }
    let fd = handle.into_raw_fd();
    if DIR.swap(fd, Ordering::SeqCst) >= 0 {
        return Ok(());
    }
    // '/' would make the name a path; services are master.cf names such as
    // "127.0.0.1:2525" or "smtp".
    let _ = SERVICE.set(service.replace('/', "_").into_bytes());
    let _ = HEADER.set(header.into_bytes());
    sys::crash::install(on_fatal_signal).map_err(|e| format!("sigaction: {e}"))
}

/// Whether reports are on.
pub fn enabled() -> bool {
    DIR.load(Ordering::Relaxed) >= 0
}

fn on_fatal_signal(signal: i32) {
    let mut reason = Buf::<64>::new();
    reason.put(b"signal ");
    reason.num(signal as u64);
    reason.put(b" (");
    reason.put(sys::crash::signal_name(signal).as_bytes());
    reason.put(b")");
    report(reason.bytes());
}

/// Keeps a log record for the next report (the log's `write` calls this under its lock).
pub(crate) fn remember(severity: crate::Severity, text: &str) {
    if !enabled() {
        return;
    }
    let stamp = crate::sinks::timestamp(false);
    let mut pos = RING_POS.load(Ordering::Relaxed);
    for part in [
        stamp.as_bytes(),
        b" ",
        severity.prefix().as_bytes(),
        text.as_bytes(),
        b"\n",
    ] {
        for &b in part {
            RING[pos % RING_SIZE].store(b, Ordering::Relaxed);
            pos = pos.wrapping_add(1);
        }
    }
    RING_POS.store(pos, Ordering::Release);
}

/// What the process is working on, for the report: the programs set it when they take
/// up a message or a session; the server skeletons clear it after each client, so a
/// daemon waiting for work reports none.
pub mod work {
    use super::{WORK, WORK_LEN, WORK_SIZE};
    use std::sync::atomic::Ordering;

    fn set(text: &str) {
        // Cut at WORK_SIZE on a character boundary; a later set replaces an earlier one
        // (one slot per process: a daemon serves one client or one message at a time).
        let mut end = text.len().min(WORK_SIZE);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        WORK_LEN.store(0, Ordering::Release);
        for (slot, &b) in WORK.iter().zip(&text.as_bytes()[..end]) {
            slot.store(b, Ordering::Relaxed);
        }
        WORK_LEN.store(end, Ordering::Release);
    }

    /// Working on the message with this queue id.
    pub fn queue_id(id: &str) {
        set(&format!("queue id {id}"));
    }

    /// Serving the SMTP client `name[addr]` (as "connect from" logs it).
    pub fn session(client: &str) {
        set(&format!("SMTP session with {client}"));
    }

    /// Done: waiting for the next client or message.
    pub fn clear() {
        WORK_LEN.store(0, Ordering::Release);
    }

    /// The current description, for tests.
    pub fn current() -> Option<String> {
        let len = WORK_LEN.load(Ordering::Acquire);
        (len > 0).then(|| {
            let bytes: Vec<u8> = WORK[..len]
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }
}

/// A fixed buffer for formatting without allocation.
struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    fn new() -> Self {
        Buf {
            bytes: [0; N],
            len: 0,
        }
    }

    fn put(&mut self, text: &[u8]) {
        let room = N - self.len;
        let n = text.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&text[..n]);
        self.len += n;
    }

    fn num(&mut self, n: u64) {
        let mut digits = [0u8; 20];
        self.put(crate::decimal::decimal(n, &mut digits).as_bytes());
    }

    /// `n` with at least two digits.
    fn num2(&mut self, n: u64) {
        if n < 10 {
            self.put(b"0");
        }
        self.num(n);
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// UTC civil time of an epoch second: (year, month, day, hour, minute, second), by
/// arithmetic alone (gmtime(3) is not async-signal-safe).
fn utc(epoch: i64) -> (i64, u64, u64, u64, u64, u64) {
    let days = epoch.div_euclid(86400);
    let secs = epoch.rem_euclid(86400) as u64;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3600, secs / 60 % 60, secs % 60)
}

/// The report file's name: `<service>.<pid>.<YYYYMMDDTHHMMSSZ>`.
fn file_name(service: &[u8], pid: u32, epoch: i64) -> Buf<256> {
    let (y, mo, d, h, mi, s) = utc(epoch);
    let mut name = Buf::<256>::new();
    name.put(&service[..service.len().min(200)]);
    name.put(b".");
    name.num(u64::from(pid));
    name.put(b".");
    name.num(y.max(0) as u64);
    name.num2(mo);
    name.num2(d);
    name.put(b"T");
    name.num2(h);
    name.num2(mi);
    name.num2(s);
    name.put(b"Z");
    name
}

/// Writes the report, once per process, when reports are on; returns whether one was
/// written. Async-signal-safe apart from the backtrace copy (see the module comment).
pub fn report(reason: &[u8]) -> bool {
    let dir = DIR.load(Ordering::Relaxed);
    if dir < 0 || REPORTED.swap(true, Ordering::SeqCst) {
        return false;
    }
    let pid = std::process::id();
    let now = sys::crash::epoch_seconds();
    let service = SERVICE.get().map_or(&b"unknown"[..], Vec::as_slice);
    let name = file_name(service, pid, now);
    let fd = sys::crash::create_at(dir, name.bytes());
    if fd < 0 {
        return false;
    }
    if let Some(&(uid, gid)) = DIR_OWNER.get() {
        sys::crash::give_to(fd, uid, gid);
    }
    let out = |bytes: &[u8]| sys::crash::write_all(fd, bytes);
    out(b"ironpost crash report\nreason: ");
    out(reason);
    let mut line = Buf::<80>::new();
    line.put(b"\npid: ");
    line.num(u64::from(pid));
    let (y, mo, d, h, mi, s) = utc(now);
    line.put(b"\ntime: ");
    line.num(y.max(0) as u64);
    line.put(b"-");
    line.num2(mo);
    line.put(b"-");
    line.num2(d);
    line.put(b" ");
    line.num2(h);
    line.put(b":");
    line.num2(mi);
    line.put(b":");
    line.num2(s);
    line.put(b" UTC\n");
    out(line.bytes());
    if let Some(header) = HEADER.get() {
        out(header);
    }
    out(b"work: ");
    write_work(fd);
    out(b"\nlast log records:\n");
    write_ring(fd);
    out(b"backtrace:\n");
    write_backtrace(fd);
    out(b"end of report\n");
    sys::crash::close_fd(fd);
    true
}

fn write_work(fd: RawFd) {
    let len = WORK_LEN.load(Ordering::Acquire);
    if len == 0 {
        sys::crash::write_all(fd, b"none");
        return;
    }
    let mut copy = [0u8; WORK_SIZE];
    for (c, b) in copy.iter_mut().zip(&WORK[..len]) {
        *c = b.load(Ordering::Relaxed);
    }
    sys::crash::write_all(fd, &copy[..len]);
}

/// The ring's records, oldest first, from the first whole line, each indented.
fn write_ring(fd: RawFd) {
    let end = RING_POS.load(Ordering::Acquire);
    let mut pos = end.saturating_sub(RING_SIZE);
    // When the ring wrapped, the oldest record was partly overwritten: start after it.
    let mut skipping = pos > 0;
    let mut line_start = true;
    let mut chunk = [0u8; 256];
    let mut n = 0;
    while pos < end {
        let b = RING[pos % RING_SIZE].load(Ordering::Relaxed);
        pos += 1;
        if skipping {
            skipping = b != b'\n';
            continue;
        }
        if n + 3 > chunk.len() {
            sys::crash::write_all(fd, &chunk[..n]);
            n = 0;
        }
        if line_start {
            chunk[n..n + 2].copy_from_slice(b"  ");
            n += 2;
        }
        chunk[n] = b;
        n += 1;
        line_start = b == b'\n';
    }
    sys::crash::write_all(fd, &chunk[..n]);
}

/// Appends the backtrace, made by a forked copy of this process (see the module
/// comment); the copy's stack is this one, so it unwinds through the same frames.
fn write_backtrace(fd: RawFd) {
    match sys::crash::fork_raw() {
        0 => {
            sys::crash::die_after(BACKTRACE_LIMIT);
            let trace = std::backtrace::Backtrace::force_capture();
            let text = format!("{trace}\n");
            sys::crash::write_all(fd, text.as_bytes());
            sys::crash::exit_child()
        }
        pid if pid > 0 => sys::crash::wait_child(pid),
        _ => sys::crash::write_all(fd, b"  (fork failed: no backtrace)\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(utc(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(utc(1_796_553_458), (2026, 12, 6, 10, 37, 38));
    }

    #[test]
    fn names_are_service_pid_time() {
        let name = file_name(b"127.0.0.1:2525", 42, 1_796_553_458);
        assert_eq!(name.bytes(), b"127.0.0.1:2525.42.20261206T103738Z");
    }

    #[test]
    fn work_is_set_and_cleared() {
        work::queue_id("4ABC123");
        assert_eq!(work::current().as_deref(), Some("queue id 4ABC123"));
        work::session("x[192.0.2.1]");
        assert_eq!(
            work::current().as_deref(),
            Some("SMTP session with x[192.0.2.1]")
        );
        work::clear();
        assert_eq!(work::current(), None);
    }

    /// Runs `name` (a test in this file) in a child process with CRASH_CHILD set to a
    /// fresh report directory; returns its exit status and the reports it left.
    fn run_child(name: &str) -> (std::process::ExitStatus, Vec<String>) {
        use std::os::unix::process::ExitStatusExt as _;
        let dir = std::env::temp_dir().join(format!("log-crash-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env("CRASH_CHILD", &dir)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        let _ = status.signal();
        let reports = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        (status, reports)
    }

    #[inline(never)]
    fn crashing_function_for_the_backtrace() {
        enable(
            Path::new(&std::env::var("CRASH_CHILD").unwrap()),
            "svc/x",
            "program: test\n".into(),
        )
        .unwrap();
        work::session("client.example[192.0.2.1]");
        crate::write(crate::Severity::Warning, "something odd");
        crate::write(crate::Severity::Info, "last words");
        // abort(3) raises SIGABRT in this thread, as a fault would: the backtrace is of
        // the thread that failed.
        std::process::abort();
    }

    #[test]
    fn a_fatal_signal_leaves_a_report_and_still_kills() {
        use std::os::unix::process::ExitStatusExt as _;
        if std::env::var_os("CRASH_CHILD").is_some() {
            crashing_function_for_the_backtrace();
            return;
        }
        let (status, reports) =
            run_child("crash::tests::a_fatal_signal_leaves_a_report_and_still_kills");
        assert_eq!(status.signal(), Some(sys::signals::SIGABRT), "{status:?}");
        assert_eq!(reports.len(), 1, "{reports:?}");
        let report = &reports[0];
        for want in [
            "ironpost crash report\nreason: signal 6 (SIGABRT)\npid: ",
            "\nprogram: test\nwork: SMTP session with client.example[192.0.2.1]\n",
            "warning: something odd\n",
            " last words\nbacktrace:\n",
            "crashing_function_for_the_backtrace",
            "end of report\n",
        ] {
            assert!(report.contains(want), "no {want:?} in:\n{report}");
        }
    }

    #[test]
    fn a_panic_leaves_one_report_and_aborts() {
        use std::os::unix::process::ExitStatusExt as _;
        if std::env::var_os("CRASH_CHILD").is_some() {
            crate::init(Box::new(crate::Capture::default()));
            enable(
                Path::new(&std::env::var("CRASH_CHILD").unwrap()),
                "svc",
                String::new(),
            )
            .unwrap();
            work::queue_id("4XYZ");
            panic!("on purpose");
        }
        let (status, reports) = run_child("crash::tests::a_panic_leaves_one_report_and_aborts");
        assert_eq!(status.signal(), Some(sys::signals::SIGABRT), "{status:?}");
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(
            reports[0].contains("reason: panic: on purpose (at "),
            "{}",
            reports[0]
        );
        assert!(
            reports[0].contains("work: queue id 4XYZ\n"),
            "{}",
            reports[0]
        );
        assert!(reports[0].contains("panic: on purpose"), "{}", reports[0]);
    }
}
